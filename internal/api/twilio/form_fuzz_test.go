package twilio

import (
	"net/url"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzCreateForm feeds request bodies to the door's form parsing and
// create validation: never a panic, and an accepted form always makes a
// message with one recipient, a sender and a body within Twilio's bounds.
func FuzzCreateForm(f *testing.F) {
	for _, s := range []string{
		"To=%2B31612345678&From=Acme&Body=hi",
		"To=%2B31612345678&From=%2B3197010000000&Body=x&SmartEncoded=true&StatusCallback=https%3A%2F%2Fexample.com%2Fcb",
		"To=%2B31612345678&From=Acme&Body=x&SendAt=2026-12-24T10%3A00%3A00Z&ScheduleType=fixed&ValidityPeriod=60",
		"To=whatsapp%3A%2B31612345678&From=Acme&Body=x",
		"To=12&From=&Body=&MediaUrl=x&MessagingServiceSid=MG1",
		"%zz=1&To", "Body=%E2%80%9Chi%E2%80%9D&SmartEncoded=1",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		m, e := build(form, "acct", now)
		if e != nil {
			if m != nil || e.Code == 0 || e.Status < 400 || e.Message == "" {
				t.Fatalf("error %+v with message %v", e, m)
			}
			return
		}
		if len(m.Recipients) != 1 || m.Originator == "" || m.Body == "" || utf8.RuneCountInString(m.Body) > maxBodyChars {
			t.Fatalf("accepted %q as %+v", body, m)
		}
		if !m.ScheduledAt.IsZero() && !m.ScheduledAt.After(now) {
			t.Fatalf("scheduled in the past: %v", m.ScheduledAt)
		}
	})
}
