package main

import (
	"testing"
	"time"
)

// TestRecorderFrames: a delivery is each "ts=<ns>" in a frame — one per
// Pusher frame (data double-encoded), several per Centrifugo frame (pushes
// separated by newlines) — and publications older than the step are not
// counted.
func TestRecorderFrames(t *testing.T) {
	var r recorder
	now := time.Now().UnixNano()
	ts := func(ago time.Duration) string { return itoa(int(now - int64(ago))) }
	r.since.Store(now - int64(time.Minute))
	pusher := `{"event":"e","channel":"one","data":"{\"m\":\"ts=` + ts(5*time.Millisecond) + `;xxx\"}"}`
	centrifugo := `{"push":{"channel":"one","pub":{"data":{"m":"ts=` + ts(10*time.Millisecond) + `;x"}}}}` + "\n" +
		`{"push":{"channel":"one","pub":{"data":{"m":"ts=` + ts(20*time.Millisecond) + `;x"}}}}`
	old := `{"push":{"channel":"one","pub":{"data":{"m":"ts=` + ts(2*time.Minute) + `;x"}}}}`
	for _, f := range []string{pusher, centrifugo, old, `{"event":"pusher:pong","data":"{}"}`, `ts=;`} {
		r.frame([]byte(f), now)
	}
	if got := r.deliveries.Load(); got != 3 {
		t.Fatalf("%d deliveries, want 3", got)
	}
	if p50 := r.hist.quantile(0.5); p50 < 10*time.Millisecond || p50 > 11*time.Millisecond {
		t.Errorf("p50 %v, want 10 ms within a bucket", p50)
	}
	if m := time.Duration(r.hist.max.Load()); m != 20*time.Millisecond {
		t.Errorf("max %v, want 20 ms", m)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}} {
		if got := h.quantile(tc.q); got < tc.want || float64(got) > float64(tc.want)*1.03 {
			t.Errorf("quantile(%v) = %v, want %v within 3 %%", tc.q, got, tc.want)
		}
	}
}

func TestPayloadSize(t *testing.T) {
	for _, n := range []int{100, 1000} {
		if got := len(payload(n)); got != n {
			t.Errorf("payload(%d) is %d bytes", n, got)
		}
	}
}
