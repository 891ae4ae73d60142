package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebug serves Go's profiler (/debug/pprof/) on its own listener when
// Config.DebugAddr is set. It is separate from the API so that profiles are
// never reachable on the public address; it returns a function that stops
// it.
func (a *App) startDebug() (stop func(context.Context) error, err error) {
	if a.cfg.DebugAddr == "" {
		return func(context.Context) error { return nil }, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", a.cfg.DebugAddr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("debug listener stopped", "err", err)
		}
	}()
	a.log.Info("profiler listening", "addr", ln.Addr().String())
	return srv.Shutdown, nil
}
