package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/connlimit"
	"github.com/omnigate/omnigate/internal/realtime"
)

// Limits on connections, in layers (docs/operations.md, "Connection
// limits"), so that one client cannot take the server down by opening
// connections:
//
//   - every listener admits at most HTTPConnsPerIP TCP connections from
//     one address; more are answered 429 by a small server of their own and
//     closed (connlimit.Listener);
//   - the realtime server admits at most WSConnsPerIP WebSockets from one
//     address (429 before the upgrade), and each app AppMaxConnections
//     unless it sets its own limit (4004);
//   - WebSockets never take the last FDReserve file descriptors: the
//     realtime server holds at most the descriptor limit minus the
//     reserve (503 before the upgrade), so that the API, the database,
//     carriers and webhooks always have descriptors;
//   - the soft descriptor limit is raised to the hard one at start.

// refusalsAnswering bounds the connections over the per-address limit
// being answered at once; beyond it they are closed without an answer.
const refusalsAnswering = 64

// planConnections raises the file descriptor limit, logs it, and sets the
// realtime server's limits from cfg.
func planConnections(cfg Config, rc *realtime.Config, log *slog.Logger) error {
	fl, err := connlimit.RaiseFileLimit()
	if err != nil {
		log.Warn("could not raise the open files limit to the hard limit", "soft", fl.Soft, "hard", fl.Hard, "err", err)
	}
	rc.MaxConnectionsPerIP = max(cfg.WSConnsPerIP, 0)
	rc.ConnLimitExempt = cfg.ConnLimitExempt
	rc.DefaultAppMaxConnections = max(cfg.AppMaxConnections, 0)
	if !fl.Known {
		log.Info("no open files limit on this platform: WebSockets are bounded only by the other limits")
		return nil
	}
	limit := int(min(fl.Soft, math.MaxInt32))
	reserve := cfg.FDReserve
	if reserve == 0 {
		reserve = connlimit.DefaultReserve(limit)
	}
	budget, err := connlimit.Budget(limit, reserve)
	if err != nil {
		return fmt.Errorf("fd-reserve: %w", err)
	}
	if rc.MaxSockets <= 0 || rc.MaxSockets > budget {
		rc.MaxSockets = budget
	}
	msg := "open files limit"
	if fl.Raised() {
		msg = "open files limit raised to the hard limit"
	}
	log.Info(msg, "soft", fl.Soft, "was", fl.Before, "hard", fl.Hard, "reserve", reserve, "max_websockets", rc.MaxSockets,
		"ws_per_ip", rc.MaxConnectionsPerIP, "http_per_ip", max(cfg.HTTPConnsPerIP, 0))
	return nil
}

// endpoint is one listener of the app — the API's, or realtime's with
// RealtimeHTTPAddr — with the server behind it and the one that answers
// the connections over the per-address limit.
type endpoint struct {
	name   string
	tls    bool // served over HTTPS
	ln     *connlimit.Listener
	server *http.Server
	over   *http.Server

	// closing is set for the drain: every response then asks its client
	// to close the connection. Idle connections are left alone until the
	// listener closes, because closing one as a client reuses it loses
	// that client's request.
	closing atomic.Bool
}

// listen binds addr and makes its servers; h serves what is admitted.
func (a *App) listen(name, addr string, h http.Handler, tlsCfg *tls.Config) (*endpoint, error) {
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	onRefuse := func(netip.Addr) { a.metrics.ConnectionsRefused.WithLabelValues(name, "http_per_ip").Inc() }
	ln := connlimit.NewListener(inner, connlimit.NewLimiter(max(a.cfg.HTTPConnsPerIP, 0), a.cfg.ConnLimitExempt), refusalsAnswering, onRefuse)
	errLog := slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
	e := &endpoint{name: name, tls: tlsCfg != nil, ln: ln}
	e.server, e.over = &http.Server{
		Handler:           e.closeWhenDraining(h),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
		TLSConfig:         tlsCfg.Clone(), // net/http changes its server's
	},
		// Answering a refusal may take a client no longer than this.
		&http.Server{
			Handler:           http.HandlerFunc(tooManyConnections),
			ReadHeaderTimeout: 2 * time.Second,
			ReadTimeout:       2 * time.Second,
			WriteTimeout:      2 * time.Second,
			MaxHeaderBytes:    8 << 10,
			ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
			TLSConfig:         tlsCfg.Clone(),
		}
	e.over.SetKeepAlivesEnabled(false)
	return e, nil
}

// closeWhenDraining adds "Connection: close" to every response once the
// drain has begun, so that a client opens its next request elsewhere.
func (e *endpoint) closeWhenDraining(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.closing.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// tooManyConnections answers a connection over the per-address limit:
// 429, in the Pusher HTTP API's plain text on realtime paths and in
// MessageBird's format elsewhere, and the connection closed.
func tooManyConnections(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", "1")
	if strings.HasPrefix(r.URL.Path, "/app/") || strings.HasPrefix(r.URL.Path, "/apps/") {
		http.Error(w, "Too many connections from your address; try again later", http.StatusTooManyRequests)
		return
	}
	rest.TooManyConnections(w, r)
}

// serve runs both servers until they stop; the first error of either
// (http.ErrServerClosed after shutdown) goes to errc.
func (e *endpoint) serve(errc chan<- error) {
	run := func(s *http.Server, ln net.Listener) {
		var err error
		if e.tls {
			err = s.ServeTLS(ln, "", "") // the certificate is in TLSConfig
		} else {
			err = s.Serve(ln)
		}
		errc <- fmt.Errorf("serving %s: %w", e.name, err)
	}
	go run(e.server, e.ln)
	go run(e.over, e.ln.Over())
}

// shutdown stops taking connections and waits for the requests in flight
// (WebSockets are the realtime server's to close).
func (e *endpoint) shutdown(ctx context.Context) error {
	if err := errors.Join(e.server.Shutdown(ctx), e.over.Shutdown(ctx)); err != nil {
		return fmt.Errorf("stopping %s: %w", e.name, err)
	}
	return nil
}

// close closes the listener of an endpoint that never served.
func (e *endpoint) close() { e.ln.Close() }

// Addr is where the endpoint listens.
func (e *endpoint) Addr() string { return e.ln.Addr().String() }
