package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
)

// Inbound SMS: a handset's message (long ones in parts, out of order or
// not) reaches the account owning the number — listed with direction mo and
// forwarded, signed, to the account's inbound URL — and passes the inbound
// hooks.
func TestInboundMessages(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var key string
		sink := newReportSink(t, &key, 0)
		s := start(t, engine, func(c *Config) { c.Demo = false })
		key = s.signingKey
		ctx := context.Background()
		if err := s.app.store.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := accounts.SetInboundURL(ctx, s.app.store, s.accountID, sink.srv.URL+"/in"); err != nil {
			t.Fatal(err)
		}
		hooked := make(chan string, 10)
		s.app.pipeline.AddInboundHook(func(ctx context.Context, m *message.Message) error {
			hooked <- m.Body
			return nil
		})
		srv := s.useSMSC(smsc.Config{SystemID: "omnigate"}, smppconn.Settings{})
		waitFor(t, "the connector to bind", 10*time.Second, func() bool { return s.app.connectors.Running()["carrier"] > 0 })
		long := strings.Repeat("Bonjour, ", 30) // 270 characters: two parts
		for _, text := range []string{"STOP", long, "توقف"} {
			if err := srv.Inject("", "+31612345678", "3197010000001", text); err != nil {
				t.Fatal(err)
			}
		}
		// A message to a number nobody owns is refused to the SMSC.
		if err := srv.Inject("", "31612345678", "3197099999999", "lost"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "three forwarded inbound messages", 10*time.Second, func() bool { return len(sink.reports()) == 3 })
		bodies := map[string]bool{}
		for _, q := range sink.reports() {
			if q.Get("originator") != "31612345678" || q.Get("recipient") != "3197010000001" || q.Get("id") == "" || q.Get("createdDatetime") == "" {
				t.Fatalf("forwarded %v", q)
			}
			bodies[q.Get("body")] = true
		}
		if !bodies["STOP"] || !bodies[long] || !bodies["توقف"] {
			t.Fatalf("forwarded bodies %v", bodies)
		}
		r := s.get("/messages?direction=mo")
		if r.status != http.StatusOK || r.json["totalCount"] != 3.0 {
			t.Fatalf("inbound list: %s", r.raw)
		}
		for _, it := range r.json["items"].([]any) {
			m := it.(map[string]any)
			if m["direction"] != "mo" || items(m)[0]["recipient"] != 3197010000001.0 || items(m)[0]["status"] != "delivered" {
				t.Fatalf("inbound message %v", m)
			}
		}
		for i := 0; i < 3; i++ {
			select {
			case <-hooked:
			case <-time.After(5 * time.Second):
				t.Fatal("an inbound message did not reach the hooks")
			}
		}
	})
}
