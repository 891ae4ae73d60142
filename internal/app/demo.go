package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/verify"
)

// DemoAccount is the account `serve --demo` creates once and reuses.
//
// Keys are normally shown once and stored only as hashes. For the demo to
// print a working curl on every start, its keys are also kept in clear in
// <data>/demo-account.json (mode 0600). Do not use the demo account for
// real traffic.
type DemoAccount struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	TestKey    string `json:"test_key"`
	SigningKey string `json:"signing_key"`
}

const demoFile = "demo-account.json"

// demoBalance is the demo account's starting balance: 100.00 EUR.
const demoBalance = 100 * message.MicrosPerUnit

// EnsureDemo returns the demo account, creating it on first use.
func EnsureDemo(ctx context.Context, st store.Store, dataDir string) (*DemoAccount, error) {
	path := filepath.Join(dataDir, demoFile)
	b, err := os.ReadFile(path)
	if err == nil {
		var d DemoAccount
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		// The file may outlive its database (a new PostgreSQL, a deleted
		// database file): only trust it if the account is still there.
		if _, err := st.GetAccount(ctx, d.ID); err == nil {
			return &d, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	c, err := accounts.Create(ctx, st, accounts.New{Name: "demo", Balance: demoBalance})
	if err != nil {
		return nil, err
	}
	if err := seedDemoPrices(ctx, st); err != nil {
		return nil, err
	}
	// The demo's curl sends as "omnigate", and Verify's codes come from
	// its default originator: approve both, as an operator would.
	for _, originator := range []string{demoSender, verify.DefaultOriginator} {
		if err := st.SaveSender(ctx, &store.Sender{AccountID: c.Account.ID, Originator: originator, Status: store.SenderApproved,
			RequestedBy: "demo", DecidedBy: "demo", Note: "the demo account's sender", CreatedAt: time.Now().UTC(), DecidedAt: time.Now().UTC()}); err != nil {
			return nil, err
		}
	}
	d := &DemoAccount{ID: c.Account.ID, Key: c.LiveKey, TestKey: c.TestKey, SigningKey: c.Account.SigningKey}
	b, _ = json.MarshalIndent(d, "", "  ")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return d, nil
}

// demoSender is the originator the demo's curl uses.
const demoSender = "omnigate"

// demoPrice is what a demo SMS segment costs when no price list exists yet.
const demoPrice = 50_000 // 0.05 EUR

// seedDemoPrices gives a fresh installation a catch-all SMS price so that
// the demo shows charging; an existing price list is left alone.
func seedDemoPrices(ctx context.Context, st store.Billing) error {
	prices, err := st.Prices(ctx)
	if err != nil || len(prices) > 0 {
		return err
	}
	return st.UpsertPrices(ctx, []store.Price{{Channel: message.ChannelSMS, Currency: "EUR", Price: demoPrice, UpdatedAt: time.Now().UTC()},
		{Channel: HLRChannel, Currency: "EUR", Price: demoHLRPrice, UpdatedAt: time.Now().UTC()}})
}

// Print writes the demo banner with a ready-to-paste curl.
func (d *DemoAccount) Print(w io.Writer, base string) {
	fmt.Fprintf(w, `
omnigate demo is running on %[1]s
SMS is delivered over SMPP to the built-in SMSC simulator: nothing leaves this machine.

  account      %[2]s
  live key     %[3]s
  test key     %[4]s   (validated, never sent or charged)
  signing key  %[5]s   (verifies status reports)

Send your first SMS:

curl -X POST %[1]s/messages \
  -H "Authorization: AccessKey %[3]s" \
  -d originator=%[6]s -d recipients=31612345678 -d body="Hello from omnigate"

Then read it back (use the id from the answer):

  curl -H "Authorization: AccessKey %[3]s" %[1]s/messages/ID

`, base, d.ID, d.Key, d.TestKey, d.SigningKey, demoSender)
}
