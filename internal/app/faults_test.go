package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
)

// useSMSC points the server's SMS at a simulator through a configured
// connector and catch-all route, as an operator would.
func (s *server) useSMSC(cfg smsc.Config, settings smppconn.Settings) *smsc.Server {
	s.t.Helper()
	cfg.Listen = "127.0.0.1:0"
	srv, err := smsc.Start(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { srv.Stop(context.Background()) })
	host, port, _ := net.SplitHostPort(srv.Addr())
	settings.Host, settings.SystemID = host, "omnigate"
	settings.Port, _ = strconv.Atoi(port)
	settings.ReconnectMin = smppconn.Duration(20 * time.Millisecond)
	settings.ReconnectMax = smppconn.Duration(500 * time.Millisecond)
	raw, _ := json.Marshal(settings)
	ctx := context.Background()
	if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "carrier", Kind: smppconn.KindName, Settings: raw, Enabled: true, UpdatedAt: time.Now()}); err != nil {
		s.t.Fatal(err)
	}
	if err := s.app.store.AddRoute(ctx, &store.Route{Channel: "sms", Connectors: []string{"carrier"}, CreatedAt: time.Now()}); err != nil {
		s.t.Fatal(err)
	}
	if err := s.app.connectors.Reload(ctx); err != nil {
		s.t.Fatal(err)
	}
	// Every SMS goes to this simulator, never to the demo's SMSC (the
	// fallback) when a first submit finds the carrier busy for a moment.
	if c, ok := s.app.connectors.Connector("carrier"); ok {
		s.app.router.SetFallback(c)
	}
	return srv
}

// The SMPP connection drops again and again under load: every message still
// reaches its final state, nothing is lost, and what was sent twice is
// bounded by what was in flight at each drop.
func TestConnectionDropsUnderLoad(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.Demo = false
			c.Dispatch.Retry.Min, c.Dispatch.Retry.Max = 50*time.Millisecond, 500*time.Millisecond
		})
		const window = 10
		srv := s.useSMSC(smsc.Config{DropEvery: 37, ReceiptDelay: 10 * time.Millisecond}, smppconn.Settings{Window: window})
		var ids []string
		parts := 0
		for i := 0; i < 150; i++ {
			body := fmt.Sprintf("message %d", i)
			n := 1
			if i%3 == 0 {
				body, n = strings.Repeat("long ", 40), 2 // 200 characters: two parts
			}
			m := s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678", "31612345679"}, "body": body})
			ids = append(ids, m["id"].(string))
			parts += 2 * n
		}
		for _, id := range ids {
			s.waitStatus(id, "delivered")
		}
		st := srv.Stats()
		drops, submits := st.Drops.Load(), st.Submits.Load()
		dup := submits - int64(parts)
		t.Logf("%d parts, %d submits, %d drops: %d parts sent twice (%.1f per drop)", parts, submits, drops, dup, float64(dup)/float64(max(drops, 1)))
		if drops < 5 {
			t.Fatalf("only %d drops; the test needs the connection to fail often", drops)
		}
		if dup < 0 {
			t.Fatalf("fewer submits (%d) than parts (%d): something was never sent", submits, parts)
		}
		// A drop can lose the responses of what is in flight on that bind
		// (at most the window), and a message resent whole repeats its
		// earlier parts too.
		if limit := drops * int64(window) * 2; dup > limit {
			t.Fatalf("%d duplicate submits for %d drops; the window bounds them at %d", dup, drops, limit)
		}
	})
}
