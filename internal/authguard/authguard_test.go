package authguard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/metrics"
)

// newGuard is a guard with the limits given and its audit trail.
func newGuard(t *testing.T, cfg authguard.Config) (*authguard.Guard, func() []map[string]any) {
	t.Helper()
	var out bytes.Buffer
	trail := audit.New(audit.Config{}, slog.NewJSONHandler(&out, nil))
	g := authguard.New(cfg, trail, metrics.New())
	return g, func() []map[string]any {
		if err := trail.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err == nil {
				lines = append(lines, m)
			}
		}
		return lines
	}
}

func attempt(source, prefix string) authguard.Attempt {
	return authguard.Attempt{Door: authguard.API, Source: source, Prefix: prefix}
}

// An address gets PerAddress failures, then waits; other addresses and
// a source that authenticated with its prefix go on.
func TestAddressLimit(t *testing.T) {
	g, log := newGuard(t, authguard.Config{PerAddress: 5, PerPrefix: -1})
	trustedAt := attempt("192.0.2.1", "live_good")
	g.Succeeded(trustedAt)
	for i := 0; i < 5; i++ {
		at := attempt("192.0.2.1", "live_guess"+string(rune('a'+i)))
		if _, ok := g.Allow(at); !ok {
			t.Fatalf("failure %d refused before the limit", i)
		}
		g.Failed(at, "unknown_key")
	}
	wait, ok := g.Allow(attempt("192.0.2.1", "live_guessz"))
	if ok || wait <= 0 || wait > 12*time.Second+time.Millisecond { // one token: 60 s / 5
		t.Fatalf("after 5 failures: allowed %v, wait %v", ok, wait)
	}
	if _, ok := g.Allow(attempt("192.0.2.1", "live_neverok")); ok {
		t.Fatal("a prefix never authenticated from the address went through")
	}
	if _, ok := g.Allow(trustedAt); !ok {
		t.Fatal("a source that authenticated with the prefix is locked out")
	}
	if _, ok := g.Allow(attempt("192.0.2.2", "live_guessz")); !ok {
		t.Fatal("another address is held back")
	}
	// IPv6 addresses count by /64.
	for i := 0; i < 5; i++ {
		g.Failed(attempt("2001:db8:1:2::"+string(rune('1'+i)), "x"), "unknown_key")
	}
	if _, ok := g.Allow(attempt("2001:db8:1:2:ffff::1", "y")); ok {
		t.Fatal("another address of the same /64 went through")
	}
	if _, ok := g.Allow(attempt("2001:db8:1:3::1", "y")); !ok {
		t.Fatal("another /64 is held back")
	}
	var failed, limited int
	for _, l := range log() {
		switch l["event"] {
		case "auth.failed":
			failed++
			if l["source"] == nil || l["credential"] == nil || strings.Contains(l["credential"].(string), "live_") {
				t.Fatalf("failure line %v", l)
			}
		case "auth.limited":
			limited++
		}
	}
	if failed != 10 || limited != 2 { // one line per bucket and minute
		t.Fatalf("%d failure lines, %d limit lines", failed, limited)
	}
}

// Attempts checked concurrently on a bucket's last token are all paid
// for: the bucket goes into debt and the wait grows by as much.
func TestConcurrentFailuresPaidFor(t *testing.T) {
	g, _ := newGuard(t, authguard.Config{PerAddress: 5, PerPrefix: -1})
	at := attempt("192.0.2.1", "x")
	for i := 0; i < 4; i++ {
		g.Failed(at, "unknown_key")
	}
	for i := 0; i < 3; i++ { // all three see the last token
		if _, ok := g.Allow(at); !ok {
			t.Fatalf("attempt %d on the last token refused", i)
		}
	}
	for i := 0; i < 3; i++ {
		g.Failed(at, "unknown_key")
	}
	// Two tokens of debt and one to come: three refills of 12 s each.
	if wait, ok := g.Allow(at); ok || wait < 35*time.Second || wait > 36*time.Second {
		t.Fatalf("after 7 failures on 5 tokens: allowed %v, wait %v, want about 36 s", ok, wait)
	}
}

