package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/users"
)

// userCmd is `omnigate user …`: console users for operators to bootstrap
// (docs/console.md).
func userCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("user: say create, list, invite, reset-2fa, reset-password or seats")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	svc := func(st *sqlstore.Store, publicURL string) *users.Service {
		return users.New(users.Config{PublicURL: publicURL}, st, nil, nil, nil, nil, nil)
	}
	switch args[0] {
	case "create":
		acct := fs.String("account", "", "the account the user belongs to; empty: an operator (role operator)")
		email := fs.String("email", "", "the user's email (required; their sign-in name)")
		name := fs.String("name", "", "the user's name")
		role := fs.String("role", "", "owner, admin, developer, compliance, billing; operator without --account")
		password := fs.String("password", "", `the password ("-" reads it from standard input); empty: one is made and printed`)
		totp := fs.Bool("totp", false, "give the user a TOTP second factor (always for operators)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *email == "" {
			return usagef("user create: --email is required")
		}
		if *role == "" && *acct == "" {
			*role = users.RoleOperator
		}
		pw, made, err := readPassword(*password)
		if err != nil {
			return err
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			u, err := svc(st, "").Create(ctx, users.NewUser{AccountID: *acct, Email: *email, Name: *name, Role: *role, Password: pw, TOTP: *totp, Actor: "cli"})
			if err != nil {
				return err
			}
			out := map[string]any{"id": u.ID, "account": u.AccountID, "email": u.Email, "role": u.Role}
			if made {
				out["password"] = pw
			}
			if u.TOTPSecret != "" {
				out["totp_secret"] = u.TOTPSecret
				out["totp_uri"] = users.TOTPURI("omnigate", u.Email, u.TOTPSecret)
			}
			return printJSON(stdout, out)
		})
	case "list":
		acct := fs.String("account", "", "the account; empty: the operators")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			us, err := st.ListUsers(ctx, *acct)
			if err != nil {
				return err
			}
			out := make([]map[string]any, 0, len(us))
			for _, u := range us {
				m := map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role, "two_factor": u.TOTPSecret != "",
					"created": u.CreatedAt.Format(time.RFC3339)}
				if u.Locked() {
					m["locked"] = u.LockedAt.Format(time.RFC3339)
				}
				out = append(out, m)
			}
			return printJSON(stdout, out)
		})
	case "invite":
		acct := fs.String("account", "", "the account (required)")
		email := fs.String("email", "", "whom to invite (required)")
		role := fs.String("role", "owner", "owner, admin, developer, compliance or billing")
		publicURL := fs.String("public-url", "http://localhost:8080", "where the console is reached, for the link")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *acct == "" || *email == "" {
			return usagef("user invite: --account and --email are required")
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			link, err := svc(st, *publicURL).InviteAs(ctx, *acct, *email, *role, "cli")
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]string{"email": *email, "role": *role, "link": link})
		})
	case "reset-2fa":
		email := fs.String("email", "", "the user (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *email == "" {
			return usagef("user reset-2fa: --email is required")
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			secret, err := svc(st, "").ResetTOTP(ctx, *email, "cli")
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]string{"email": *email, "totp_secret": secret, "totp_uri": users.TOTPURI("omnigate", strings.ToLower(*email), secret)})
		})
	case "reset-password":
		email := fs.String("email", "", "the user (required); a locked user is unlocked")
		password := fs.String("password", "", `the new password ("-" reads it from standard input); empty: one is made and printed`)
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *email == "" {
			return usagef("user reset-password: --email is required")
		}
		pw, made, err := readPassword(*password)
		if err != nil {
			return err
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			if err := svc(st, "").ResetPassword(ctx, *email, pw, "cli"); err != nil {
				return err
			}
			out := map[string]string{"email": *email}
			if made {
				out["password"] = pw
			}
			return printJSON(stdout, out)
		})
	case "seats":
		acct := fs.String("account", "", "the account (required)")
		seats := fs.Int("seats", 0, "named users the plan allows (required)")
		start := fs.String("term-start", "", "the current term's start, YYYY-MM-DD")
		end := fs.String("term-end", "", "the current term's end, YYYY-MM-DD (seats added before it are prorated to it)")
		price := fs.Int64("seat-price", 0, "a seat's price for a full term, in micro-units of the account's currency")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *acct == "" || *seats == 0 {
			return usagef("user seats: --account and --seats are required")
		}
		p := store.Seats{AccountID: *acct, Seats: *seats, SeatPrice: *price}
		for s, t := range map[string]*time.Time{*start: &p.TermStart, *end: &p.TermEnd} {
			if s == "" {
				continue
			}
			v, err := time.Parse("2006-01-02", s)
			if err != nil {
				return usagef("user seats: dates are YYYY-MM-DD")
			}
			*t = v
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			if _, err := st.GetAccount(ctx, *acct); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("user seats: no account %q", *acct)
			}
			if err := svc(st, "").SetPlan(ctx, p, "cli"); err != nil {
				return err
			}
			return printJSON(stdout, p)
		})
	}
	return usagef("user: unknown subcommand %q (create, list, invite, reset-2fa, reset-password, seats)", args[0])
}

// readPassword is the flag's password, standard input's first line for
// "-", or a new random one (made true).
func readPassword(flagValue string) (pw string, made bool, err error) {
	switch flagValue {
	case "":
		return ids.Secret(20), true, nil
	case "-":
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, err
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	return flagValue, false, nil
}
