package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// A message's page shows its life in time order: accepted, the compliance
// decision, charged, each part sent to its connector, each part's receipt
// with its error code, and each status report call with its HTTP answer,
// in the user's language; the webhook log of the message is linked for
// roles that may open it.
func TestMessageTimeline(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.account("A")
		at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		m := &message.Message{ID: ids.New(), AccountID: a, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
			Originator: "omnigate", Body: "hello", Reference: "tl", Validity: 3600, CreatedAt: at, Purpose: "transactional",
			Details:    message.Details{SMS: &message.SMS{DataCoding: "plain"}},
			Recipients: []message.Recipient{{Address: "31612345678", Country: "NL", CountryPrefix: 31, Status: message.Scheduled, PartCount: 2, Price: 100_000, PriceCurrency: "EUR"}}}
		if err := e.st.AcceptMessages(ctx, []*message.Message{m}); err != nil {
			t.Fatal(err)
		}
		sent := at.Add(time.Minute)
		if err := e.st.Finish(ctx, []*store.Outcome{{Updates: []store.StatusUpdate{{AccountID: a, MessageID: m.ID, Seq: 0, Status: message.Sent,
			At: sent, Connector: "smsc-one", Parts: []string{"p-" + m.ID[:8] + "-1", "p-" + m.ID[:8] + "-2"}}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.ApplyReceipts(ctx, []store.Receipt{
			{Connector: "smsc-one", ProviderIDs: []string{"p-" + m.ID[:8] + "-1"}, Status: message.Delivered, ReceivedAt: at.Add(2 * time.Minute)},
			{Connector: "smsc-one", ProviderIDs: []string{"p-" + m.ID[:8] + "-2"}, Status: message.DeliveryFailed, ErrorCode: 69, ReceivedAt: at.Add(3 * time.Minute)},
		}); err != nil {
			t.Fatal(err)
		}
		call := &store.WebhookAttempt{AccountID: a, Kind: store.AttemptReport, MessageID: m.ID, Event: "delivery_failed", URL: "https://hooks.example.org/r",
			Code: 503, Outcome: store.AttemptRetry, Attempt: 1, At: at.Add(4 * time.Minute)}
		again := *call
		again.Code, again.Outcome, again.Attempt, again.At = 200, store.AttemptOK, 2, at.Add(5*time.Minute)
		if err := e.st.RecordWebhookAttempts(ctx, []*store.WebhookAttempt{call, &again}); err != nil {
			t.Fatal(err)
		}

		b := e.browser()
		b.signIn(e.user(a, users.RoleDeveloper))
		st, body := b.do("GET", "/console/messages/"+m.ID, nil)
		if st != http.StatusOK {
			t.Fatalf("message page: %d %.2000s", st, body)
		}
		steps := timelineSteps(t, body)
		want := []string{"accepted", "compliance decision", "charged", "sent · <bdi>31612345678</bdi> · part 1 of 2 · <bdi>smsc-one</bdi>",
			"sent · <bdi>31612345678</bdi> · part 2 of 2", "receipt: delivered · <bdi>31612345678</bdi> · part 1 of 2",
			"receipt: delivery failed · <bdi>31612345678</bdi> · part 2 of 2 · code 69",
			"status report · <bdi>delivery failed</bdi> · HTTP answer 503 · failed, will retry",
			"status report · <bdi>delivery failed</bdi> · HTTP answer 200 · succeeded"}
		i := 0
		for _, s := range steps {
			if i < len(want) && strings.HasPrefix(s, want[i]) {
				i++
			}
		}
		if i < len(want) {
			t.Fatalf("timeline lacks %q in this order:\n%s", want[i], strings.Join(steps, "\n"))
		}
		if !strings.Contains(body, `href="/console/webhooks?message=`+m.ID+`"`) {
			t.Errorf("no link to the message's webhook log")
		}

		// In French, and for a role without the webhook log: the calls are
		// shown, the link is not.
		fb := e.browser()
		fb.lang = "fr"
		fb.signIn(e.user(a, users.RoleCompliance))
		_, body = fb.do("GET", "/console/messages/"+m.ID, nil)
		fr := strings.Join(timelineSteps(t, body), "\n")
		for _, w := range []string{"envoyé · <bdi>31612345678</bdi> · partie 1 sur 2", "accusé\u202f: échec de remise", "code 69", "rapport d’état", "réponse HTTP 503", "échec, nouvel essai prévu"} {
			if !strings.Contains(fr, w) {
				t.Errorf("French timeline lacks %q:\n%s", w, fr)
			}
		}
		if strings.Contains(body, "/console/webhooks?message=") {
			t.Errorf("a compliance user is sent to the webhook log")
		}
	})
}

var stepRE = regexp.MustCompile(`(?s)<li><time datetime="([^"]+)">[^<]*</time> — (.*?)</li>`)

// timelineSteps are the timeline's lines without their dates, checking
// that the dates go forward.
func timelineSteps(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	last := ""
	for _, m := range stepRE.FindAllStringSubmatch(page, -1) {
		if m[1] < last {
			t.Errorf("timeline out of order at %s: %s", m[1], m[2])
		}
		last = m[1]
		out = append(out, m[2])
	}
	return out
}

// The billing page in French: the label's colon after a narrow no-break
// space, and the ledger's reasons in French (the account's opening
// balance is stored as "opening balance").
func TestBillingPageFrench(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.lang = "fr"
		b.signIn(e.user(e.account("A"), users.RoleBilling))
		st, body := b.do("GET", "/console/billing", nil)
		if st != http.StatusOK || !strings.Contains(body, "Solde\u202f: 5,00") || !strings.Contains(body, "solde d’ouverture") || strings.Contains(body, "opening balance") {
			t.Fatalf("billing in French: %d %.3000s", st, body)
		}
	})
}
