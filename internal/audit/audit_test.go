package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
)

// Records reach the log as "audit" lines with their event and attributes,
// in order; Stop writes what is queued.
func TestRecordsAreWritten(t *testing.T) {
	var out bytes.Buffer // read once Stop has returned: the writer is done
	trail := audit.New(audit.Config{}, slog.NewJSONHandler(&out, nil))
	trail.Record(slog.LevelWarn, "auth.failed", slog.String("door", "api"), slog.String("source", "192.0.2.1"))
	trail.Start()
	trail.Record(slog.LevelInfo, "admin.action", slog.Int("status", 200))
	trail.Record(slog.LevelDebug, "left.out") // below the handler's level
	if err := trail.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	trail.Record(slog.LevelWarn, "after.stop")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("log:\n%s", out.String())
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["msg"] != "audit" || first["event"] != "auth.failed" || first["level"] != "WARN" || first["source"] != "192.0.2.1" ||
		second["event"] != "admin.action" || second["status"] != 200.0 {
		t.Fatalf("log:\n%s", out.String())
	}
	if trail.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1 (the record after Stop)", trail.Dropped())
	}
}

// A log that does not take lines (a full pipe) never holds up Record:
// records past the queue are dropped and counted.
func TestStuckLogDoesNotBlock(t *testing.T) {
	r, w := io.Pipe() // nobody reads: every write blocks
	defer r.Close()
	trail := audit.New(audit.Config{Queue: 8}, slog.NewTextHandler(w, nil))
	trail.Start()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			trail.Record(slog.LevelWarn, "auth.failed", slog.Int("i", i))
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a stuck log")
	}
	if d := trail.Dropped(); d < 1000-8-1 {
		t.Fatalf("dropped %d of 1000 with a queue of 8", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := trail.Stop(ctx); err == nil {
		t.Fatal("Stop returned with the log stuck")
	}
	r.Close() // the writer's blocked write fails; it drains and ends
}
