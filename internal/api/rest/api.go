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

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/store"
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
	metrics *metrics.Metrics
	log     *slog.Logger
}

// New makes the style the doors are built on.
func New(cfg Config, a *auth.Authenticator, m *metrics.Metrics, log *slog.Logger) *Style {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	return &Style{cfg: cfg, auth: a, metrics: m, log: log}
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
		if prob := CheckRequest(r); prob != nil {
			writeProblem(rec, prob)
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

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
