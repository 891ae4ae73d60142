package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/push"
)

// beamsCall calls the Beams publish or device API with a bearer (or none).
func beamsCall(t *testing.T, s *server, method, path, bearer, body string) response {
	t.Helper()
	req, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r response
	r.status = resp.StatusCode
	json.NewDecoder(resp.Body).Decode(&r.json)
	return r
}

// TestBeamsCredentialsAPI: an account gives its instance its own APNs key
// and FCM service account through the REST API (checked, stored sealed,
// shown without the keys), the instance's deliveries use them, and the
// operator sets its quota through the admin API, which the account reads;
// a quota lowered below the month's use refuses publishes and sends the
// 80 % and 100 % notices.
func TestBeamsCredentialsAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		var notices []map[string]any
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var a map[string]any
			json.NewDecoder(r.Body).Decode(&a)
			mu.Lock()
			notices = append(notices, a)
			mu.Unlock()
		}))
		t.Cleanup(hook.Close)
		s := billingServer(t, engine, func(c *Config) {
			c.Push.Simulator = true
			c.Push.Service.Pool.Poll = 20 * time.Millisecond
		})
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/billing", "application/json", `{"alertUrl":"`+hook.URL+`"}`); r.status != 200 {
			t.Fatalf("alert URL: %d %s", r.status, r.raw)
		}
		r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"shop"}`))
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id, secret := r.json["app_id"].(string), r.json["secret"].(string)
		base := "/beams/instances/" + id
		if r := s.get(base); r.status != 200 || r.json["apns"] != nil || r.json["fcm"] != nil {
			t.Fatalf("a new instance: %d %s", r.status, r.raw)
		}

		sims := s.app.pushSims
		key, err := sims.apns.AddKey("SHOPKEY001", "SHOPTEAM01", "com.shop.app")
		if err != nil {
			t.Fatal(err)
		}
		apnsBody := func(key string) []byte {
			b, _ := json.Marshal(map[string]any{"key": key, "key_id": "SHOPKEY001", "team_id": "SHOPTEAM01", "topic": "com.shop.app"})
			return b
		}
		// Bad keys are refused naming the field; nothing is stored.
		for body, param := range map[string]string{
			string(apnsBody("not a key")): "key",
			`{"key":` + string(jsonOf(string(key))) + `,"key_id":"short","team_id":"SHOPTEAM01","topic":"com.shop.app"}`: "key_id",
			`{"key_id":"SHOPKEY001","team_id":"SHOPTEAM01","topic":"com.shop.app"}`:                                      "key",
		} {
			r := s.do("PUT", base+"/apns", s.key, "application/json", []byte(body))
			if _, p, _ := errorOf(t, r); r.status != 422 || p != param {
				t.Errorf("%.60s: %d %s, want 422 naming %s", body, r.status, r.raw, param)
			}
		}
		if r := s.do("PUT", base+"/fcm", s.key, "application/json", []byte(`{"service_account":{"type":"service_account","project_id":"p"}}`)); r.status != 422 {
			t.Errorf("a service account without a key: %d %s", r.status, r.raw)
		}
		if r := s.do("PUT", base+"/apns", s.testKey, "application/json", apnsBody(string(key))); r.status != 403 {
			t.Errorf("a test key set credentials: %d %s", r.status, r.raw)
		}
		_, otherKey, _, _ := s.newAccount("other")
		if r := s.do("PUT", base+"/apns", otherKey, "application/json", apnsBody(string(key))); r.status != 404 {
			t.Errorf("another account set credentials: %d %s", r.status, r.raw)
		}

		r = s.do("PUT", base+"/apns", s.key, "application/json", apnsBody(string(key)))
		if a, _ := r.json["apns"].(map[string]any); r.status != 200 || a["key_id"] != "SHOPKEY001" || a["topic"] != "com.shop.app" || strings.Contains(string(r.raw), "PRIVATE") {
			t.Fatalf("set APNs: %d %s", r.status, r.raw)
		}
		sa, _ := json.Marshal(map[string]any{"service_account": json.RawMessage(sims.fcm.AddServiceAccount("shop-project"))})
		r = s.do("PUT", base+"/fcm", s.key, "application/json", sa)
		if f, _ := r.json["fcm"].(map[string]any); r.status != 200 || f["project_id"] != "shop-project" || strings.Contains(string(r.raw), "PRIVATE") {
			t.Fatalf("set FCM: %d %s", r.status, r.raw)
		}
		counts, err := s.app.store.SecretCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			if strings.HasPrefix(c.Column, "push_") && (c.Clear != 0 || len(c.ByKey) == 0) {
				t.Errorf("%s: %d in clear, sealed %v", c.Column, c.Clear, c.ByKey)
			}
		}

		// Devices of the instance get its publishes with its credentials.
		for platform, token := range map[string]string{"apns": "6e1326c0e4758b54332fab3b3cb2f9ed92e2cd332e9ba8182f49027054b64d29", "fcm": "fcm-shop-1"} {
			r := beamsCall(t, s, "POST", "/device_api/v1/instances/"+id+"/devices/"+platform, "", `{"token":"`+token+`"}`)
			dev, _ := r.json["id"].(string)
			if r.status != 200 || beamsCall(t, s, "POST", "/device_api/v1/instances/"+id+"/devices/"+platform+"/"+dev+"/interests/deals", "", "").status != 200 {
				t.Fatalf("registering a %s device: %d %v", platform, r.status, r.json)
			}
		}
		publish := `{"interests":["deals"],"apns":{"aps":{"alert":"Sale"}},"fcm":{"notification":{"title":"Sale"}}}`
		if r := beamsCall(t, s, "POST", "/publish_api/v1/instances/"+id+"/publishes/interests", secret, publish); r.status != 200 {
			t.Fatalf("publish: %d %v", r.status, r.json)
		}
		waitFor(t, "deliveries with the instance's credentials", 20*time.Second, func() bool {
			return len(sims.apns.Deliveries()) == 1 && len(sims.fcm.Deliveries()) == 1
		})
		if d := sims.apns.Deliveries()[0]; d.KeyID != "SHOPKEY001" || d.Topic != "com.shop.app" {
			t.Errorf("APNs delivery %+v", d)
		}
		if d := sims.fcm.Deliveries()[0]; d.Project != "shop-project" {
			t.Errorf("FCM delivery %+v", d)
		}

		// The operator lowers the quota to the month's use: the account
		// reads it, publishes are refused, and the notices go.
		if r := s.admin("PUT", "/admin/beams/instances/"+id+"/quota", "application/json", `{"maxPublishesPerMonth":-1}`); r.status != 422 {
			t.Errorf("a negative quota: %d %s", r.status, r.raw)
		}
		if r := s.admin("PUT", "/admin/beams/instances/"+id+"/quota", "application/json", `{"maxPublishesPerMonth":1}`); r.status != 200 ||
			r.json["maxPublishesPerMonth"] != 1.0 || r.json["publishesThisMonth"] != 1.0 {
			t.Fatalf("set quota: %d %s", r.status, r.raw)
		}
		if r := s.get(base + "/quota"); r.status != 200 || r.json["max_publishes_per_month"] != 1.0 || r.json["publishes_this_month"] != 1.0 {
			t.Fatalf("the account's quota: %d %s", r.status, r.raw)
		}
		if r := beamsCall(t, s, "POST", "/publish_api/v1/instances/"+id+"/publishes/interests", secret, publish); r.status != 429 {
			t.Fatalf("over the quota: %d %v", r.status, r.json)
		}
		waitFor(t, "the quota's notices", 10*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, x := range notices {
				if x["type"] == push.NoticeType {
					n++
				}
			}
			return n == 2
		})

		// Removing the instance's credentials: back to the platform's.
		if r := s.do("DELETE", base+"/apns", s.key, "", nil); r.status != 204 {
			t.Fatalf("delete APNs: %d %s", r.status, r.raw)
		}
		if r := s.do("DELETE", base+"/apns", s.key, "", nil); r.status != 404 {
			t.Fatalf("delete APNs again: %d %s", r.status, r.raw)
		}
		if r := s.get(base); r.json["apns"] != nil || r.json["fcm"] == nil {
			t.Fatalf("after deleting APNs: %s", r.raw)
		}
	})
}

func jsonOf(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
