package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// secretsCmd manages the keys that encrypt secrets at rest (docs/operations.md,
// "Secrets at rest"):
//
//	omnigate secrets status
//	omnigate secrets rotate [--new-master-key-file FILE]
//	omnigate secrets retire-master --id MASTER_KEY_ID
//	omnigate secrets generate --out FILE
func secretsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("secrets: say status, rotate, retire-master or generate")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("secrets "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	switch args[0] {
	case "status":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			status, err := app.Keys(ctx, st)
			if err != nil {
				return err
			}
			return printJSON(stdout, status)
		})
	case "rotate":
		newFile := fs.String("new-master-key-file", "", "also move to this master key (made with `omnigate secrets generate`); the current one keeps working until retired")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		var newMaster keyring.Wrapper
		if *newFile != "" {
			m, loose, err := keyring.LoadMasterFile(*newFile)
			if err != nil {
				return usagef("secrets rotate: --new-master-key-file: %v", err)
			}
			if loose {
				fmt.Fprintf(stderr, "omnigate: warning: %s can be read by other users: chmod 600 it\n", *newFile)
			}
			newMaster = m
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			rot, err := app.RotateKeys(ctx, st, newMaster)
			if err != nil {
				return err
			}
			if rot.OldMasterID != "" {
				fmt.Fprintf(stderr, "omnigate: now restart every node with --master-key-file %s, then run\n"+
					"  omnigate secrets retire-master --id %s --master-key-file %s\n", *newFile, rot.OldMasterID, *newFile)
			}
			return printJSON(stdout, rot)
		})
	case "retire-master":
		id := fs.String("id", "", "the old master key's id (secrets rotate printed it as old_master_key_id) (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *id == "" {
			return usagef("secrets retire-master: --id is required")
		}
		return withStore(ctx, cfg, func(st *sqlstore.Store) error {
			n, err := app.RetireMaster(ctx, st, *id)
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]any{"retired_master_key_id": *id, "wrappings_deleted": n})
		})
	case "generate":
		out := fs.String("out", "", "file to write the new master key to, readable by its owner only; never overwritten (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *out == "" {
			return usagef("secrets generate: --out is required")
		}
		m, err := keyring.GenerateMasterFile(*out)
		if err != nil {
			return fmt.Errorf("secrets generate: %w", err)
		}
		return printJSON(stdout, map[string]string{"file": *out, "master_key_id": m.ID()})
	}
	return usagef("secrets: unknown subcommand %q (status, rotate, retire-master, generate)", args[0])
}
