// Package api assembles omnigate's HTTP surface on one address: health and
// readiness probes, Prometheus metrics, and the doors it is given (the
// MessageBird REST door, omnigate's account API, the admin API …), with
// unknown paths answered in MessageBird's format.
package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/metrics"
)

// Pinger reports whether the platform can serve: database reachable,
// migrations applied, writes succeeding.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Door is a public contract served over HTTP: it adds its routes to mux.
type Door interface {
	Register(mux *http.ServeMux)
}

// Handler builds the HTTP handler: the probes and metrics, then each door,
// then the 404 for any other path.
func Handler(ready Pinger, m *metrics.Metrics, doors ...Door) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: database unavailable, not migrated or not taking writes\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", m.Handler())
	for _, d := range doors {
		d.Register(mux)
	}
	mux.HandleFunc("/", rest.NotFound)
	return methodOverride(hostRoots(mux))
}

// methodOverride serves GET …?_method=PUT (or POST, PATCH, DELETE) as that
// method, the alternative MessageBird documents for clients that can only
// send GET; the Ruby SDK adds contacts to a group with
// GET /groups/{id}?_method=PUT&ids[]=…. Parameters stay in the query, where
// the endpoint must read them. Only a request authenticated with a
// MessageBird access key (Authorization: AccessKey …) is rewritten, a
// header no browser sends by itself: a link or an image a browser follows,
// with cookies or cached HTTP Basic credentials (the Twilio door's), cannot
// change anything through it.
func methodOverride(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.RawQuery, "_method=") {
			next.ServeHTTP(w, r) // nearly every request: no header is parsed
			return
		}
		if _, key := auth.FromHeader(r.Header.Get("Authorization")); key {
			q := r.URL.Query()
			switch m := strings.ToUpper(q.Get("_method")); m {
			case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				q.Del("_method")
				u := *r.URL
				u.RawQuery = q.Encode()
				r2 := *r
				r2.Method, r2.URL = m, &u
				r = &r2
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rootedPrefixes are the Conversations and Numbers APIs' paths as their
// own hosts serve them (conversations.messagebird.com/v1/send, …): omnigate
// serves them under /v1 on its one address. The Go SDK puts /v1 in its
// paths; the PHP, Python and Ruby SDKs put it in the host's base URL, so
// an application that gives them omnigate's address as the base of every
// host sends /send, /conversations/…, /webhooks, /phone-numbers/… with no
// /v1. Those are served too. GET /messages/{id} is not among them: on one
// address it is the SMS door's (a Conversations client reads a message
// with its base set to …/v1).
var rootedPrefixes = []string{"/send", "/conversations", "/channels", "/phone-numbers", "/available-phone-numbers"}

// hostRoots serves the rooted paths (and /webhooks and /webhooks/{id},
// but not the providers' /webhooks/{kind}/{connector}) as their /v1 forms,
// so that routes, permissions and metrics are the /v1 ones.
func hostRoots(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rooted(r.URL.Path) {
			u := *r.URL
			u.Path = "/v1" + u.Path
			if u.RawPath != "" {
				u.RawPath = "/v1" + u.RawPath
			}
			r2 := *r
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

func rooted(path string) bool {
	if rest, ok := strings.CutPrefix(path, "/webhooks"); ok {
		return rest == "" || rest[0] == '/' && !strings.Contains(rest[1:], "/")
	}
	for _, p := range rootedPrefixes {
		if rest, ok := strings.CutPrefix(path, p); ok && (rest == "" || rest[0] == '/') {
			return true
		}
	}
	return false
}
