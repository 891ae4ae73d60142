package app

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSendAndDeliver(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		m := s.send(map[string]any{
			"originator": "omnigate",
			"recipients": []string{"31612345678", "+31 6 1234 5679", "31612345678"},
			"body":       "Hello",
			"reference":  "order-17",
		})
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(m["id"].(string)) {
			t.Fatalf("id %v is not 32 hex", m["id"])
		}
		if m["href"] != s.url+"/messages/"+m["id"].(string) || m["direction"] != "mt" || m["type"] != "sms" ||
			m["datacoding"] != "plain" || m["mclass"] != 1.0 || m["reference"] != "order-17" || m["validity"] != nil ||
			m["scheduledDatetime"] != nil {
			t.Fatalf("message fields: %v", m)
		}
		if _, err := time.Parse(time.RFC3339, m["createdDatetime"].(string)); err != nil || !strings.HasSuffix(m["createdDatetime"].(string), "+00:00") {
			t.Fatalf("createdDatetime %v: want 2006-01-02T15:04:05+00:00", m["createdDatetime"])
		}
		rc := m["recipients"].(map[string]any)
		if rc["totalCount"] != 2.0 || rc["totalSentCount"] != 2.0 {
			t.Fatalf("duplicate recipient not folded, or counts wrong: %v", rc)
		}
		it := items(m)
		if it[0]["recipient"] != 31612345678.0 || it[1]["recipient"] != 31612345679.0 || it[0]["status"] != "sent" ||
			it[0]["recipientCountry"] != "Netherlands" || it[0]["recipientCountryPrefix"] != 31.0 ||
			it[0]["messagePartCount"] != 1.0 || it[0]["messageLength"] != 5.0 || it[0]["statusErrorCode"] != nil {
			t.Fatalf("recipient items: %v", it)
		}
		done := s.waitStatus(m["id"].(string), "delivered")
		rc = done["recipients"].(map[string]any)
		if rc["totalDeliveredCount"] != 2.0 || rc["totalSentCount"] != 2.0 || rc["totalDeliveryFailedCount"] != 0.0 {
			t.Fatalf("after delivery: %v", rc)
		}
		if items(done)[0]["statusReason"] != "successfully delivered" {
			t.Fatalf("statusReason %v", items(done)[0]["statusReason"])
		}
	})
}

func TestRequestVariants(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		// Node and Python send recipients as one comma-separated string.
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678,31612345679", "body": "x"})
		if len(items(m)) != 2 {
			t.Fatalf("comma-separated recipients: %v", m)
		}
		// PHP sends integers and its whole message object, with [] for an
		// empty typeDetails and nulls for unset fields.
		m = s.send(map[string]any{"originator": "Shop", "recipients": []int64{31612345678}, "body": "x", "direction": "mt",
			"type": "sms", "typeDetails": []any{}, "datacoding": "plain", "mclass": 1, "reference": nil, "validity": nil,
			"gateway": nil, "scheduledDatetime": nil, "reportUrl": nil, "createdDatetime": nil})
		if len(items(m)) != 1 {
			t.Fatalf("PHP-style request: %v", m)
		}
		// Go sends groupIds: null and shortenUrls: false.
		s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "x", "groupIds": nil, "shortenUrls": false})
		// Forms: repeated keys, [] keys and comma lists.
		form := url.Values{"originator": {"Shop"}, "body": {"x"}, "recipients[]": {"31612345678", "31612345679"}, "recipients": {"31612345670,31612345671"}}
		r := s.do("POST", "/messages", s.key, "application/x-www-form-urlencoded", []byte(form.Encode()))
		if r.status != http.StatusCreated || len(items(r.json)) != 4 {
			t.Fatalf("form request: %d %s", r.status, r.raw)
		}
		// Flash messages have mclass 0.
		m = s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x", "type": "flash"})
		if m["type"] != "flash" || m["mclass"] != 0.0 {
			t.Fatalf("flash: %v", m)
		}
		// Binary messages: hex body and UDH.
		m = s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "48656c6c6f", "type": "binary", "typeDetails": map[string]any{"udh": "050003010101"}})
		if m["type"] != "binary" || m["typeDetails"].(map[string]any)["udh"] != "050003010101" {
			t.Fatalf("binary: %v", m)
		}
		// The same request accepted with a trailing slash and a charset.
		r = s.do("POST", "/messages", s.key, "application/json; charset=utf-8", []byte(`{"originator":"Shop","recipients":["31612345678"],"body":"x"}`))
		if r.status != http.StatusCreated {
			t.Fatalf("json with charset: %d %s", r.status, r.raw)
		}
	})
}

