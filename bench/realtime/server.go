package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // profiles on /debug/pprof/ of the bench server
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
)

// serverInfo is the line the server role prints when it listens.
type serverInfo struct {
	Addr   string `json:"addr"`
	AppID  string `json:"app_id"`
	Key    string `json:"key"`
	Secret string `json:"secret"`
}

// memInfo is what GET /bench/mem answers: the process's resident memory and
// the Go runtime's view, after a garbage collection.
type memInfo struct {
	RSS         int64   `json:"rss"`
	HeapInuse   uint64  `json:"heap_inuse"`
	StackInuse  uint64  `json:"stack_inuse"`
	Goroutines  int     `json:"goroutines"`
	Connections int     `json:"connections"`
	CPUSeconds  float64 `json:"cpu_seconds"` // user + system time of the process so far
}

// runServer runs the realtime server with a fresh SQLite store and one app
// without limits until in ends (the orchestrator closes it), serving
// /bench/mem beside the realtime routes.
func runServer(ctx context.Context, in io.Reader, out io.Writer) error {
	dir, err := os.MkdirTemp("", "omnigate-bench-rt-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "bench.db"), Synchronous: sqlite.SyncNormal})
	if err != nil {
		return err
	}
	defer st.Close()
	acct := &store.Account{ID: ids.New(), Name: "bench", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now().UTC()}
	if err := st.CreateAccount(ctx, acct, nil); err != nil {
		return err
	}
	app, err := realtime.CreateApp(ctx, st, acct.ID, "bench", nil)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := realtime.New(realtime.Config{NodeID: "bench"}, realtime.Deps{Store: st, Logger: log})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	mux := http.NewServeMux()
	srv.Register(mux)
	mux.HandleFunc("GET /bench/mem", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		json.NewEncoder(w).Encode(memInfo{RSS: rss(), HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse,
			Goroutines: runtime.NumGoroutine(), Connections: srv.Stats().Connections, CPUSeconds: cpuSeconds()})
	})
	mux.Handle("/debug/pprof/", http.DefaultServeMux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	b, _ := json.Marshal(serverInfo{Addr: ln.Addr().String(), AppID: app.ID, Key: app.Key, Secret: app.Secret})
	fmt.Fprintln(out, string(b))
	io.Copy(io.Discard, in) // until the orchestrator closes stdin
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	return srv.Stop(sctx)
}

// cpuSeconds is the process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rss reads the process's resident set size from /proc (0 elsewhere).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
