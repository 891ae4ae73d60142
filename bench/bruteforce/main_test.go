package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// TestSmoke attacks a real server (in this process, small limits) for a
// moment on every door: the tool must report the attempts it made, guesses
// refused with 429 once past the limits, and the legitimate client served.
// It judges no timing.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	token := "smoke-admin-token-0123456789abcdef0123"
	cfg := app.Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), SQLiteSync: "NORMAL", AdminToken: token, APIOnly: true,
		ShutdownTimeout: 10 * time.Second}
	cfg.AuthLimits.PerAddress, cfg.AuthLimits.PerPrefix = 5, 10
	st, err := app.OpenStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	acct, appRec := setUp(t, st)
	st.Close()
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	results, err := run(config{url: a.URL(), key: acct.LiveKey, adminToken: token, appID: appRec.ID, appKey: appRec.Key, secret: appRec.Secret,
		duration: time.Second, concurrency: 4, addresses: 4, legitRate: 10, doors: "api,admin,pusher", pause: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 6 {
		t.Fatalf("%d results, want 2 attacks × 3 doors", len(results))
	}
	for _, r := range results {
		if r.Attempts == 0 || r.Checked == 0 || r.Refused == 0 || r.Other != 0 || r.LegitOK != r.LegitAll || r.LegitAll == 0 {
			t.Errorf("%s %s: %+v", r.Door, r.Attack, r)
		}
	}
}

// setUp makes the account whose key is attacked and its realtime app.
func setUp(t *testing.T, st *sqlstore.Store) (*accounts.Created, *store.RealtimeApp) {
	t.Helper()
	c, err := accounts.Create(context.Background(), st, accounts.New{Name: "smoke"})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := realtime.CreateApp(context.Background(), st, c.Account.ID, "smoke", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, rt
}
