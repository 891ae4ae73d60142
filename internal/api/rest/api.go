// Package rest is the REST style omnigate's HTTP doors share, not a door
// itself: the MessageBird door (internal/api/messagebird) and omnigate's own
// account API (internal/api/account) are written in it. It holds AccessKey
// authentication and instrumentation (Style.Handle), the mapping of the
// platform's errors (invalid messages, balance, usage limits, prices,
// compliance, shutdown) to MessageBird's error format and codes, JSON
// writing, request bodies and the lenient JSON and form values MessageBird
// accepts, list parameters and pagination links, the authenticated
// principal, and the public base URL of hrefs.
package rest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// Config tunes the style. Zero values mean the documented defaults.
type Config struct {
	// MaxBody bounds a request body; default 1 MiB.
	MaxBody int64
	// PublicURL is the scheme and host that hrefs and pagination links
	// start with, e.g. "https://sms.example.com"; default: taken from each
	// request's Host.
	PublicURL string
}

// Style is what the doors written in this style share: the configuration,
// the authenticator of access keys, metrics and the log.
type Style struct {
	cfg     Config
	auth    *auth.Authenticator
	guard   *authguard.Guard // limits failed authentication; nil: no limit
	trail   *audit.Trail     // the audit trail; nil: none
	changes *audit.Log       // the stored audit log of changes; nil: none
	metrics *metrics.Metrics
	log     *slog.Logger

	patterns []string // what Handle registered, in order
}

// New makes the style the doors are built on.
func New(cfg Config, a *auth.Authenticator, m *metrics.Metrics, log *slog.Logger) *Style {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	return &Style{cfg: cfg, auth: a, metrics: m, log: log}
}

// Protect limits failed authentication with g and writes the audit trail
// (authentications, revoked keys) to t. Call it before Handle.
func (a *Style) Protect(g *authguard.Guard, t *audit.Trail) { a.guard, a.trail = g, t }

// UseAuditLog records in l every change an access key makes: each
// request of a write method that succeeds, except the traffic routes
// (Traffic). Call it before Handle.
func (a *Style) UseAuditLog(l *audit.Log) { a.changes = l }

// Traffic are the write routes that send or ask for something (a message,
// a code, an HLR query, a preview) rather than change an account's
// settings or data: their own logs (messages, verifications, HLR
// queries) record them, and the audit log does not, so that the send path
// pays nothing for it.
var Traffic = map[string]bool{
	"POST /messages": true, "POST /v1/send": true, "POST /v1/conversations/start": true,
	"POST /v1/conversations/{id}/messages": true, "POST /verify": true, "POST /lookup/{phoneNumber}/hlr": true,
	"POST /hlr": true, "POST /templates/{name}/preview": true,
}

// MaxBody is the bound of a request body.
func (a *Style) MaxBody() int64 { return a.cfg.MaxBody }

// MethodNotAllowed answers 405 as MessageBird does, with {"errors":[]}, on
// known paths called with another method than their routes'.
func MethodNotAllowed(mux *http.ServeMux, paths ...string) {
	for _, p := range paths {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, &Problem{Status: http.StatusMethodNotAllowed})
		})
	}
}

// NotFound answers an unknown path in MessageBird's format.
func NotFound(w http.ResponseWriter, r *http.Request) { writeProblem(w, errRouteNotFound()) }

type principalKey struct{}

// Principal is who the request's access key authenticated, in the context
// of a handler registered with Style.Handle.
func Principal(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}

