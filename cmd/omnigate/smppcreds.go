package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/smppserver"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// smppCmd manages the SMPP server's credentials:
//
//	omnigate smpp credentials --account ID [--rotate] [--allow-ip A,B] [--max-rate N] [--window N]
func smppCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "credentials" {
		return usagef("usage: omnigate smpp credentials --account ID [--rotate] [--allow-ip ADDR,CIDR…] [--max-rate N] [--window N]")
	}
	var cfg app.Config
	var account, allow string
	var opts smppserver.IssueOptions
	fs := flag.NewFlagSet("smpp credentials", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	fs.StringVar(&account, "account", "", "account id (required)")
	fs.BoolVar(&opts.Rotate, "rotate", false, "make a new password (the old one stops working)")
	fs.StringVar(&allow, "allow-ip", "", "comma-separated addresses or CIDR prefixes binds may come from (\"any\": every address)")
	fs.IntVar(&opts.MaxRate, "max-rate", 0, "submits per second across the account's binds (0: keep; default 200)")
	fs.IntVar(&opts.Window, "window", 0, "requests in flight per bind, at most 100 (0: keep; default 10)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	if account == "" {
		return usagef("smpp credentials: --account is required")
	}
	switch allow {
	case "":
	case "any":
		opts.AllowIPs = []string{}
	default:
		for _, a := range strings.Split(allow, ",") {
			if a = strings.TrimSpace(a); a != "" {
				opts.AllowIPs = append(opts.AllowIPs, a)
			}
		}
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, account); err != nil {
			return accountErr(err, account)
		}
		out, err := smppserver.Issue(ctx, st, account, opts)
		if err != nil {
			return err
		}
		c := out.Credential
		fmt.Fprintf(stdout, "system_id:  %s\n", out.SystemID)
		if out.Password != "" {
			fmt.Fprintf(stdout, "password:   %s   (shown once; kept hashed)\n", out.Password)
		} else {
			fmt.Fprintf(stdout, "password:   (unchanged; --rotate makes a new one)\n")
		}
		ips := "any"
		if len(c.AllowedIPs) > 0 {
			ips = strings.Join(c.AllowedIPs, ",")
		}
		fmt.Fprintf(stdout, "allowed IP: %s\nmax rate:   %s\nwindow:     %s\n", ips, orDefault(c.MaxRate, smppserver.DefaultMaxRate), orDefault(c.Window, smppserver.DefaultWindow))
		return nil
	})
}

func orDefault(v, def int) string {
	if v > 0 {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%d (default)", def)
}
