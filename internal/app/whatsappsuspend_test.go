package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// When the Cloud API says the business account is gone (131031 account
// locked, 133010 number not registered), the connector is suspended
// instead of retried: the recipient fails with the provider's code and a
// reason naming the suspension, the account gets a notice (its alert
// webhook), later messages fail at once without reaching the provider,
// and once an operator reactivates the connector they go again.
func TestWhatsAppSuspension(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		for _, code := range []int{131031, 133010} {
			s := billingServer(t, engine, func(c *Config) { c.Demo = false }) // no demo fallback to fail over to
			ctx := context.Background()
			var mu sync.Mutex
			var notices []map[string]any
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var n map[string]any
				json.NewDecoder(r.Body).Decode(&n)
				mu.Lock()
				notices = append(notices, n)
				mu.Unlock()
			}))
			defer hook.Close()
			if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/billing", "", `{"alertUrl":"`+hook.URL+`"}`); r.status/100 != 2 {
				t.Fatalf("alert url: %d %s", r.status, r.raw)
			}
			sim, err := chatsim.Start(chatsim.Config{WebhookURL: s.url + "/webhooks/whatsapp/wa"})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Stop()
			settings, _ := json.Marshal(map[string]any{"baseUrl": sim.URL() + "/v21.0", "phoneNumberId": "1055",
				"accessToken": "test-token", "appSecret": "test-secret", "verifyToken": "test-verify"})
			if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "wa", Kind: "whatsapp", Settings: settings,
				Enabled: true, UpdatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := s.app.store.AddRoute(ctx, &store.Route{Channel: message.ChannelWhatsApp, Pattern: destination.Pattern{Prefix: "966"},
				Connectors: []string{"wa"}, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := s.app.connectors.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			handsetWrote(t, s, s.accountID, "966501234567")
			send := func() message.Recipient {
				t.Helper()
				m := &message.Message{AccountID: s.accountID, Channel: message.ChannelWhatsApp, Originator: "1055",
					Body: "Your order has shipped.", Purpose: "transactional", Recipients: []message.Recipient{{Address: "966501234567"}}}
				if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
					t.Fatal(err)
				}
				var r message.Recipient
				waitFor(t, "a final status", 10*time.Second, func() bool {
					got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
					if err != nil {
						t.Fatal(err)
					}
					r = got.Recipients[0]
					return r.Status == message.DeliveryFailed || r.Status == message.Delivered
				})
				return r
			}
			sim.FailNext(1, code, "")
			r := send()
			if r.Status != message.DeliveryFailed || r.StatusErrorCode != code || !strings.Contains(r.StatusReason, "connector wa is suspended") ||
				!strings.Contains(r.StatusReason, "omnigate connector activate --name wa") {
				t.Fatalf("%d: recipient %+v", code, r)
			}
			cs, err := s.app.store.ListConnectors(ctx)
			if err != nil || len(cs) != 1 || cs[0].Suspended == "" || cs[0].SuspendedCode != code {
				t.Fatalf("connectors %+v %v", cs, err)
			}
			waitFor(t, "the notice", 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(notices) == 1 })
			mu.Lock()
			if n := notices[0]; n["type"] != NoticeConnectorSuspended || n["data"].(map[string]any)["connector"] != "wa" ||
				n["data"].(map[string]any)["code"] != float64(code) {
				t.Fatalf("notice %v", n)
			}
			mu.Unlock()
			// Refused at once, with the rule, without reaching the provider.
			before := len(sim.Sent())
			if r := send(); r.Status != message.DeliveryFailed || r.StatusErrorCode != code || !strings.Contains(r.StatusReason, "suspended") {
				t.Fatalf("while suspended: %+v", r)
			}
			if len(sim.Sent()) != before {
				t.Fatal("a message reached the provider through a suspended connector")
			}
			// The operator reactivates it (what `omnigate connector activate` does).
			if changed, err := s.app.store.SuspendConnector(ctx, "wa", "", 0, time.Now(), nil); err != nil || !changed {
				t.Fatalf("activate: %v %v", changed, err)
			}
			if err := s.app.connectors.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			if r := send(); r.Status != message.Delivered {
				t.Fatalf("after activation: %+v", r)
			}
			mu.Lock()
			if len(notices) != 1 {
				t.Errorf("notices %v", notices)
			}
			mu.Unlock()
		}
	})
}
