package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/worker"
)

const adminToken = "test-admin-token-0123456789abcdef0123"

// admin calls the operator API.
func (s *server) admin(method, path, contentType, body string) response {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("X-Operator", "ann")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: raw}
	json.Unmarshal(raw, &r.json)
	return r
}

// accountWith creates an account with a balance and returns its live key.
func (s *server) accountWith(balance int64) (id, key string) {
	s.t.Helper()
	c, err := accounts.Create(context.Background(), s.app.store, accounts.New{Name: "billed", Balance: balance})
	if err != nil {
		s.t.Fatal(err)
	}
	s.approveSenders(c.Account.ID)
	return c.Account.ID, c.LiveKey
}

func balanceOf(t *testing.T, s *server, key string) float64 {
	t.Helper()
	r := s.do("GET", "/balance", key, "", nil)
	if r.status != 200 {
		t.Fatalf("balance: %d %s", r.status, r.raw)
	}
	return r.json["amount"].(float64)
}

func billingServer(t *testing.T, engine string, tune ...func(*Config)) *server {
	return start(t, engine, append([]func(*Config){func(c *Config) {
		c.AdminToken = adminToken
		c.Notifier.Pool.Poll = 20 * time.Millisecond
		c.Notifier.Retry = worker.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	}}, tune...)...)
}

// Every recipient is charged per segment when the message is accepted; the
// price shows in the message and the balance and ledger move together.
func TestChargingOnAccept(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine) // the demo seeds a catch-all 0.05 EUR per segment
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678,31612345679", "body": strings.Repeat("x", 200)})
		for _, it := range items(m) {
			if p := it["price"].(map[string]any); p["amount"] != 0.1 || p["currency"] != "EUR" {
				t.Fatalf("price %v, want 0.1 EUR (2 parts × 0.05)", p)
			}
		}
		if b := balanceOf(t, s, s.key); b != 999.8 {
			t.Fatalf("balance %v, want 999.8", b)
		}
		l := s.get("/ledger")
		first := l.json["items"].([]any)[0].(map[string]any)
		if first["kind"] != "charge" || first["amount"] != -0.2 || first["reference"] != m["id"] || first["balanceAfter"] != 999.8 {
			t.Fatalf("ledger %s", l.raw)
		}
		// Test keys see the price but are never charged.
		r := s.postJSON(s.testKey, map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x"})
		if items(r.json)[0]["price"].(map[string]any)["amount"] != 0.05 || balanceOf(t, s, s.key) != 999.8 {
			t.Fatalf("test key: %s, balance %v", r.raw, balanceOf(t, s, s.key))
		}
		q := s.get("/prices/sms?recipient=%2B31612345678&body=" + strings.Repeat("a", 161))
		if q.status != 200 || q.json["country"] != "NL" || q.json["messagePartCount"] != 2.0 ||
			q.json["price"].(map[string]any)["amount"] != 0.1 || q.json["pricePerSegment"].(map[string]any)["amount"] != 0.05 {
			t.Fatalf("price lookup: %d %s", q.status, q.raw)
		}
	})
}

// Hundreds of concurrent requests against a small balance: exactly what the
// balance pays for is accepted, the rest get 422 code 25, nothing is
// overdrawn.
func TestConcurrentSendsCannotOverdraw(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine)
		_, key := s.accountWith(1_000_000) // 1 EUR: 20 messages at 0.05
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 200; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.postJSON(key, map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x"})
				mu.Lock()
				codes[r.status]++
				mu.Unlock()
				if r.status == http.StatusUnprocessableEntity {
					if code, _, _ := errorOf(t, r); code != 25 {
						t.Errorf("422 with code %v", code)
					}
				}
			}()
		}
		wg.Wait()
		if codes[201] != 20 || codes[422] != 180 {
			t.Fatalf("answers %v, want 20 × 201 and 180 × 422", codes)
		}
		if b := balanceOf(t, s, key); b != 0 {
			t.Fatalf("balance %v, want 0", b)
		}
		if l := s.do("GET", "/messages?limit=1", key, "", nil); l.json["totalCount"] != 20.0 {
			t.Fatalf("%v messages stored, want 20", l.json["totalCount"])
		}
	})
}

