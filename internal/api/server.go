// Package api assembles omnigate's HTTP surface on one address: health and
// readiness probes, Prometheus metrics, and the doors it is given (the
// MessageBird REST door, omnigate's account API, the admin API …), with
// unknown paths answered in MessageBird's format.
package api

import (
	"context"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
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
	return mux
}
