package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/numbers"
	"github.com/omnigate/omnigate/internal/store"
)

// numbersCmd manages the numbers inventory (docs/numbers.md): import,
// list, assign, release, history. `numbers assign` is `number add`: both
// give a number to an account without billing it.
func numbersCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("numbers: say import, list, assign, release or history")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("numbers "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	file := fs.String("file", "", "import: the CSV file ("+numbers.CSVColumns+"); - for stdin")
	account := fs.String("account", "", "account id (list: that account's numbers; release: all of them, when closing it)")
	number := fs.String("number", "", "the number (international digits, or a short code)")
	country := fs.String("country", "", "list: numbers of this country (ISO 3166 code)")
	available := fs.Bool("available", false, "list: only numbers no account has")
	reason := fs.String("reason", "", "release: why (kept in the number's history)")
	progress := progressFlag(fs)
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	switch args[0] {
	case "import", "list", "assign", "release", "history":
	default:
		return usagef("numbers: unknown subcommand %q (import, list, assign, release, history)", args[0])
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := numbers.New(numbers.Config{}, st, nil)
	switch args[0] {
	case "import":
		if *file == "" {
			return usagef("numbers import: --file is required")
		}
		f, size, err := openImport(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		var added int64
		im, err := runImport(ctx, st, store.ImportNumbers, "", f, size, *progress, stderr, func(rn *imports.Runner, im *store.Import, show func(imports.Status)) (err error) {
			added, err = rn.RunNumbers(ctx, im, f, show)
			return err
		})
		if err != nil {
			return err
		}
		return printJSON(stdout, map[string]int64{"read": im.Imported, "added": added, "updated": im.Imported - added})
	case "list":
		f := store.StockFilter{Available: *available}
		if *country != "" {
			if f.Country, err = numbers.Country("country", *country); err != nil {
				return usagef("numbers list: %v", err)
			}
		}
		stock, err := st.SearchStock(ctx, f)
		if err != nil {
			return err
		}
		out := []map[string]any{}
		for _, n := range stock {
			if *account != "" && n.AccountID != *account {
				continue
			}
			out = append(out, map[string]any{"number": n.Number, "country": n.Country, "type": n.Type, "features": n.Features,
				"monthlyPrice": message.FormatMicros(n.MonthlyPrice), "region": n.Region, "locality": n.Locality, "account": n.AccountID})
		}
		if !*available {
			// Numbers assigned outside the inventory (number add).
			owned, err := st.OwnedNumbers(ctx, *account)
			if err != nil {
				return err
			}
			for _, o := range owned {
				if o.Stock.Country == "" && *country == "" {
					out = append(out, map[string]any{"number": o.Number.Number, "account": o.AccountID, "inventory": false})
				}
			}
		}
		return printJSON(stdout, out)
	case "assign":
		if *account == "" || *number == "" {
			return usagef("numbers assign: --account and --number are required")
		}
		err := svc.Assign(ctx, *account, *number)
		var inv *numbers.InvalidError
		switch {
		case errors.As(err, &inv):
			return usagef("numbers assign: %v", err)
		case errors.Is(err, store.ErrConflict):
			return fmt.Errorf("numbers assign: %s belongs to another account", *number)
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("numbers assign: no account %q", *account)
		case err != nil:
			return err
		}
		n, _ := numbers.Digits(*number)
		return printJSON(stdout, map[string]string{"number": n, "account": *account})
	case "release":
		if *number == "" && *account == "" {
			return usagef("numbers release: --number, or --account for all of an account's numbers")
		}
		if *number == "" {
			released, err := svc.ReleaseAccount(ctx, *account, *reason)
			if err != nil {
				return err
			}
			return printJSON(stdout, map[string]any{"released": append([]string{}, released...)})
		}
		if err := svc.Release(ctx, *number, *reason); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("numbers release: %s is not assigned", *number)
		} else if err != nil {
			return err
		}
		n, _ := numbers.Digits(*number)
		return printJSON(stdout, map[string]any{"released": []string{n}})
	case "history":
		n, ok := numbers.Digits(*number)
		if !ok {
			return usagef("numbers history: --number must be digits")
		}
		h, err := st.NumberHistory(ctx, n)
		if err != nil {
			return err
		}
		out := []map[string]string{}
		for _, e := range h {
			out = append(out, map[string]string{"event": e.Event, "account": e.AccountID, "detail": e.Detail, "actor": e.Actor,
				"at": e.CreatedAt.Format("2006-01-02T15:04:05Z07:00")})
		}
		return printJSON(stdout, out)
	}
	return nil
}
