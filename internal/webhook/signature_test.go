package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

func TestSortedQueryEscapesLikeEncodeURIComponent(t *testing.T) {
	q := url.Values{"b": {"x y"}, "a": {"1+2:3/4"}, "c": {"it's (ok)!*~"}}
	if got, want := sortedQuery(q), "a=1%2B2%3A3%2F4&b=x%20y&c=it's%20(ok)!*~"; got != want {
		t.Fatalf("sortedQuery = %q, want %q", got, want)
	}
}

func TestSignLegacy(t *testing.T) {
	q := url.Values{"id": {"abc"}, "status": {"delivered"}}
	body := []byte(`{"x":1}`)
	h := sha256.Sum256(body)
	mac := hmac.New(sha256.New, []byte("key"))
	mac.Write([]byte("1700000000\nid=abc&status=delivered\n"))
	mac.Write(h[:])
	if got, want := SignLegacy("key", 1700000000, q, body), base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != want {
		t.Fatalf("SignLegacy = %s, want %s", got, want)
	}
}

func TestReportURLKeepsCustomerQuery(t *testing.T) {
	m := &message.Message{ID: "m1", Reference: "r 1"}
	r := &message.Recipient{Address: "31612345678", PartCount: 2}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	full, q, err := withQuery("https://example.com/dlr?tenant=acme&note=a+b", reportQuery(m, r, store.Report{Status: message.Delivered, At: at}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(full, "https://example.com/dlr?tenant=acme&note=a+b&id=m1&") {
		t.Fatalf("URL %s does not keep the customer's query first and as written", full)
	}
	if !strings.Contains(full, "statusDatetime=2026-01-02T03%3A04%3A05%2B00%3A00") || !strings.Contains(full, "reference=r%201") {
		t.Fatalf("URL %s", full)
	}
	if q.Get("tenant") != "acme" || q.Get("note") != "a b" || q.Get("messagePartCount") != "2" || q.Get("statusReason") != "successfully delivered" {
		t.Fatalf("values %v", q)
	}
	for _, bad := range []string{"ftp://x/y", "/relative", "http://", "http://x/%zz?a=%zz"} {
		if _, _, err := withQuery(bad, reportQuery(m, r, store.Report{Status: message.Delivered, At: at})); err == nil {
			t.Errorf("withQuery(%q) accepted", bad)
		}
	}
}