// A prefix gets PerPrefix failures from all addresses together; a source
// trusted with it goes on.
func TestPrefixLimit(t *testing.T) {
	g, _ := newGuard(t, authguard.Config{PerAddress: -1, PerPrefix: 3})
	g.Succeeded(attempt("192.0.2.9", "live_target"))
	for i := 0; i < 3; i++ {
		g.Failed(attempt("198.51.100."+string(rune('1'+i)), "live_target"), "unknown_key")
	}
	if _, ok := g.Allow(attempt("198.51.100.200", "live_target")); ok {
		t.Fatal("a fresh address went on with an exhausted prefix")
	}
	if _, ok := g.Allow(attempt("198.51.100.200", "live_other")); !ok {
		t.Fatal("another prefix is held back")
	}
	if _, ok := g.Allow(attempt("192.0.2.9", "live_target")); !ok {
		t.Fatal("the trusted source is held back")
	}
	if _, ok := g.Allow(authguard.Attempt{Door: authguard.Admin, Source: "198.51.100.200", Prefix: "live_target"}); !ok {
		t.Fatal("the same prefix on another door is held back")
	}
}

// Successes are written once per key, source and interval, with how many
// there were.
func TestSuccessesSampled(t *testing.T) {
	g, log := newGuard(t, authguard.Config{SuccessLogEvery: time.Hour})
	at := attempt("192.0.2.1", "live_abc")
	at.KeyID, at.AccountID = "k1", "a1"
	for i := 0; i < 100; i++ {
		g.Succeeded(at)
	}
	other := at
	other.Source = "192.0.2.2"
	g.Succeeded(other)
	var lines []map[string]any
	for _, l := range log() {
		if l["event"] == "auth.ok" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 || lines[0]["key_id"] != "k1" || lines[0]["account"] != "a1" || lines[1]["source"] != "192.0.2.2" {
		t.Fatalf("success lines %v", lines)
	}
}

// The guard's memory is bounded: past MaxTracked, buckets are dropped and
// the guard keeps working.
func TestBounded(t *testing.T) {
	g, _ := newGuard(t, authguard.Config{PerAddress: 2, PerPrefix: -1, MaxTracked: 100})
	for i := 0; i < 1000; i++ {
		g.Failed(attempt("10.0."+string(rune('0'+i/100%10))+"."+string(rune('0'+i%10)), "p"), "unknown_key")
	}
	for i := 0; i < 2; i++ {
		g.Failed(attempt("192.0.2.1", "p"), "unknown_key")
	}
	if _, ok := g.Allow(attempt("192.0.2.1", "p")); ok {
		t.Fatal("the last address to fail is not held back")
	}
}

// A nil guard allows everything.
func TestNilGuard(t *testing.T) {
	var g *authguard.Guard
	g.Failed(attempt("192.0.2.1", "p"), "unknown_key")
	g.Succeeded(attempt("192.0.2.1", "p"))
	if _, ok := g.Allow(attempt("192.0.2.1", "p")); !ok {
		t.Fatal("a nil guard refused")
	}
}

// BenchmarkSuccess is what the guard adds to an authenticated request:
// Allow and Succeeded, from 8 goroutines per CPU and 64 sources, with no
// failures tracked (the usual case) and with 10,000 buckets of failures.
func BenchmarkSuccess(b *testing.B) {
	for _, tracked := range []int{0, 10000} {
		b.Run("buckets="+strconv.Itoa(tracked), func(b *testing.B) {
			g := authguard.New(authguard.Config{}, nil, metrics.New())
			for i := 0; i < tracked; i++ {
				g.Failed(attempt("10.1."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256), "live_"+strconv.Itoa(i)), "unknown_key")
			}
			var n atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				at := attempt("192.0.2."+strconv.Itoa(int(n.Add(1)%64)), "live_abcdefg")
				at.KeyID, at.AccountID = "k", "a"
				for pb.Next() {
					if _, ok := g.Allow(at); !ok {
						b.Error("refused")
						return
					}
					g.Succeeded(at)
				}
			})
		})
	}
}
