package realtime_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
)

// A client that never reads is cut off once its queue is full; the others
// get every event and the publisher never waits.
func TestSlowConsumer(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{SendQueueFrames: 64, SendQueueBytes: 256 << 10}})
	good := b.connect(t)
	good.subscribe("firehose", "", "")
	// The slow client subscribes, then stops reading (its socket buffers
	// fill, then its outbox).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	slow, _, err := websocket.Dial(ctx, b.ws+"/app/"+b.app.Key+"?protocol=7", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	if _, _, err := slow.Read(ctx); err != nil { // connection_established
		t.Fatal(err)
	}
	if err := slow.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:subscribe","data":{"channel":"firehose"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := slow.Read(ctx); err != nil { // subscription_succeeded
		t.Fatal(err)
	}
	eventually(t, "two subscribers", func() bool {
		return strings.Contains(b.api(t, "GET", "/channels/firehose", map[string][]string{"info": {"subscription_count"}}, nil).body, `"subscription_count":2`)
	})
	data := strings.Repeat("x", 8000)
	// 12 MB in all, more than the slow client's socket buffers hold; the
	// good client reads each chunk of 16 (128 KB, half its queue) before
	// the next is sent, so only the slow one can fall behind.
	const events, chunk = 1536, 16
	start := time.Now()
	for i := 0; i < events; i += chunk {
		for j := 0; j < chunk; j++ {
			b.trigger(t, []string{"firehose"}, "burst", data, nil)
		}
		for j := 0; j < chunk; j++ {
			good.expect("burst")
		}
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("publishing took %v", d)
	}
	eventually(t, "the slow client to be cut off", func() bool { return b.srv.Stats().Connections == 1 })
	eventually(t, "4100 in the error log", func() bool {
		errs, _ := b.st.ListRealtimeErrors(context.Background(), b.acct.ID, b.app.ID)
		return len(errs) == 1 && errs[0].Code == 4100
	})
}
