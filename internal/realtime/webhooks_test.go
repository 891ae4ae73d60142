package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

func TestWebhooks(t *testing.T) {
	hook := newHookRecorder(t)
	hook.fail = 2 // the first two deliveries fail and are retried
	b := setup(t, setupOpts{app: func(a *store.RealtimeApp) { a.WebhookURL = hook.srv.URL }})
	hook.key = func() string { return b.app.Key }
	hook.secret = func() string { return b.app.Secret }
	a := b.connect(t)
	a.subscribe("news", "", "")
	cd := `{"user_id":"ann"}`
	a.subscribe("presence-room", b.auth(a, "presence-room", cd), cd)
	a.subscribe("private-chat", b.auth(a, "private-chat", ""), "")
	a.send(map[string]any{"event": "client-typing", "channel": "private-chat", "data": map[string]any{"x": 1}})
	a.quiet()
	a.c.CloseNow()
	want := []string{"channel_occupied news", "member_added presence-room ann", "channel_occupied presence-room",
		"channel_occupied private-chat", "client_event private-chat", "channel_vacated news",
		"member_removed presence-room ann", "channel_vacated presence-room", "channel_vacated private-chat"}
	eventually(t, "every webhook event", func() bool { return len(hook.named()) >= len(want) })
	got := hook.named()
	for _, w := range want {
		if n := hook.count(w); n != 1 {
			t.Errorf("%q sent %d times; got %v", w, n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d events %v, want %d", len(got), got, len(want))
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	for _, e := range hook.events {
		if e["name"] == "client_event" {
			if e["event"] != "client-typing" || e["data"] != `{"x":1}` || e["socket_id"] != a.socketID {
				t.Errorf("client_event webhook %v", e)
			}
		}
	}
	if hook.calls < 3 {
		t.Errorf("%d webhook calls, want the failures retried", hook.calls)
	}
}

func TestWebhookFilterAndBatching(t *testing.T) {
	hook := newHookRecorder(t)
	b := setup(t, setupOpts{
		cfg: realtime.Config{Webhook: realtime.WebhookConfig{BatchWait: 200 * time.Millisecond}},
		app: func(a *store.RealtimeApp) {
			a.WebhookURL, a.WebhookEvents = hook.srv.URL, []string{"channel_occupied"}
		}})
	hook.key = func() string { return b.app.Key }
	hook.secret = func() string { return b.app.Secret }
	c := b.connect(t)
	for i := 0; i < 120; i++ {
		c.send(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": fmt.Sprintf("ch-%d", i)}})
	}
	for i := 0; i < 120; i++ {
		c.expect("pusher_internal:subscription_succeeded")
	}
	c.c.CloseNow() // 120 vacated events, filtered out
	eventually(t, "120 occupied events", func() bool { return len(hook.named()) >= 120 })
	hook.mu.Lock()
	calls := hook.calls
	hook.mu.Unlock()
	if calls < 3 || calls > 10 {
		t.Errorf("120 events in %d requests, want batches of at most 50", calls)
	}
	for _, e := range hook.named() {
		if e[:len("channel_occupied")] != "channel_occupied" {
			t.Fatalf("filtered event sent: %s", e)
		}
	}
}

func TestWebhookGivesUp(t *testing.T) {
	hook := newHookRecorder(t)
	hook.fail = 1000
	b := setup(t, setupOpts{cfg: realtime.Config{Webhook: realtime.WebhookConfig{Attempts: 3}},
		app: func(a *store.RealtimeApp) { a.WebhookURL = hook.srv.URL }})
	c := b.connect(t)
	c.subscribe("x", "", "")
	eventually(t, "the event dropped after 3 attempts", func() bool { return b.srv.Stats().WebhooksDropped == 1 })
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.calls != 3 {
		t.Fatalf("%d attempts, want 3", hook.calls)
	}
	_ = context.Background()
}

// A batch that fails once (retried after 0.5–1 s) is retried before the app's next batch is sent:
// the receiver sees the app's events in the order they happened.
func TestWebhookBatchesInOrder(t *testing.T) {
	hook := newHookRecorder(t)
	hook.fail = 1
	b := setup(t, setupOpts{
		cfg: realtime.Config{Webhook: realtime.WebhookConfig{BatchWait: 20 * time.Millisecond,
			RetryMin: time.Second, RetryMax: time.Second}},
		app: func(a *store.RealtimeApp) {
			a.WebhookURL, a.WebhookEvents = hook.srv.URL, []string{"channel_occupied"}
		}})
	hook.key = func() string { return b.app.Key }
	hook.secret = func() string { return b.app.Secret }
	// A second app on the same server, whose webhooks must not wait for
	// the first one's retry.
	hook2 := newHookRecorder(t)
	app2, err := realtime.CreateApp(context.Background(), b.st, b.acct.ID, "second", func(a *store.RealtimeApp) {
		a.WebhookURL, a.WebhookEvents = hook2.srv.URL, []string{"channel_occupied"}
	})
	if err != nil {
		t.Fatal(err)
	}
	hook2.key = func() string { return app2.Key }
	hook2.secret = func() string { return app2.Secret }
	c := b.connect(t)
	var want []string
	for i := 0; i < 5; i++ { // one batch each: 60 ms apart, batches close after 20 ms
		ch := fmt.Sprintf("ord-%d", i)
		c.subscribe(ch, "", "")
		want = append(want, "channel_occupied "+ch)
		time.Sleep(60 * time.Millisecond)
	}
	c2 := dial(t, b.ws+"/app/"+app2.Key+"?protocol=7")
	c2.expect("pusher:connection_established")
	c2.subscribe("elsewhere", "", "")
	start := time.Now()
	eventually(t, "the second app's webhook", func() bool { return hook2.count("channel_occupied elsewhere") == 1 })
	if len(hook.named()) == len(want) {
		t.Fatal("the first app's batches were all sent before the second app's")
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("the second app's webhook took %v: held up by the first app's retry", d)
	}
	eventually(t, "every batch", func() bool { return len(hook.named()) >= len(want) })
	if got := hook.named(); !slices.Equal(got, want) {
		t.Fatalf("webhooks arrived as %v, want %v", got, want)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if hook.calls != len(want)+1 {
		t.Fatalf("%d calls, want %d (one retry)", hook.calls, len(want)+1)
	}
}
