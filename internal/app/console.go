package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omnigate/omnigate/internal/console"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// newConsole makes the users service and the web console (/console on the
// API listener, docs/console.md).
func (a *App) newConsole(st store.Store) *console.Console {
	a.users = users.New(users.Config{PublicURL: a.cfg.PublicURL, PasswordMemory: a.cfg.UserPasswordMemory}, st, a.billing, consoleMailer{a}, a.trail, a.guard, a.log)
	c := console.New(console.Config{Secure: a.cfg.TLSCert != ""}, a.users, st, a.log)
	c.UseDesk(a.desk)
	c.UseAuditLog(a.changes)
	a.users.UseAuditLog(a.changes) // sign-ins, sign-outs, second factors, tokens …
	c.UseReports(a.webhooks.Notify)
	c.UseImports(a.imports)
	c.UseBilling(a.billing)
	c.UseConnections(func(appID string) int {
		if a.realtime == nil { // made after the console
			return -1
		}
		return a.realtime.AppConnections(appID)
	})
	c.UseOperations(console.Operations{Live: a.connectors, Sent: a.sentByConnector, Imports: a.imports, Released: a.dispatcher.Notify})
	return c
}

// sentByConnector reads this node's submissions per connector from the
// omnigate_recipient_status_total counter (status sent), for the
// operator's Connectors page.
func (a *App) sentByConnector() map[string]float64 {
	out := map[string]float64{}
	// A registry of this counter alone: gathering the main one would also
	// run the queue gauges' database query.
	reg := prometheus.NewPedanticRegistry()
	if reg.Register(a.metrics.Statuses) != nil {
		return out
	}
	fams, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var conn, status string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "connector":
					conn = l.GetValue()
				case "status":
					status = l.GetValue()
				}
			}
			if status == string(message.Sent) && conn != "" {
				out[conn] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// Users is the users service (the CLI and tests use it).
func (a *App) Users() *users.Service { return a.users }

// demoOwner is the demo account's console owner, kept in
// <data>/demo-console.json (mode 0600) so the banner can print its sign-in
// on every start. Do not use it for real traffic.
type demoOwner struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

const demoConsoleFile = "demo-console.json"

// ensureDemoOwner makes the demo account's owner user, once.
func (a *App) ensureDemoOwner(ctx context.Context) error {
	path := filepath.Join(a.cfg.DataDir, demoConsoleFile)
	var d demoOwner
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &d); err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		if u, err := a.store.UserByEmail(ctx, d.Email); err == nil && u.AccountID == a.Demo.ID {
			a.demoOwner = &d
			return nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	d = demoOwner{Email: "owner@demo.omnigate.localhost", Password: ids.Secret(16)}
	if u, err := a.store.UserByEmail(ctx, d.Email); err == nil {
		// The file is gone but the user is not: give it the new password.
		if err := a.users.ResetPassword(ctx, u.Email, d.Password, "demo"); err != nil {
			return err
		}
	} else if _, err := a.users.Create(ctx, users.NewUser{AccountID: a.Demo.ID, Email: d.Email, Name: "Demo owner",
		Role: users.RoleOwner, Password: d.Password, Actor: "demo"}); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(d, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	a.demoOwner = &d
	return nil
}

// printDemoConsole adds the console's sign-in to the demo banner, making
// the demo owner first if need be (here rather than at start: hashing a
// password costs 64 MiB and a moment, which only a person who reads the
// banner needs).
func (a *App) printDemoConsole(w io.Writer) {
	if a.demoOwner == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := a.ensureDemoOwner(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(w, "The web console's demo owner could not be made: %v\n\n", err)
			return
		}
	}
	fmt.Fprintf(w, `Sign in to the web console (English, français, العربية):

  %s/console
  email     %s
  password  %s

`, a.URL(), a.demoOwner.Email, a.demoOwner.Password)
}

// maintainConsole drops the sessions that have ended (housekeeping).
func (a *App) maintainConsole(ctx context.Context, now time.Time) {
	if n, err := a.store.PurgeSessions(ctx, now); err != nil {
		a.log.Warn("maintenance: purging console sessions", "err", err)
	} else if n > 0 {
		a.log.Info("maintenance: dropped ended console sessions", "sessions", n)
	}
}

// foldCountsEvery is how often the Overview's roll-up takes in the changes
// recorded since (DailyCounts reads those too, so this only keeps them few).
const foldCountsEvery = 5 * time.Second

// foldCounts moves recorded message count changes into the roll-up.
func (a *App) foldCounts() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.store.FoldMessageCounts(ctx); err != nil {
		a.log.Warn("maintenance: folding message counts", "err", err)
	}
}