// Limits: alerts at 80 % and 100 % once, by webhook and email; at 100 % the
// block policy refuses with a clear error.
func TestUsageLimitsAndAlerts(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		mail := newSMTPSink(t)
		var mu sync.Mutex
		var alerts []map[string]any
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var a map[string]any
			json.NewDecoder(r.Body).Decode(&a)
			mu.Lock()
			alerts = append(alerts, a)
			mu.Unlock()
		}))
		t.Cleanup(hook.Close)
		s := billingServer(t, engine, func(c *Config) { c.SMTPAddr = mail.addr })
		id, key := s.accountWith(100_000_000)
		for _, req := range []struct{ method, path, body string }{
			{"PUT", "/admin/accounts/" + id + "/limits", `{"metric":"messages","channel":"sms","period":"day","limit":10,"policy":"block"}`},
			{"PUT", "/admin/accounts/" + id + "/billing", `{"alertUrl":"` + hook.URL + `","alertEmails":["ops@example.com","cfo@example.com"]}`},
		} {
			if r := s.admin(req.method, req.path, "application/json", req.body); r.status != 200 {
				t.Fatalf("%s %s: %d %s", req.method, req.path, r.status, r.raw)
			}
		}
		send := func(n int) response {
			rcpts := make([]string, n)
			for i := range rcpts {
				rcpts[i] = "3161234567" + string(rune('0'+i))
			}
			return s.postJSON(key, map[string]any{"originator": "Shop", "recipients": rcpts, "body": "x"})
		}
		if r := send(8); r.status != 201 {
			t.Fatalf("8 of 10: %d %s", r.status, r.raw)
		}
		waitFor(t, "the 80 % alert", 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(alerts) == 1 })
		if r := send(2); r.status != 201 {
			t.Fatalf("10 of 10: %d %s", r.status, r.raw)
		}
		r := send(1)
		if code, _, desc := errorOf(t, r); r.status != http.StatusUnprocessableEntity || code != 26 || !strings.Contains(desc, "usage limit") {
			t.Fatalf("over the limit: %d %s", r.status, r.raw)
		}
		waitFor(t, "two alerts by webhook and email", 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(alerts) == 2 && len(mail.messages()) == 2
		})
		if alerts[0]["threshold"] != 80.0 || alerts[1]["threshold"] != 100.0 || alerts[1]["accountId"] != id || alerts[1]["used"] != 10.0 {
			t.Fatalf("alerts %v", alerts)
		}
		m := mail.messages()[1]
		if !strings.HasPrefix(m, "ops@example.com,cfo@example.com\n") || !strings.Contains(m, "Subject: Usage alert: 100%") || !strings.Contains(m, "blocked") {
			t.Fatalf("alert mail:\n%s", m)
		}
		u := s.do("GET", "/usage", key, "", nil)
		if it := u.json["items"].([]any)[0].(map[string]any); it["used"] != 10.0 || it["percent"] != 100.0 {
			t.Fatalf("usage %s", u.raw)
		}
	})
}

// Below the threshold a top-up is requested once; an operator confirms it
// and the balance grows by it.
func TestAutoTopUp(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine)
		_, key := s.accountWith(1_000_000) // 1 EUR
		r := s.do("PUT", "/billing/autotopup", key, "application/json", []byte(`{"enabled":true,"threshold":"0.95","amount":25}`))
		if r.status != 200 || r.json["enabled"] != true || r.json["consent"] == "" {
			t.Fatalf("autotopup: %d %s", r.status, r.raw)
		}
		for i := 0; i < 3; i++ {
			if r := s.postJSON(key, map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x"}); r.status != 201 {
				t.Fatalf("send: %d %s", r.status, r.raw)
			}
		}
		list := s.do("GET", "/topups", key, "", nil)
		tops := list.json["items"].([]any)
		if len(tops) != 1 {
			t.Fatalf("top-ups %s", list.raw)
		}
		top := tops[0].(map[string]any)
		if top["status"] != "pending" || top["automatic"] != true || top["amount"] != 25.0 {
			t.Fatalf("top-up %v", top)
		}
		if r := s.admin("POST", "/admin/topups/"+top["id"].(string)+"/confirm", "", ""); r.status != 200 {
			t.Fatalf("confirm: %d %s", r.status, r.raw)
		}
		if r := s.admin("POST", "/admin/topups/"+top["id"].(string)+"/confirm", "", ""); r.status != 409 {
			t.Fatalf("confirming twice: %d %s", r.status, r.raw)
		}
		if b := balanceOf(t, s, key); b != 25.85 {
			t.Fatalf("balance %v, want 25.85", b)
		}
		// Switching off withdraws the consent.
		if r := s.do("PUT", "/billing/autotopup", key, "application/json", []byte(`{"enabled":false}`)); r.json["enabled"] != false {
			t.Fatalf("switching off: %s", r.raw)
		}
	})
}

func TestStatements(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine)
		for i := 0; i < 3; i++ {
			s.send(map[string]any{"originator": "Shop", "recipients": "31612345678,447400123456", "body": "x"})
		}
		month := time.Now().UTC().Format("2006-01")
		r := s.get("/statements/" + month)
		totals := r.json["totals"].(map[string]any)
		if r.status != 200 || len(r.json["lines"].([]any)) != 2 || totals["messages"] != 3.0 || totals["recipients"] != 6.0 || totals["amount"] != 0.3 {
			t.Fatalf("statement %d %s", r.status, r.raw)
		}
		c := s.do("GET", "/statements/"+month+".csv", s.key, "", nil)
		lines := strings.Split(strings.TrimSpace(string(c.raw)), "\n")
		if c.status != 200 || len(lines) != 4 || lines[0] != "day,channel,country,messages,recipients,segments,amount,currency" ||
			!strings.HasPrefix(lines[3], "total,,,3,6,6,0.3,EUR") {
			t.Fatalf("CSV statement:\n%s", c.raw)
		}
		if bad := s.get("/statements/november"); bad.status != 422 {
			t.Fatalf("bad month: %d", bad.status)
		}
	})
}

