// Package rest is omnigate's REST door: the MessageBird-compatible SMS
// endpoints (/messages, /balance) — wire-compatible with what the official
// MessageBird SDKs send and parse — and omnigate's own account endpoints
// (prices, usage, ledger, statements, top-ups; consents, suppressions,
// senders, compliance policy and cases) in the same style: AccessKey
// authentication and MessageBird's error format and codes. It turns requests
// into the platform's model and hands them to the pipeline and billing; it
// never talks to connectors.
package rest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// Config tunes the door. Zero values mean the documented defaults.
type Config struct {
	// MaxBody bounds a request body; default 1 MiB.
	MaxBody int64
	// PublicURL is the scheme and host that hrefs and pagination links
	// start with, e.g. "https://sms.example.com"; default: taken from each
	// request's Host.
	PublicURL string
}

// API serves the MessageBird REST endpoints.
type API struct {
	cfg      Config
	store    store.Store
	pipeline *pipeline.Pipeline
	billing  *billing.Service
	desk     *compliance.Desk
	auth     *auth.Authenticator
	accounts *store.AccountCache // settings that shape validation (strict numbers)
	metrics  *metrics.Metrics
	log      *slog.Logger
}

// New makes the door.
func New(cfg Config, st store.Store, p *pipeline.Pipeline, b *billing.Service, d *compliance.Desk, a *auth.Authenticator, m *metrics.Metrics, log *slog.Logger) *API {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	return &API{cfg: cfg, store: st, pipeline: p, billing: b, desk: d, auth: a, accounts: store.NewAccountCache(st, 0), metrics: m, log: log}
}

// Register adds the door's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "POST /messages", a.createMessage)
	a.handle(mux, "GET /messages", a.listMessages)
	a.handle(mux, "GET /messages/{$}", a.listMessages)
	a.handle(mux, "GET /messages/{id}", a.getMessage)
	a.handle(mux, "DELETE /messages/{id}", a.deleteMessage)
	a.handle(mux, "GET /balance", a.getBalance)
	a.handle(mux, "GET /prices/sms", a.getSMSPrice)
	a.handle(mux, "GET /usage", a.getUsage)
	a.handle(mux, "GET /ledger", a.getLedger)
	a.handle(mux, "GET /billing/autotopup", a.getAutoTopUp)
	a.handle(mux, "PUT /billing/autotopup", a.putAutoTopUp)
	a.handle(mux, "GET /topups", a.listTopUps)
	a.handle(mux, "POST /topups", a.requestTopUp)
	a.handle(mux, "GET /statements/{month}", a.getStatement)
	paths := a.registerCompliance(mux)
	// Known paths with another method answer 405 as MessageBird does.
	for _, p := range append(paths, "/messages", "/messages/{id}", "/balance", "/prices/sms", "/usage", "/ledger", "/billing/autotopup", "/topups", "/statements/{month}") {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, &Problem{Status: http.StatusMethodNotAllowed})
		})
	}
}

// NotFound answers an unknown path in MessageBird's format.
func NotFound(w http.ResponseWriter, r *http.Request) { writeProblem(w, errRouteNotFound()) }

type principalKey struct{}

func principalFrom(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}

// handle registers an authenticated, instrumented handler that reports
// problems in MessageBird's format.
func (a *API) handle(mux *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			a.metrics.HTTPDuration.WithLabelValues(pattern, r.Method, strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
		}()
		key, ok := auth.FromHeader(r.Header.Get("Authorization"))
		if !ok {
			writeProblem(rec, errUnauthorized())
			return
		}
		p, err := a.auth.Authenticate(r.Context(), key)
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthorized) {
				a.log.Error("api: authenticating", "err", err)
				writeProblem(rec, errInternal())
				return
			}
			writeProblem(rec, errUnauthorized())
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if err := h(rec, r); err != nil {
			a.fail(rec, r, err)
		}
	})
}

// fail answers an error: problems as they are, anything else as a 500
// whose details go to the log only.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	var inv *message.Invalid
	var limit *store.LimitError
	var noPrice *billing.NoPriceError
	var refused *compliance.Rejection
	switch {
	case errors.As(err, &p):
		writeProblem(w, p)
	case errors.As(err, &inv):
		writeProblem(w, errInvalid(inv.Field, inv.Reason))
	case errors.Is(err, store.ErrInsufficientBalance):
		writeProblem(w, errNoBalance())
	case errors.As(err, &limit):
		writeProblem(w, errUsageLimit(limit))
	case errors.As(err, &noPrice):
		writeProblem(w, errInvalid("recipients", noPrice.Error()))
	case errors.As(err, &refused):
		writeProblem(w, errCompliance(refused.Decision))
	case errors.Is(err, groupcommit.ErrStopped):
		writeProblem(w, errUnavailable())
	default:
		a.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, errInternal())
	}
}

// base is the scheme and host for hrefs.
func (a *API) base(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
