package app

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHealthReadinessMetrics(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		for _, path := range []string{"/healthz", "/readyz"} {
			if r := s.do("GET", path, "", "", nil); r.status != http.StatusOK {
				t.Fatalf("%s = %d %s", path, r.status, r.raw)
			}
		}
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x"})
		s.waitStatus(m["id"].(string), "delivered")
		// Counters move just after the commit that the API already shows.
		var text string
		waitFor(t, "the delivered count", 10*time.Second, func() bool {
			text = string(s.do("GET", "/metrics", "", "", nil).raw)
			return strings.Contains(text, `status="delivered"} 1`)
		})
		for _, want := range []string{
			`omnigate_messages_accepted_total{channel="sms"} 1`,
			`omnigate_recipient_status_total{channel="sms",connector="demo-smsc",status="delivered"} 1`,
			`omnigate_queue_jobs{kind="send"}`,
			`omnigate_queue_oldest_due_seconds{kind="send"}`,
			`omnigate_http_request_duration_seconds_bucket{code="201",method="POST",route="POST /messages"`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		// Metrics carry no secrets or personal data.
		for _, leak := range []string{s.key, "31612345678"} {
			if strings.Contains(text, leak) {
				t.Errorf("metrics contain %q", leak)
			}
		}
	})
}
