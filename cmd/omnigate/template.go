package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/templates"
)

// templateCmd: template list | show | put FILE | delete | preview
// (docs/templates.md). put reads the JSON the API takes.
func templateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("template: say list, show, put, delete or preview")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("template "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id (required)")
	name := fs.String("name", "", "the template (show, delete, preview; put: default the file's)")
	language := fs.String("language", "", "preview: the language wanted (fr-CA falls back to fr, then the default)")
	vars := fs.String("vars", "", `preview: the variables as JSON, e.g. {"first_name":"Ann"}`)
	rest := args[1:]
	var file string
	if args[0] == "put" {
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return usagef("template put FILE --account ID (FILE: JSON with name, defaultLanguage, variables, variants)")
		}
		file, rest = args[1], args[2:]
	}
	if err := parse(fs, rest, stderr); err != nil {
		return err
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		if _, err := st.GetAccount(ctx, *account); err != nil {
			return accountErr(err, *account)
		}
		svc := templates.New(st)
		switch args[0] {
		case "list":
			list, err := svc.List(ctx, *account, 1000, 0)
			if err != nil {
				return err
			}
			return printJSON(stdout, list)
		case "show":
			t, err := svc.Get(ctx, *account, *name)
			if err != nil {
				return err
			}
			return printJSON(stdout, t)
		case "delete":
			if err := svc.Delete(ctx, *account, *name); err != nil {
				return err
			}
			return printJSON(stdout, map[string]string{"deleted": *name})
		case "preview":
			v := map[string]string{}
			if *vars != "" {
				if err := json.Unmarshal([]byte(*vars), &v); err != nil {
					return usagef("--vars: give a JSON object of strings: %v", err)
				}
			}
			r, err := svc.Render(ctx, *account, *name, *language, v)
			if err != nil {
				return err
			}
			return printJSON(stdout, r)
		case "put":
			b, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			var t store.Template
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&t); err != nil {
				return fmt.Errorf("template put %s: %w", file, err)
			}
			if *name != "" {
				t.Name = *name
			}
			t.AccountID = *account
			created, err := svc.Put(ctx, &t)
			if err != nil {
				return usageError{err}
			}
			return printJSON(stdout, map[string]any{"created": created, "template": t})
		}
		return usagef("template: unknown subcommand %q (list, show, put, delete, preview)", args[0])
	})
}
