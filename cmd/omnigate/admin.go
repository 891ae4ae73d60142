package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/api/account"
	"github.com/omnigate/omnigate/internal/api/admin"
	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/webhook"
)

// printList opens the store, lists with list, and prints each item as show
// makes it: the shape of every "… list" command.
func printList[T, V any](ctx context.Context, cfg app.Config, w io.Writer, list func(*sqlstore.Store) ([]T, error), show func(T) V) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	items, err := list(st)
	if err != nil {
		return err
	}
	out := make([]V, len(items))
	for i, it := range items {
		out[i] = show(it)
	}
	return printJSON(w, out)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// accountJSON is how the CLI shows an account.
type accountJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Currency   string `json:"currency"`
	Balance    string `json:"balance"`
	ReportURL  string `json:"report_url,omitempty"`
	InboundURL string `json:"inbound_url,omitempty"`
	Key        string `json:"key,omitempty"`
	TestKey    string `json:"test_key,omitempty"`
	SigningKey string `json:"signing_key,omitempty"`
	Created    string `json:"created"`
	// Settings.
	StrictNumbers   bool   `json:"strict_numbers"`
	LegacySignature string `json:"legacy_signature"`
}

func showAccount(a *store.Account) accountJSON {
	return accountJSON{ID: a.ID, Name: a.Name, Currency: a.Currency, Balance: message.FormatMicros(a.Balance), ReportURL: a.ReportURL, InboundURL: a.InboundURL,
		Created: a.CreatedAt.Format(time.RFC3339), StrictNumbers: a.StrictNumbers, LegacySignature: a.LegacySignature}
}

func accountCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("account: say create, list or update")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("account "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	switch args[0] {
	case "create":
		name := fs.String("name", "", "account name (required)")
		balance := fs.String("balance", "0", "starting balance, e.g. 100 or 12.50")
		currency := fs.String("currency", "EUR", "ISO 4217 currency of the balance")
		reportURL := fs.String("report-url", "", "default URL for status reports of this account's messages")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *name == "" {
			return usagef("account create: --name is required")
		}
		amount, err := message.ParseMicros(*balance)
		if err != nil {
			return usagef("account create: --balance: %v", err)
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		c, err := accounts.Create(ctx, st, accounts.New{Name: *name, Currency: *currency, Balance: amount, ReportURL: *reportURL})
		if err != nil {
			return err
		}
		out := showAccount(c.Account)
		out.Key, out.TestKey, out.SigningKey = c.LiveKey, c.TestKey, c.Account.SigningKey
		return printJSON(stdout, out)
	case "list":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]*store.Account, error) { return st.ListAccounts(ctx) }, showAccount)
	case "update":
		id := fs.String("id", "", "account id (required)")
		reportURL := fs.String("report-url", "", "default URL for status reports; \"\" removes it")
		inboundURL := fs.String("inbound-url", "", "URL that receives the account's inbound messages; \"\" removes it")
		strict := fs.Bool("strict-numbers", false, "accept only recipients libphonenumber knows as valid (default: every possible number)")
		legacy := fs.String("legacy-signature", "", "how the account's report receiver checks the legacy MessageBird-Signature: "+strings.Join(webhook.LegacyStyles, ", ")+" (after the SDK whose verifier it uses)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *id == "" {
			return usagef("account update: --id is required")
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["report-url"] && !set["inbound-url"] && !set["strict-numbers"] && !set["legacy-signature"] {
			return usagef("account update: say --report-url, --inbound-url, --strict-numbers or --legacy-signature")
		}
		var err2 error
		if set["report-url"] {
			err2 = accounts.SetReportURL(ctx, st, *id, *reportURL)
		}
		if err2 == nil && set["inbound-url"] {
			err2 = accounts.SetInboundURL(ctx, st, *id, *inboundURL)
		}
		if err2 == nil && (set["strict-numbers"] || set["legacy-signature"]) {
			var a *store.Account
			if a, err2 = st.GetAccount(ctx, *id); err2 == nil {
				if set["strict-numbers"] {
					a.StrictNumbers = *strict
				}
				if set["legacy-signature"] {
					a.LegacySignature = *legacy
				}
				if err := admin.CheckSettings(a); err != nil {
					return usageError{err}
				}
				err2 = st.SetAccountSettings(ctx, a)
			}
		}
		if errors.Is(err2, store.ErrNotFound) {
			return fmt.Errorf("account update: no account %q", *id)
		} else if err2 != nil {
			return err2
		}
		a, err := st.GetAccount(ctx, *id)
		if err != nil {
			return err
		}
		return printJSON(stdout, showAccount(a))
	case "shred":
		return shredCmd(ctx, cfg, fs, args[1:], stdout, stderr)
	case "export", "archive":
		return accountExportCmd(ctx, cfg, fs, args[0], args[1:], stdout, stderr)
	}
	return usagef("account: unknown subcommand %q (create, list, update, shred, export, archive)", args[0])
}

func keyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("key: say create, list or revoke")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("key "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	switch args[0] {
	case "create":
		account := fs.String("account", "", "account id (required)")
		test := fs.Bool("test", false, "make a test key (validated, never sent or charged; sees no live data)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *account == "" {
			return usagef("key create: --account is required")
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		key, err := accounts.CreateKey(ctx, st, *account, *test)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("key create: no account %q", *account)
		}
		if err != nil {
			return err
		}
		k, err := st.AccessKeyByHash(ctx, auth.Hash(key))
		if err != nil {
			return err
		}
		return printJSON(stdout, struct {
			Account string `json:"account"`
			ID      string `json:"id"`
			Key     string `json:"key"`
			Test    bool   `json:"test"`
		}{*account, k.ID, key, *test})
	case "list":
		acct := fs.String("account", "", "account id (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *acct == "" {
			return usagef("key list: --account is required")
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]*store.AccessKey, error) {
			if _, err := st.GetAccount(ctx, *acct); errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("key list: no account %q", *acct)
			}
			return st.AccessKeys(ctx, *acct)
		}, account.ShowKey)
	case "revoke":
		acct := fs.String("account", "", "account id (with --id)")
		id := fs.String("id", "", "the key's id (omnigate key list)")
		text := fs.String("key", "", "the key itself, e.g. one found leaked; \"-\" reads it from standard input")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if (*id == "") == (*text == "") || (*id != "" && *acct == "") {
			return usagef("key revoke: say --account and --id, or --key")
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		if *text != "" {
			k, err := keyByText(ctx, st, *text)
			if err != nil {
				return err
			}
			*acct, *id = k.AccountID, k.ID
		}
		k, err := st.RevokeAccessKey(ctx, *acct, *id, "cli", time.Now().UTC())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("key revoke: account %q has no key %q", *acct, *id)
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, account.ShowKey(k))
	}
	return usagef("key: unknown subcommand %q (create, list, revoke)", args[0])
}

// keyByText finds a key by its text ("-": read from standard input).
func keyByText(ctx context.Context, st *sqlstore.Store, text string) (*store.AccessKey, error) {
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
		if err != nil {
			return nil, fmt.Errorf("key revoke: reading the key: %w", err)
		}
		text = strings.TrimSpace(string(b))
	}
	k, err := st.AccessKeyByHash(ctx, auth.Hash(strings.TrimSpace(text)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("key revoke: no such key")
	}
	return k, err
}
