package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/realtime/fanout"
)

// The realtime server (Pusher Channels protocol 7 and HTTP API,
// docs/realtime.md) runs in every `omnigate serve`, on the API's address
// or, with Config.RealtimeHTTPAddr, on a listener of its own: WebSocket
// clients at /app/{key}, the Pusher HTTP API under /apps/{id}/; the
// account's app management is under /realtime/apps on the API's address.
// Nodes find each other through NATS when Config.NATSURL is set; alone,
// fan-out is in memory. Usage alerts go out through the notifier (internal/notice), as
// notices to the account's alert URL and addresses.

// RealtimeNoticeType is the notice type of a realtime usage alert.
const RealtimeNoticeType = "realtime.usage_alert"

// newRealtime builds the realtime server; Run starts it.
func (a *App) newRealtime(cfg Config) (*realtime.Server, error) {
	var broker fanout.Broker
	if cfg.NATSURL != "" {
		b, err := cfg.natsBroker()
		if err != nil {
			return nil, err
		}
		broker = b
	}
	rc := cfg.Realtime
	if rc.NodeID == "" {
		if host, err := os.Hostname(); err == nil && host != "" {
			rc.NodeID = host
		}
	}
	if err := planConnections(cfg, &rc, a.log); err != nil {
		return nil, err
	}
	listener := "api"
	if cfg.RealtimeHTTPAddr != "" {
		listener = "realtime"
	}
	onRefused := func(reason string) { a.metrics.ConnectionsRefused.WithLabelValues(listener, reason).Inc() }
	srv, err := realtime.New(rc, realtime.Deps{Store: a.store, Broker: broker, Notifier: realtime.NotifierFunc(a.realtimeAlert), Logger: a.log,
		OnRefused: onRefused, Guard: a.guard})
	if err != nil {
		return nil, fmt.Errorf("realtime: %w", err)
	}
	return srv, nil
}

// natsBroker makes the NATS broker the config names (not yet connected).
func (c Config) natsBroker() (*fanout.NATS, error) {
	return fanout.NewNATS(fanout.NATSConfig{URL: c.NATSURL, Prefix: c.NATSPrefix})
}

// validateRealtime checks the NATS settings.
func (c Config) validateRealtime() error {
	if c.NATSURL == "" {
		return nil
	}
	for _, s := range strings.Split(c.NATSURL, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
			return fmt.Errorf("nats: %q is not a nats://host:port URL", redactURL(strings.TrimSpace(s)))
		}
	}
	if _, err := c.natsBroker(); err != nil {
		return fmt.Errorf("nats-prefix: %w", err)
	}
	return nil
}

// withRealtime serves the realtime endpoints beside h (the doors, among
// them the account's realtime apps, probes and metrics, whose catch-all
// answers unknown paths).
func (a *App) withRealtime(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	a.realtime.Register(mux)
	mux.Handle("/", h)
	return mux
}

// realtimeHandler is what the realtime listener serves
// (Config.RealtimeHTTPAddr): the WebSocket endpoint and the Pusher HTTP
// API, and /healthz for a load balancer; any other path is 404 in plain
// text, as the Pusher HTTP API answers errors. The account's management
// of apps (/realtime/apps) is part of the REST API and stays on the
// API's listener, as do /readyz and /metrics.
func (a *App) realtimeHandler() http.Handler {
	mux := http.NewServeMux()
	a.realtime.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Not found: this listener serves realtime clients only (/app/{key}, /apps/{app_id}/…)", http.StatusNotFound)
	})
	return mux
}

// startRealtime connects the realtime server to the cluster (NATS, when
// set) and starts its background work.
func (a *App) startRealtime(ctx context.Context) error {
	if err := a.realtime.Start(ctx); err != nil {
		return err
	}
	mode := "single node"
	if a.cfg.NATSURL != "" {
		mode = "nats " + redactURL(a.cfg.NATSURL)
	}
	a.log.Info("realtime server running", "node", a.realtime.NodeID(), "fanout", mode)
	return nil
}

// stopRealtime closes the WebSocket connections (4200: clients reconnect,
// to another node if there is one), leaves the cluster and flushes
// webhooks, usage and the error log. It runs after the HTTP server has
// stopped taking requests, and before the store closes.
func (a *App) stopRealtime(ctx context.Context) error {
	if err := a.realtime.Stop(ctx); err != nil {
		return fmt.Errorf("stopping realtime: %w", err)
	}
	return nil
}

// realtimeAlert sends a realtime usage alert as a notice: a job in
// the database, delivered (and retried) by the notifier.
func (a *App) realtimeAlert(ctx context.Context, al realtime.Alert) error {
	what := "concurrent connections"
	if al.Limit == "messages" {
		what = "messages today (UTC)"
	}
	after := "Nothing is refused yet."
	if al.Threshold >= 100 {
		after = "New connections are refused with 4004 until others close."
		if al.Limit == "messages" {
			after = "Events are refused (HTTP 413) until the UTC day ends or the limit is raised."
		}
	}
	name := al.AppName
	if name == "" {
		name = "app " + al.AppID
	}
	nt := notice.Notice{
		Type:    RealtimeNoticeType,
		Subject: fmt.Sprintf("Realtime usage alert: %s reached %d%% of its %s limit", name, al.Threshold, al.Limit),
		Text: fmt.Sprintf("Realtime app %s (%s) has %d %s of its limit of %d.\n%s",
			name, al.AppID, al.Used, what, al.Max, after),
		Data: map[string]any{"appId": al.AppID, "limit": al.Limit, "threshold": al.Threshold, "used": al.Used, "max": al.Max},
	}
	if err := a.store.EnqueueJob(ctx, notice.Job(al.AccountID, nt, time.Now().UTC())); err != nil {
		return err
	}
	a.notifier.Notify()
	return nil
}
