package app

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
)

// TestReceiptNeverComes: a recipient a carrier took whose receipt never
// comes (here the binds are transmitters: the SMSC cannot send receipts)
// does not stay "sent" forever: past its validity and the grace it is
// expired with statusReason "DLR not received", and a status report says
// so. One without a validity waits its 48 hours.
func TestReceiptNeverComes(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		var reports []map[string]string
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			mu.Lock()
			reports = append(reports, map[string]string{"id": q.Get("id"), "status": q.Get("status"), "statusReason": q.Get("statusReason")})
			mu.Unlock()
		}))
		t.Cleanup(hook.Close)
		s := start(t, engine, func(c *Config) {
			c.Demo = false
			c.ReceiptGrace = 500 * time.Millisecond
			c.MaintenanceEvery = 100 * time.Millisecond
		})
		srv := s.useSMSC(smsc.Config{}, smppconn.Settings{BindMode: smppconn.BindTransmitter})
		// A validity of 3 s, not 1: under -race on a loaded machine the
		// submit alone has taken more than a second, and a message past its
		// validity is never submitted (a flake in CI).
		short := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "code 1234", "validity": 3, "reportUrl": hook.URL})
		long := s.send(map[string]any{"originator": "Shop", "recipients": "31612345679", "body": "see you", "reportUrl": hook.URL})
		waitFor(t, "both submitted", 10*time.Second, func() bool { return srv.Stats().Submits.Load() == 2 })

		m := s.waitStatus(short["id"].(string), "expired")
		it := items(m)[0]
		if it["statusReason"] != ReasonNoReceipt || it["statusErrorCode"] != nil {
			t.Fatalf("expired recipient: %v", it)
		}
		waitFor(t, "the status report", 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range reports {
				if r["id"] == short["id"] && r["status"] == "expired" && r["statusReason"] == ReasonNoReceipt {
					return true
				}
			}
			return false
		})
		time.Sleep(300 * time.Millisecond) // a few more passes
		if st := items(s.get("/messages/" + long["id"].(string)).json)[0]["status"]; st != "sent" {
			t.Fatalf("a recipient within its 48 hours is %v, want sent", st)
		}
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range reports {
			if r["id"] == short["id"] && r["status"] == "expired" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d expired reports for one recipient: %v", n, reports)
		}
	})
}