// Handle registers an authenticated, instrumented handler that reports
// problems in MessageBird's format. h's error is answered as the platform
// error it is (see fail); a *Problem as it is.
func (a *Style) Handle(mux *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	a.patterns = append(a.patterns, pattern)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := NewStatusRecorder(w)
		defer func() {
			a.metrics.HTTPDuration.WithLabelValues(pattern, r.Method, strconv.Itoa(rec.Status)).Observe(time.Since(start).Seconds())
		}()
		key, ok := auth.FromHeader(r.Header.Get("Authorization"))
		if !ok {
			writeProblem(rec, errUnauthorized()) // tries no key: not a failure to count
			return
		}
		at := authguard.Attempt{Door: authguard.API, Source: authguard.Source(r), Prefix: authguard.Prefix(key)}
		if wait, ok := a.guard.Allow(at); !ok {
			rec.Header().Set("Retry-After", authguard.RetryAfter(wait))
			writeProblem(rec, errTooManyFailures(wait))
			return
		}
		p, err := a.auth.Authenticate(r.Context(), key)
		at.KeyID, at.AccountID, at.Test = p.KeyID, p.AccountID, p.Test
		if err != nil {
			if !errors.Is(err, auth.ErrUnauthorized) {
				if store.Unavailable(err) {
					a.log.Warn("api: authenticating: the database is unavailable", "err", err)
					writeProblem(rec, errDatabaseUnavailable(rec))
					return
				}
				a.log.Error("api: authenticating", "err", err)
				writeProblem(rec, errInternal())
				return
			}
			reason := "unknown_key"
			if errors.Is(err, auth.ErrRevoked) {
				reason = "revoked_key"
			}
			a.guard.Failed(at, reason)
			writeProblem(rec, errUnauthorized())
			return
		}
		a.guard.Succeeded(at)
		if prob := CheckRequest(r); prob != nil {
			writeProblem(rec, prob)
			return
		}
		if p.UserID != "" { // a personal API token: its user's role decides
			if perm, ok := tokenRoutes[pattern]; !ok || !users.Can(p.Role, perm) {
				writeProblem(rec, errRoleRefused(p.Role))
				return
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if a.changes != nil && !Traffic[pattern] && r.Method != http.MethodGet && r.Method != http.MethodHead {
			ctx, _ := audit.WithNote(r.Context())
			r = r.WithContext(ctx)
			defer a.recordChange(r, rec, pattern, p, audit.KeepBody(r))
		}
		if err := h(rec, r); err != nil {
			a.fail(rec, r, err)
		}
	})
}

// recordChange writes a key's successful write request to the audit log.
func (a *Style) recordChange(r *http.Request, rec *StatusRecorder, pattern string, p auth.Principal, body func() []byte) {
	if !audit.Changes(r.Method, rec.Status) {
		return
	}
	actor := audit.Key(p.KeyID)
	if p.UserID != "" {
		actor = audit.User(p.UserID)
	}
	c := audit.Change{Actor: actor, Account: p.AccountID, IP: authguard.Source(r), Action: pattern, Object: r.URL.Path}
	if audit.Noted(r.Context()).Fill(&c, body()) {
		a.changes.Record(r.Context(), c)
	}
}

// KeyRevoked tells the authenticator that a key of the request's account
// was revoked, so that this node refuses it from the next request on.
func (a *Style) KeyRevoked(r *http.Request, k *store.AccessKey) {
	a.auth.Revoked()
	by := Principal(r.Context())
	a.trail.Record(slog.LevelInfo, "key.revoked", slog.String("account", k.AccountID), slog.String("key_id", k.ID),
		slog.Bool("test", k.Test), slog.String("by_key_id", by.KeyID), slog.String("source", authguard.Source(r)))
}

// Patterns are the routes registered with Handle, in order: every
// authenticated endpoint of the doors written in this style.
func (a *Style) Patterns() []string { return append([]string(nil), a.patterns...) }

// fail answers an error: problems as they are, anything else as a 500
// whose details go to the log only.
func (a *Style) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	var inv *message.Invalid
	var limit *store.LimitError
	var noPrice *billing.NoPriceError
	var refused *compliance.Rejection
	switch {
	case errors.As(err, &p):
		writeProblem(w, p)
	case errors.As(err, &inv):
		writeProblem(w, Invalid(inv.Field, inv.Reason))
	case errors.Is(err, store.ErrInsufficientBalance):
		writeProblem(w, errNoBalance())
	case errors.As(err, &limit):
		writeProblem(w, errUsageLimit(limit))
	case errors.As(err, &noPrice):
		writeProblem(w, Invalid("recipients", noPrice.Error()))
	case errors.As(err, &refused):
		writeProblem(w, errCompliance(refused.Decision))
	case errors.Is(err, groupcommit.ErrStopped):
		writeProblem(w, errUnavailable())
	case store.Unavailable(err):
		a.log.Warn("api: the database is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, errDatabaseUnavailable(w))
	default:
		a.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, errInternal())
	}
}

// BaseURL is the scheme and host for hrefs: the configured public URL, or
// the request's own.
func (a *Style) BaseURL(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// StatusRecorder is a ResponseWriter that notes the status answered
// (200 until WriteHeader), for metrics and the audit trail.
type StatusRecorder struct {
	http.ResponseWriter
	Status int
}

// NewStatusRecorder wraps w.
func NewStatusRecorder(w http.ResponseWriter) *StatusRecorder {
	return &StatusRecorder{ResponseWriter: w, Status: http.StatusOK}
}

func (s *StatusRecorder) WriteHeader(code int) {
	s.Status = code
	s.ResponseWriter.WriteHeader(code)
}
