package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestHistogram(t *testing.T) {
	h := newHistogram()
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*1.06 {
			t.Errorf("quantile(%v) = %v, want %v within 5 %%", tc.q, got, tc.want)
		}
	}
}

// TestSmoke runs the whole bench, with its child processes, on a few
// connections for a moment: it must deliver everything it publishes.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	if os.Getenv("OMNIGATE_BENCH_CHILD") != "" {
		return
	}
	// The test binary is the child: route -role flags to run().
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, []string{"-conns", "40", "-channels", "4", "-one-rates", "20", "-many-rates", "40", "-duration", "1s"}, nil, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"| one | 20 |", "| many | 40 |", "800/800", "400/400"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestMain lets the test binary play the server and clients roles.
func TestMain(m *testing.M) {
	for i, a := range os.Args {
		if a == "-role" && i+1 < len(os.Args) {
			os.Setenv("OMNIGATE_BENCH_CHILD", "1")
			ctx := context.Background()
			if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
				os.Stderr.WriteString(err.Error() + "\n")
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}
