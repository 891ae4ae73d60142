package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
)

// BenchmarkPresenceChurn is the presence churn of bench/compare-centrifugo
// inside one process: churners connections over a few presence channels
// (four members each), each joining (subscribe, wait for
// subscription_succeeded) and leaving in a closed loop while the others
// are told of each join and leave. One op is a join+leave cycle; the CPU
// is the server's and the clients' together, so compare profiles
// (-cpuprofile) rather than the time alone. Real WebSockets on loopback.
func BenchmarkPresenceChurn(b *testing.B) {
	const churners, channels = 20, 5
	tb := setup(b, setupOpts{})
	url := tb.ws + "/app/" + tb.app.Key + "?protocol=7&client=bench&version=1"
	var notices atomic.Int64
	type churner struct {
		ws       *websocket.Conn
		socketID string
		acks     chan struct{}
	}
	cs := make([]*churner, churners)
	var readers sync.WaitGroup
	for i := range cs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		_, first, err := ws.Read(ctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		var f struct{ Data string }
		var est struct {
			SocketID string `json:"socket_id"`
		}
		if json.Unmarshal(first, &f) != nil || json.Unmarshal([]byte(f.Data), &est) != nil || est.SocketID == "" {
			b.Fatalf("first frame %q", first)
		}
		c := &churner{ws: ws, socketID: est.SocketID, acks: make(chan struct{}, 16)}
		cs[i] = c
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				_, m, err := ws.Read(context.Background())
				if err != nil {
					return
				}
				switch {
				case bytes.Contains(m, []byte(`"pusher_internal:subscription_succeeded"`)):
					c.acks <- struct{}{}
				case bytes.Contains(m, []byte(`"pusher_internal:member_`)):
					notices.Add(1)
				case bytes.Contains(m, []byte(`"pusher:error"`)), bytes.Contains(m, []byte(`"pusher:subscription_error"`)):
					b.Errorf("server sent %s", m)
				}
			}
		}()
	}
	b.Cleanup(func() {
		for _, c := range cs {
			c.ws.CloseNow()
		}
		readers.Wait()
	})
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			channel := "presence-churn-" + strconv.Itoa(i%channels)
			cd := `{"user_id":"u` + strconv.Itoa(i) + `"}`
			sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
				"channel": channel, "channel_data": cd,
				"auth": realtime.ChannelAuth(tb.app.Key, tb.app.Secret, c.socketID, channel, cd)}})
			unsub, _ := json.Marshal(map[string]any{"event": "pusher:unsubscribe", "data": map[string]string{"channel": channel}})
			ctx := context.Background()
			for left.Add(-1) >= 0 {
				if err := c.ws.Write(ctx, websocket.MessageText, sub); err != nil {
					b.Error(err)
					return
				}
				select {
				case <-c.acks:
				case <-time.After(10 * time.Second):
					b.Error("no subscription_succeeded within 10 s")
					return
				}
				if err := c.ws.Write(ctx, websocket.MessageText, unsub); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(notices.Load())/float64(b.N), "notices/op")
}
