package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// A logged Conversations delivery is re-sent from the Webhooks page: a new
// pending delivery of the same webhook, conversation, event and payload,
// which the deliverer leases like any other; the re-send is audited. A
// webhook removed since answers 410 and queues nothing; another account's
// attempt is not found.
func TestConversationDeliveryResend(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.account("A")
		hook := &store.ConvWebhook{ID: ids.New(), AccountID: a, URL: "https://hooks.example.org/conv", Events: []string{store.EventMessageUpdated}}
		if err := e.st.CreateConvWebhook(ctx, hook); err != nil {
			t.Fatal(err)
		}
		conv, msg := ids.New(), ids.New()
		payload, _ := json.Marshal(store.ResentDelivery{ConversationID: conv, Payload: `{"seq":0,"status":"delivered","at":"2026-12-04T10:00:00Z"}`})
		logged := func(webhookID string) int64 {
			t.Helper()
			if err := e.st.RecordWebhookAttempts(ctx, []*store.WebhookAttempt{{AccountID: a, Kind: store.AttemptConversation, MessageID: msg, WebhookID: webhookID,
				Event: store.EventMessageUpdated, Payload: string(payload), URL: hook.URL, Code: 500, Outcome: store.AttemptDropped, Attempt: 10, At: time.Now().UTC()}}); err != nil {
				t.Fatal(err)
			}
			list, err := e.st.WebhookAttempts(ctx, a, store.WebhookAttemptFilter{Kind: store.AttemptConversation, Limit: 1})
			if err != nil || len(list) == 0 {
				t.Fatalf("attempts: %v %v", list, err)
			}
			return list[0].ID
		}
		id := logged(hook.ID)

		b := e.browser()
		dev := e.user(a, users.RoleDeveloper)
		csrf := b.signIn(dev)
		if _, page := b.do("GET", "/console/webhooks?kind=conversation", nil); !strings.Contains(page, "/console/webhooks/"+strconv.FormatInt(id, 10)+"/resend") {
			t.Fatalf("no re-send button for the delivery: %.2000s", page)
		}
		if st, loc := b.do("POST", "/console/webhooks/"+strconv.FormatInt(id, 10)+"/resend", url.Values{"csrf": {csrf}}); st != http.StatusSeeOther || !strings.Contains(loc, "resent=1") {
			t.Fatalf("re-send: %d %s", st, loc)
		}
		ds, err := e.st.LeaseDeliveries(ctx, time.Now().Add(time.Second), time.Now().Add(time.Minute), 1000)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, d := range ds {
			if d.AccountID == a {
				found++
				if d.WebhookID != hook.ID || d.ConversationID != conv || d.MessageID != msg || d.Event != store.EventMessageUpdated || !strings.Contains(d.Payload, `"status":"delivered"`) {
					t.Errorf("delivery queued again: %+v", d)
				}
				if err := e.st.FinishDelivery(ctx, d.ID, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		if found != 1 {
			t.Fatalf("%d deliveries queued for the account, want 1", found)
		}
		all, err := e.st.(store.AuditLog).AuditEntries(ctx, store.AuditFilter{AccountID: a, Limit: 10})
		var rows []store.AuditEntry // without dev's sign-in (signinaudit_test.go)
		for _, r := range all {
			if r.Action != "console user.signin" {
				rows = append(rows, r)
			}
		}
		if err != nil || len(rows) != 1 || rows[0].Action != "console webhook.resent" || rows[0].ActorID != dev.ID || !strings.Contains(rows[0].After, hook.ID) {
			t.Errorf("audit rows %+v, %v", rows, err)
		}

		// A webhook removed since: 410, nothing queued.
		gone := logged("removed-hook")
		if st, _ := b.do("POST", "/console/webhooks/"+strconv.FormatInt(gone, 10)+"/resend", url.Values{"csrf": {csrf}}); st != http.StatusGone {
			t.Errorf("re-sending to a removed webhook: %d", st)
		}
		// Another account's user finds no such attempt.
		ob := e.browser()
		ocsrf := ob.signIn(e.user(e.account("B"), users.RoleOwner))
		if st, _ := ob.do("POST", "/console/webhooks/"+strconv.FormatInt(id, 10)+"/resend", url.Values{"csrf": {ocsrf}}); st != http.StatusNotFound {
			t.Errorf("another account's re-send: %d", st)
		}
		ds, _ = e.st.LeaseDeliveries(ctx, time.Now().Add(time.Second), time.Now().Add(time.Minute), 1000)
		for _, d := range ds {
			if d.AccountID == a {
				t.Errorf("queued after a refused re-send: %+v", d)
			}
		}
	})
}
