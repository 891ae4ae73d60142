package app

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Compliance refusals answer with the Twilio code of the rule
// (docs/twilio.md, "Compliance refusals"): a 400 with it, nothing stored.
// A Twilio message has one recipient, so a rule that refuses recipients
// (suppression) refuses the message.
func TestTwilioComplianceCodes(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		_, c := s.twilioCredentials(false)
		ctx := context.Background()
		if err := s.app.store.AddSuppression(ctx, s.accountID, store.Suppression{Channel: "sms", Recipient: "31612345678", Reason: "manual", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		_, before := c.call("GET", "/Messages.json", nil)
		for _, tc := range []struct {
			form url.Values
			code float64
		}{
			{url.Values{"To": {"+31612345678"}, "From": {"Acme"}, "Body": {"hi"}}, 21610},            // suppression
			{url.Values{"To": {"+31612345670"}, "From": {"Unknown"}, "Body": {"hi"}}, 21606},         // sender.identity
			{url.Values{"To": {"+12025550123"}, "From": {"Acme"}, "Body": {"hi"}}, 21612},            // sender.country
			{url.Values{"To": {"+31612345670"}, "From": {"Acme"}, "Body": {"hi\u200bthere"}}, 30007}, // content.hidden_characters
		} {
			code, m := c.call("POST", "/Messages.json", tc.form)
			if code != 400 || m["code"] != tc.code {
				t.Errorf("%v: %d %v, want 400 %v", tc.form, code, m, tc.code)
			}
		}
		if _, after := c.call("GET", "/Messages.json", nil); len(after["messages"].([]any)) != len(before["messages"].([]any)) {
			t.Errorf("refused messages were stored: %v", after)
		}
	})
}
