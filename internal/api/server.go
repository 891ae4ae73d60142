// Package api assembles omnigate's HTTP surface: the protocol doors
// (MessageBird REST today), health and readiness probes, and Prometheus
// metrics, on one address.
package api

import (
	"context"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/api/admin"
	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/metrics"
)

// Pinger reports whether the platform can serve: database reachable,
// migrations applied.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Handler builds the HTTP handler; admin may be nil (no admin API).
func Handler(mb *rest.API, admin *admin.API, ready Pinger, m *metrics.Metrics) http.Handler {
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
			w.Write([]byte("not ready: database unavailable or not migrated\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", m.Handler())
	mb.Register(mux)
	if admin != nil {
		admin.Register(mux)
	}
	mux.HandleFunc("/", rest.NotFound)
	return mux
}
