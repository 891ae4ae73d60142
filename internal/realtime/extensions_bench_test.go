package realtime_test

import (
	"context"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkExtensionsFanout publishes order-book updates through the HTTP
// API to 200 subscribers of one channel, all plain, all with one tag
// filter (matching every event), or all with delta compression, and
// reports the bytes each delivery puts on the wire and the process's CPU
// (server and clients together, user+sys) per delivery. The HTTP request
// is the same in all three: the differences are the extensions' cost.
//
//	go test -run XXX -bench ExtensionsFanout -benchtime 2000x ./internal/realtime
func BenchmarkExtensionsFanout(b *testing.B) {
	for _, mode := range []string{"plain", "filter", "delta"} {
		b.Run(mode, func(b *testing.B) { benchFanout(b, mode) })
	}
}

func benchFanout(b *testing.B, mode string) {
	bundle := setup(b, setupOpts{})
	const subs = 200
	var bytes, frames atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range subs {
		c, _, err := websocket.Dial(ctx, bundle.ws+"/app/"+bundle.app.Key+"?protocol=7", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		sub := `{"event":"pusher:subscribe","data":{"channel":"book"}}`
		switch mode {
		case "filter":
			sub = `{"event":"pusher:subscribe","data":{"channel":"book","filter":{"key":"symbol","cmp":"eq","val":"BTC"}}}`
		case "delta":
			sub = `{"event":"pusher:subscribe","data":{"channel":"book","delta":true}}`
		}
		c.Read(ctx) // connection_established
		if err := c.Write(ctx, websocket.MessageText, []byte(sub)); err != nil {
			b.Fatal(err)
		}
		c.Read(ctx) // subscription_succeeded
		go func() {
			for {
				_, p, err := c.Read(ctx)
				if err != nil {
					return
				}
				bytes.Add(int64(len(p)))
				frames.Add(1)
			}
		}()
	}
	tags := map[string]any{"tags": map[string]string{"symbol": "BTC"}}
	cpu0 := cpuTime()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		bundle.trigger(b, []string{"book"}, "book", book(i), tags)
		i++
	}
	want := int64(i) * subs
	deadline := time.Now().Add(30 * time.Second)
	for frames.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(bytes.Load())/float64(frames.Load()), "B/delivery")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(want), "cpu-ns/delivery")
}

// cpuTime is the process's user+sys CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