func TestEncodingAndSegments(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		for _, tc := range []struct {
			body, coding  string
			parts, length float64
		}{
			{strings.Repeat("a", 160), "plain", 1, 160},
			{strings.Repeat("a", 161), "plain", 2, 161},
			{strings.Repeat("€", 80), "plain", 1, 80},   // extension characters count double: 160 septets
			{strings.Repeat("€", 81), "plain", 2, 81},   // 162 septets
			{"مرحبا بكم في أومنيجيت", "unicode", 1, 21}, // Arabic goes as UCS-2
			{strings.Repeat("ب", 70), "unicode", 1, 70},
			{strings.Repeat("ب", 71), "unicode", 2, 71},
			{"smile 😀", "unicode", 1, 7},
		} {
			m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": tc.body, "datacoding": "auto"})
			it := items(m)[0]
			if m["datacoding"] != tc.coding || it["messagePartCount"] != tc.parts || it["messageLength"] != tc.length {
				t.Errorf("body %.20q: datacoding %v parts %v length %v; want %s %v %v", tc.body, m["datacoding"], it["messagePartCount"], it["messageLength"], tc.coding, tc.parts, tc.length)
			}
		}
		// unicode forces UCS-2 even for GSM text; plain with Arabic is sent
		// as unicode rather than damaged.
		if m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "hi", "datacoding": "unicode"}); m["datacoding"] != "unicode" {
			t.Errorf("datacoding unicode gave %v", m["datacoding"])
		}
		if m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "مرحبا", "datacoding": "plain"}); m["datacoding"] != "unicode" {
			t.Errorf("plain Arabic gave %v", m["datacoding"])
		}
	})
}

func TestScheduledAndCancel(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x", "scheduledDatetime": later})
		it := items(m)[0]
		if it["status"] != "scheduled" || it["statusDatetime"] != nil || m["recipients"].(map[string]any)["totalSentCount"] != 0.0 {
			t.Fatalf("scheduled message: %v", m)
		}
		if m["scheduledDatetime"] != strings.Replace(later, "Z", "+00:00", 1) {
			t.Fatalf("scheduledDatetime %v, want %s", m["scheduledDatetime"], later)
		}
		id := m["id"].(string)
		if r := s.do("DELETE", "/messages/"+id, s.key, "application/json", []byte("{}")); r.status != http.StatusNoContent {
			t.Fatalf("DELETE scheduled = %d %s", r.status, r.raw)
		}
		if r := s.get("/messages/" + id); r.status != http.StatusNotFound {
			t.Fatalf("GET after DELETE = %d", r.status)
		}
		// A message already sending cannot be deleted.
		sent := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x"})
		r := s.do("DELETE", "/messages/"+sent["id"].(string), s.key, "", nil)
		if code, param, _ := errorOf(t, r); r.status != 422 || code != 10 || param != "id" {
			t.Fatalf("DELETE sent message = %d %s", r.status, r.raw)
		}
		// A message scheduled a moment ahead goes out at its time.
		soon := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
		m = s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x", "scheduledDatetime": soon})
		if items(m)[0]["status"] != "scheduled" {
			t.Fatalf("not scheduled: %v", m)
		}
		s.waitStatus(m["id"].(string), "delivered")
	})
}

