package main

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/verify"
)

// verifyCmd: verify settings | set | blocks | unblock — the fraud
// protection of one-time codes (docs/verify.md). The admin API's routes do
// the same.
func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("verify: say settings, set, blocks or unblock")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("verify "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (settings, set: required; blocks: only this account's)")
	settings := fs.String("settings", "", `set: the settings as JSON, e.g. '{"countries":["NL","BE"],"perNumber":3}'`)
	all := fs.Bool("all", false, "blocks: lifted ones too")
	id := fs.String("id", "", "unblock: the block's id")
	operator := fs.String("operator", "", "unblock: who lifts it (default $USER)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		switch args[0] {
		case "settings", "set":
			if _, err := st.GetAccount(ctx, *account); err != nil {
				return accountErr(err, *account)
			}
			if args[0] == "set" {
				var s store.VerifySettings
				if err := json.Unmarshal([]byte(*settings), &s); err != nil {
					return usagef("--settings: %v", err)
				}
				if err := verify.CheckSettings(&s); err != nil {
					return usagef("--settings: %v", err)
				}
				if err := st.SetVerifySettings(ctx, *account, &s); err != nil {
					return err
				}
			}
			s, err := st.GetVerifySettings(ctx, *account)
			if err != nil {
				return err
			}
			return printJSON(stdout, s)
		case "blocks":
			list, err := st.VerifyBlocks(ctx, *account, *all)
			if err != nil {
				return err
			}
			if list == nil {
				list = []store.VerifyBlock{}
			}
			return printJSON(stdout, list)
		case "unblock":
			if *id == "" {
				return usagef("verify unblock --id BLOCK")
			}
			by := *operator
			if by == "" {
				by = os.Getenv("USER")
			}
			b, err := verify.LiftBlock(ctx, st, *id, "operator:"+by, time.Now().UTC())
			if err != nil {
				return err
			}
			return printJSON(stdout, b)
		}
		return usagef("verify: say settings, set, blocks or unblock")
	})
}
