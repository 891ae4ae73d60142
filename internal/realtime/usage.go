package realtime

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/store"
)

// Alert tells that an app reached a share of one of its limits. Each
// (app, limit, threshold) is alerted once per UTC day across the cluster.
type Alert struct {
	AccountID string
	AppID     string
	AppName   string
	Limit     string // store.RealtimeLimitConnections or store.RealtimeLimitMessages
	Threshold int    // percent of Max: 80 or 100
	Used      int64  // connections now, or messages today
	Max       int64
	At        time.Time
}

// AlertThresholds are the shares of a limit, in percent, that alert.
var AlertThresholds = []int{80, 100}

// Notifier delivers usage alerts (omnigate serve's account notices: e-mail,
// webhook).
// Notify is called from one goroutine, with a timeout; an error is logged
// and the alert is not retried.
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, a Alert) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, a Alert) error { return f(ctx, a) }

// usage counts messages per app: increments are kept here and added to the
// store's daily total (shared by every node) every UsageFlushInterval; the
// total read back is what quotas are checked against, so the nodes of a
// cluster agree within about one interval.
type usage struct {
	s *Server

	mu      sync.Mutex
	day     string
	pending map[string]int64
	totals  map[string]int64 // today's store total as last read
}

func newUsage(s *Server) *usage {
	return &usage{s: s, pending: map[string]int64{}, totals: map[string]int64{}}
}

func (u *usage) add(app string, n int64) {
	if n <= 0 {
		return
	}
	u.mu.Lock()
	u.pending[app] += n
	u.mu.Unlock()
}

// used is the app's messages today as this node knows them.
func (u *usage) used(app string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.totals[app] + u.pending[app]
}

// overQuota reports whether the app has used its daily messages.
func (u *usage) overQuota(app *store.RealtimeApp) bool {
	return app.MaxMessagesPerDay > 0 && u.used(app.ID) >= app.MaxMessagesPerDay
}

// flush adds the pending counts to the store and reads back the totals of
// apps with a quota, then checks them against it.
func (u *usage) flush(ctx context.Context, now time.Time) {
	day := now.UTC().Format(time.DateOnly)
	u.mu.Lock()
	if day != u.day {
		u.day = day
		clear(u.totals)
	}
	pending := u.pending
	u.pending = map[string]int64{}
	apps := make([]string, 0, len(pending)+len(u.totals))
	for app := range pending {
		apps = append(apps, app)
	}
	for app := range u.totals {
		if _, ok := pending[app]; !ok {
			apps = append(apps, app)
		}
	}
	u.mu.Unlock()
	for _, id := range apps {
		app, err := u.s.apps.byID(ctx, id)
		if err != nil {
			continue // deleted, or the store is down: counted next time
		}
		n := pending[id]
		if n == 0 && app.MaxMessagesPerDay == 0 {
			u.mu.Lock()
			delete(u.totals, id)
			u.mu.Unlock()
			continue
		}
		total, err := u.s.st.AddRealtimeMessages(ctx, id, now, n)
		u.mu.Lock()
		if err != nil {
			u.pending[id] += n
			u.mu.Unlock()
			u.s.log.Error("realtime: adding message usage", "app", id, "err", err)
			continue
		}
		u.totals[id] = total
		u.mu.Unlock()
		if app.MaxMessagesPerDay > 0 {
			u.s.alerts.check(app, store.RealtimeLimitMessages, total, app.MaxMessagesPerDay)
		}
	}
}

// alerter sends usage alerts once per app, limit, threshold and day: the
// store decides which node sends (MarkRealtimeAlert), the Notifier sends.
type alerter struct {
	s       *Server
	ch      chan Alert
	dropped atomic.Int64

	mu   sync.Mutex
	day  string
	sent map[string]bool // alerts this node knows are recorded today

	startOnce, stopOnce sync.Once
	quit, done          chan struct{}
}

func newAlerter(s *Server) *alerter {
	return &alerter{s: s, ch: make(chan Alert, s.cfg.AlertQueue), sent: map[string]bool{},
		quit: make(chan struct{}), done: make(chan struct{})}
}

// check queues an alert for every threshold used/max reached that is not
// known to be sent today. It never blocks.
func (a *alerter) check(app *store.RealtimeApp, limit string, used, max int64) {
	if max <= 0 {
		return
	}
	now := time.Now().UTC()
	day := now.Format(time.DateOnly)
	for _, t := range AlertThresholds {
		if used*100 < int64(t)*max {
			continue
		}
		key := fmt.Sprintf("%s|%s|%d", app.ID, limit, t)
		a.mu.Lock()
		if a.day != day {
			a.day = day
			clear(a.sent)
		}
		done := a.sent[key]
		a.sent[key] = true // queued or sent; unset if recording fails
		a.mu.Unlock()
		if done {
			continue
		}
		select {
		case a.ch <- Alert{AccountID: app.AccountID, AppID: app.ID, AppName: app.Name, Limit: limit, Threshold: t, Used: used, Max: max, At: now}:
		default:
			a.dropped.Add(1)
			a.forget(key)
		}
	}
}

func (a *alerter) forget(key string) {
	a.mu.Lock()
	delete(a.sent, key)
	a.mu.Unlock()
}

func (a *alerter) start() { a.startOnce.Do(func() { go a.run() }) }

func (a *alerter) run() {
	defer close(a.done)
	for {
		select {
		case <-a.quit:
			return
		case al := <-a.ch:
			a.deliver(al)
		}
	}
}

func (a *alerter) deliver(al Alert) {
	ctx, cancel := context.WithTimeout(context.Background(), a.s.cfg.NotifyTimeout)
	defer cancel()
	first, err := a.s.st.MarkRealtimeAlert(ctx, al.AppID, al.Limit, al.Threshold, al.At)
	if err != nil {
		a.s.log.Error("realtime: recording a usage alert", "app", al.AppID, "err", err)
		a.forget(fmt.Sprintf("%s|%s|%d", al.AppID, al.Limit, al.Threshold))
		return
	}
	if !first {
		return // another node sent it
	}
	a.s.log.Info("realtime: usage alert", "account", al.AccountID, "app", al.AppID, "limit", al.Limit,
		"threshold", al.Threshold, "used", al.Used, "max", al.Max)
	if a.s.notifier == nil {
		return
	}
	if err := a.s.notifier.Notify(ctx, al); err != nil {
		a.s.log.Error("realtime: notifying a usage alert", "app", al.AppID, "limit", al.Limit, "err", err)
	}
}

// stop ends the alerter after the alert in progress.
func (a *alerter) stop(ctx context.Context) error {
	a.stopOnce.Do(func() { close(a.quit) })
	a.startOnce.Do(func() { close(a.done) })
	return lifecycle.WaitDone(ctx, a.done)
}