func TestTestKeyStoresNothing(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		r := s.postJSON(s.testKey, map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x"})
		if r.status != http.StatusCreated || items(r.json)[0]["status"] != "sent" {
			t.Fatalf("test-key create = %d %s", r.status, r.raw)
		}
		if g := s.get("/messages/" + r.json["id"].(string)); g.status != http.StatusNotFound {
			t.Fatalf("test-key message readable: %d", g.status)
		}
		// Test keys get the same validation as live ones.
		bad := s.postJSON(s.testKey, map[string]any{"originator": "Shop", "recipients": "12", "body": "x"})
		if bad.status != 422 {
			t.Fatalf("test key skipped validation: %d %s", bad.status, bad.raw)
		}
		if l := s.get("/messages"); l.json["totalCount"] != 0.0 {
			t.Fatalf("test-key messages listed: %s", l.raw)
		}
	})
}

func TestAccountsAreIsolated(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		_, otherKey, _, _ := s.newAccount("other")
		m := s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "secret"})
		foreign := s.do("GET", "/messages/"+m["id"].(string), otherKey, "", nil)
		unknown := s.do("GET", "/messages/"+strings.Repeat("0", 32), otherKey, "", nil)
		if foreign.status != 404 || string(foreign.raw) != string(unknown.raw) {
			t.Fatalf("foreign id answered %d %s; unknown id answered %s", foreign.status, foreign.raw, unknown.raw)
		}
		if l := s.do("GET", "/messages", otherKey, "", nil); l.json["totalCount"] != 0.0 {
			t.Fatalf("another account lists the message: %s", l.raw)
		}
		if d := s.do("DELETE", "/messages/"+m["id"].(string), otherKey, "", nil); d.status != 404 {
			t.Fatalf("another account deleted: %d", d.status)
		}
	})
}

func TestListMessages(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		var ids []string
		for i := 0; i < 5; i++ {
			orig := "Shop"
			if i == 2 {
				orig = "Other"
			}
			ids = append(ids, s.send(map[string]any{"originator": orig, "recipients": "31612345678", "body": "x"})["id"].(string))
		}
		r := s.get("/messages?limit=2&offset=2")
		if r.status != 200 || r.json["offset"] != 2.0 || r.json["limit"] != 2.0 || r.json["count"] != 2.0 || r.json["totalCount"] != 5.0 {
			t.Fatalf("page: %s", r.raw)
		}
		list := r.json["items"].([]any)
		if list[0].(map[string]any)["id"] != ids[2] || list[1].(map[string]any)["id"] != ids[1] {
			t.Fatalf("not newest first: %s", r.raw)
		}
		links := r.json["links"].(map[string]any)
		if links["first"] != s.url+"/messages/?offset=0&limit=2" || links["previous"] != s.url+"/messages/?offset=0&limit=2" ||
			links["next"] != s.url+"/messages/?offset=4&limit=2" || links["last"] != s.url+"/messages/?offset=4&limit=2" {
			t.Fatalf("links: %v", links)
		}
		if r := s.get("/messages/?originator=Other"); r.json["totalCount"] != 1.0 {
			t.Fatalf("originator filter: %s", r.raw)
		}
		if r := s.get("/messages?recipient=%2B31612345678&direction=mt&type=sms"); r.json["totalCount"] != 5.0 {
			t.Fatalf("recipient filter: %s", r.raw)
		}
		if r := s.get("/messages"); r.json["limit"] != 20.0 || r.json["links"].(map[string]any)["next"] != nil {
			t.Fatalf("defaults: %s", r.raw)
		}
	})
}

func TestBalance(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		r := s.get("/balance")
		if r.status != 200 || r.json["payment"] != "prepaid" || r.json["type"] != "euros" || r.json["amount"] != 1000.0 {
			t.Fatalf("balance: %d %s", r.status, r.raw)
		}
	})
}