// Bad money input: clear errors, nothing applied.
func TestBillingBadInput(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := billingServer(t, engine)
		id, key := s.accountWith(10_000_000)
		for _, tc := range []struct {
			method, path, body string
			status             int
		}{
			{"POST", "/admin/accounts/" + id + "/ledger", `{"kind":"topup","amount":"-5","reason":"x"}`, 422},
			{"POST", "/admin/accounts/" + id + "/ledger", `{"kind":"topup","amount":"1.2345678","reason":"x"}`, 422},
			{"POST", "/admin/accounts/" + id + "/ledger", `{"kind":"gift","amount":"5","reason":"x"}`, 422},
			{"POST", "/admin/accounts/" + id + "/ledger", `{"kind":"topup","amount":"5"}`, 422},
			{"POST", "/admin/accounts/" + id + "/ledger", `{"kind":"adjustment","amount":"-50","reason":"x"}`, 422},
			{"POST", "/admin/accounts/" + id + "/ledger", `{"kind":"topup","amount":5,"reason":"x","colour":"red"}`, 400},
			{"POST", "/admin/accounts/nobody/ledger", `{"kind":"topup","amount":"5","reason":"x"}`, 404},
			{"PUT", "/admin/accounts/" + id + "/limits", `{"metric":"messages","period":"week","limit":5}`, 422},
			{"PUT", "/admin/accounts/" + id + "/billing", `{"payment":"prepaid","creditLimit":"5"}`, 422},
			{"PUT", "/admin/accounts/" + id + "/billing", `{"alertEmails":["not an address"]}`, 422},
		} {
			if r := s.admin(tc.method, tc.path, "application/json", tc.body); r.status != tc.status || len(r.json["errors"].([]any)) != 1 {
				t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, r.status, r.raw, tc.status)
			}
		}
		// An idempotency key moves money once.
		for i, want := range []int{201, 409} {
			if r := s.admin("POST", "/admin/accounts/"+id+"/ledger", "application/json", `{"kind":"topup","amount":"5","reason":"wire","idempotencyKey":"w-1"}`); r.status != want {
				t.Fatalf("attempt %d: %d %s", i, r.status, r.raw)
			}
		}
		if b := balanceOf(t, s, key); b != 15 {
			t.Fatalf("balance %v after the bad requests and one top-up, want 15", b)
		}
		// A price file with bad rows imports nothing and names every bad line.
		r := s.admin("POST", "/admin/prices", "text/csv", "channel,country,prefix,currency,price\nsms,NL,,EUR,0.07\nsms,XX,,EUR,0.05\nsms,,31,EUR,-1\nsms,DE,,ZZZ,0.1\n")
		_, _, desc := errorOf(t, r)
		if r.status != 422 || !strings.Contains(desc, "line 3") || !strings.Contains(desc, "line 4") || !strings.Contains(desc, "line 5") || strings.Contains(desc, "line 2") {
			t.Fatalf("bad price file: %d %s", r.status, r.raw)
		}
		if q := s.get("/prices/sms?recipient=31612345678"); q.json["pricePerSegment"].(map[string]any)["amount"] != 0.05 {
			t.Fatalf("a bad file changed prices: %s", q.raw)
		}
		// Without the token: 401.
		req, _ := http.NewRequest("POST", s.url+"/admin/accounts/"+id+"/ledger", strings.NewReader(`{}`))
		resp, _ := http.DefaultClient.Do(req)
		if resp.StatusCode != 401 {
			t.Fatalf("no token: %d", resp.StatusCode)
		}
		resp.Body.Close()
		for body, want := range map[string]int{`{"enabled":true,"threshold":"1","amount":"-3"}`: 422, `{"enabled":true,"threshold":"abc","amount":"3"}`: 400, `{"threshold":"1"}`: 422} {
			if r := s.do("PUT", "/billing/autotopup", key, "application/json", []byte(body)); r.status != want {
				t.Errorf("autotopup %s: %d %s, want %d", body, r.status, r.raw, want)
			}
		}
		if r := s.do("POST", "/topups", s.testKey, "application/json", []byte(`{"amount":"5"}`)); r.status != 403 {
			t.Errorf("test-key top-up: %d %s", r.status, r.raw)
		}
		for i, want := range []int{201, 409} {
			if r := s.do("POST", "/topups", key, "application/json", []byte(`{"amount":"5","idempotencyKey":"k"}`)); r.status != want {
				t.Errorf("top-up request %d: %d %s", i, r.status, r.raw)
			}
		}
	})
}
