package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

const numbersCSV = `number,country,type,features,monthly_price,region,locality
+31 6 12345671,NL,mobile,sms voice,1.50,Noord-Holland,Amsterdam
31612345672,nl,mobile,sms|voice|whatsapp,1.50,,
31612345673,NL,mobile,sms,1.50,,
31201234567,NL,landline,voice,0.75,Noord-Holland,Amsterdam
447700900123,GB,mobile,sms,2,,
`

func (s *server) numbersJSON(method, path, key string, body any) response {
	s.t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	return s.do(method, path, key, "application/json", b)
}

func historyEvents(t *testing.T, st store.Store, number string) []string {
	t.Helper()
	h, err := st.NumberHistory(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range h {
		out = append(out, e.Event)
	}
	return out
}

func microBalance(t *testing.T, st store.Store, id string) int64 {
	t.Helper()
	a, err := st.GetAccount(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// TestNumbersAPI: an operator's inventory, searched and bought through
// MessageBird's Numbers API, charged when bought and at each renewal;
// bad input answered in MessageBird's format, changing nothing.
func TestNumbersAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		clock := &testClock{t: time.Now().UTC()}
		s := start(t, engine, func(c *Config) { c.Numbers.Now = clock.Now })
		ctx := context.Background()
		added, read, err := importStock(ctx, s.app.store, strings.NewReader(numbersCSV))
		if err != nil || added != 5 || read != 5 {
			t.Fatalf("import: %d of %d, %v", added, read, err)
		}
		// Importing again updates, adds nothing.
		if added, _, err := importStock(ctx, s.app.store, strings.NewReader(numbersCSV)); err != nil || added != 0 {
			t.Fatalf("second import: %d, %v", added, err)
		}
		// A bad file imports nothing and names its lines.
		_, _, err = importStock(ctx, s.app.store, strings.NewReader("number,country,type,features,monthly_price\n31612345679,GB,mobile,sms,1\n31612345678,NL,mobile,fax,1\n"))
		if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "line 3") {
			t.Fatalf("bad file: %v", err)
		}

		r := s.do("GET", "/v1/available-phone-numbers/NL?features=sms", s.key, "", nil)
		if r.status != 200 || r.json["count"] != 3.0 {
			t.Fatalf("search: %d %s", r.status, r.raw)
		}
		first := r.json["items"].([]any)[0].(map[string]any)
		if first["number"] != "31612345671" || first["country"] != "NL" || first["locality"] != "Amsterdam" || first["type"] != "mobile" ||
			strings.Join(toStrings(first["features"]), ",") != "sms,voice" {
			t.Fatalf("search item: %v", first)
		}
		for path, want := range map[string]float64{
			"/v1/available-phone-numbers/nl?type=landline":                         1,
			"/v1/available-phone-numbers/NL?features=whatsapp":                     1,
			"/v1/available-phone-numbers/NL?features=sms&features=voice":           2,
			"/v1/available-phone-numbers/NL?number=73&search_pattern=end":          1,
			"/v1/available-phone-numbers/NL?number=612&search_pattern=start":       3,
			"/v1/available-phone-numbers/NL?number=16&search_pattern=start":        0,
			"/v1/available-phone-numbers/NL?number=201&search_pattern=anywhere":    1,
			"/v1/available-phone-numbers/NL?limit=2":                               2,
			"/v1/available-phone-numbers/GB":                                       1,
			"/v1/available-phone-numbers/DE":                                       0,
			"/v1/available-phone-numbers/NL?features=sms&type=landline&number=201": 0,
		} {
			if r := s.do("GET", path, s.key, "", nil); r.status != 200 || r.json["count"] != want {
				t.Fatalf("%s: %d %s, want count %v", path, r.status, r.raw, want)
			}
		}
		for path, param := range map[string]string{
			"/v1/available-phone-numbers/XX":                           "countryCode",
			"/v1/available-phone-numbers/NLD":                          "countryCode",
			"/v1/available-phone-numbers/NL?features=fax":              "features",
			"/v1/available-phone-numbers/NL?type=satellite":            "type",
			"/v1/available-phone-numbers/NL?number=abc":                "number",
			"/v1/available-phone-numbers/NL?number=1&search_pattern=x": "search_pattern",
			"/v1/available-phone-numbers/NL?limit=1000":                "limit",
		} {
			r := s.do("GET", path, s.key, "", nil)
			if code, p, _ := errorOf(t, r); r.status != 422 || code != 10 || p != param {
				t.Fatalf("%s: %d %s, want 422 on %s", path, r.status, r.raw, param)
			}
		}

		// Buying without balance: refused, nothing changes.
		poorID, poorKey := s.accountWith(1_000_000) // 1.00 for a 1.50 number
		r = s.numbersJSON("POST", "/v1/phone-numbers", poorKey, map[string]any{"number": "31612345671", "countryCode": "NL"})
		if code, _, _ := errorOf(t, r); r.status != http.StatusUnprocessableEntity || code != 25 {
			t.Fatalf("purchase without balance: %d %s", r.status, r.raw)
		}
		if b := microBalance(t, s.app.store, poorID); b != 1_000_000 {
			t.Fatalf("balance after a refused purchase: %d", b)
		}
		if r := s.do("GET", "/v1/phone-numbers", poorKey, "", nil); r.json["totalCount"] != 0.0 {
			t.Fatalf("numbers after a refused purchase: %s", r.raw)
		}

		before := microBalance(t, s.app.store, s.accountID)
		bought := clock.Now()
		r = s.numbersJSON("POST", "/v1/phone-numbers", s.key, map[string]any{"number": "+31612345671", "countryCode": "NL", "billingIntervalMonths": 1})
		if r.status != 201 || r.json["number"] != "31612345671" || r.json["status"] != "active" || r.json["region"] != "Noord-Holland" {
			t.Fatalf("purchase: %d %s", r.status, r.raw)
		}
		if r.json["renewalAt"] != bought.AddDate(0, 1, 0).Truncate(time.Second).Format(time.RFC3339) {
			t.Fatalf("renewalAt %v, bought %v", r.json["renewalAt"], bought)
		}
		if b := microBalance(t, s.app.store, s.accountID); before-b != 1_500_000 {
			t.Fatalf("purchase charged %d", before-b)
		}
		// Twelve months are charged at once.
		if r := s.numbersJSON("POST", "/v1/phone-numbers", s.key, map[string]any{"number": "31201234567", "countryCode": "NL", "billingIntervalMonths": 12}); r.status != 201 {
			t.Fatalf("yearly purchase: %d %s", r.status, r.raw)
		}
		if b := microBalance(t, s.app.store, s.accountID); before-b != 1_500_000+12*750_000 {
			t.Fatalf("after a yearly purchase, charged %d", before-b)
		}
		// Bought numbers are no longer available.
		if r := s.do("GET", "/v1/available-phone-numbers/NL", s.key, "", nil); r.json["count"] != 2.0 {
			t.Fatalf("search after purchases: %s", r.raw)
		}
		for _, c := range []struct {
			body   map[string]any
			status int
			code   float64
			param  string
		}{
			{map[string]any{"number": "31612345671", "countryCode": "NL"}, 422, 10, "number"}, // taken
			{map[string]any{"number": "31612345679", "countryCode": "NL"}, 422, 10, "number"}, // not in the inventory
			{map[string]any{"number": "447700900123", "countryCode": "NL"}, 422, 10, "number"},
			{map[string]any{"number": "31612345672", "countryCode": "Holland"}, 422, 10, "countryCode"},
			{map[string]any{"number": "31612345672"}, 422, 9, "countryCode"},
			{map[string]any{"countryCode": "NL"}, 422, 9, "number"},
			{map[string]any{"number": "31612345672", "countryCode": "NL", "billingIntervalMonths": 3}, 422, 10, "billingIntervalMonths"},
			{map[string]any{"number": "31612345672", "countryCode": "NL", "billingIntervalMonths": "x"}, 422, 10, "billingIntervalMonths"},
			{map[string]any{"number": "nope", "countryCode": "NL"}, 422, 10, "number"},
		} {
			r := s.numbersJSON("POST", "/v1/phone-numbers", poorKey, c.body)
			if code, p, _ := errorOf(t, r); r.status != c.status || code != c.code || p != c.param {
				t.Fatalf("purchase %v: %d %s", c.body, r.status, r.raw)
			}
		}
		if r := s.do("POST", "/v1/phone-numbers", s.key, "application/json", []byte(`{"number":`)); r.status != 400 && r.status != 422 {
			t.Fatalf("malformed JSON: %d %s", r.status, r.raw)
		}
		if r := s.numbersJSON("POST", "/v1/phone-numbers", s.testKey, map[string]any{"number": "31612345672", "countryCode": "NL"}); r.status != 403 {
			t.Fatalf("purchase with a test key: %d %s", r.status, r.raw)
		}

		// List, read, tag; another account's number is not found.
		r = s.do("GET", "/v1/phone-numbers?features=sms", s.key, "", nil)
		if r.status != 200 || r.json["totalCount"] != 1.0 {
			t.Fatalf("list: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/v1/phone-numbers", s.key, "", nil); r.json["totalCount"] != 2.0 || r.json["count"] != 2.0 {
			t.Fatalf("list all: %s", r.raw)
		}
		r = s.numbersJSON("PATCH", "/v1/phone-numbers/31612345671", s.key, map[string]any{"tags": []string{"support", "nl"}, "inboundUrl": "https://example.com/in"})
		if r.status != 200 || strings.Join(toStrings(r.json["tags"]), ",") != "support,nl" || r.json["inboundUrl"] != "https://example.com/in" {
			t.Fatalf("PATCH: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/v1/phone-numbers?tags=support", s.key, "", nil); r.json["totalCount"] != 1.0 {
			t.Fatalf("list by tag: %s", r.raw)
		}
		if r := s.do("GET", "/v1/phone-numbers/31612345671", s.key, "", nil); r.status != 200 || r.json["inboundUrl"] != "https://example.com/in" {
			t.Fatalf("GET: %d %s", r.status, r.raw)
		}
		r = s.numbersJSON("PATCH", "/v1/phone-numbers/31612345671", s.key, map[string]any{"inboundUrl": "ftp://x"})
		if code, p, _ := errorOf(t, r); r.status != 422 || code != 10 || p != "inboundUrl" {
			t.Fatalf("PATCH bad URL: %d %s", r.status, r.raw)
		}
		for _, req := range [][2]string{{"GET", "/v1/phone-numbers/31612345671"}, {"PATCH", "/v1/phone-numbers/31612345671"}, {"DELETE", "/v1/phone-numbers/31612345671"},
			{"GET", "/v1/phone-numbers/31699999999"}, {"GET", "/v1/phone-numbers/abc"}} {
			r := s.do(req[0], req[1], poorKey, "application/json", []byte(`{"tags":["x"]}`))
			if code, _, _ := errorOf(t, r); r.status != 404 || code != 20 {
				t.Fatalf("%s %s of another account: %d %s", req[0], req[1], r.status, r.raw)
			}
		}

		// Renewal: a month on, the maintenance charges the next month.
		clock.Add(31 * 24 * time.Hour)
		before = microBalance(t, s.app.store, s.accountID)
		if _, err := s.app.numbers.Maintain(ctx); err != nil {
			t.Fatal(err)
		}
		if b := microBalance(t, s.app.store, s.accountID); before-b != 1_500_000 {
			t.Fatalf("renewal charged %d", before-b)
		}
		if _, err := s.app.numbers.Maintain(ctx); err != nil { // a second pass charges nothing
			t.Fatal(err)
		}
		if b := microBalance(t, s.app.store, s.accountID); before-b != 1_500_000 {
			t.Fatalf("second pass charged %d more", before-b-1_500_000)
		}
		if r := s.do("GET", "/v1/phone-numbers/31612345671", s.key, "", nil); r.json["renewalAt"] != bought.AddDate(0, 2, 0).Truncate(time.Second).Format(time.RFC3339) {
			t.Fatalf("renewalAt after renewal: %s", r.raw)
		}

		// Cancel: back to the inventory at once.
		if r := s.do("DELETE", "/v1/phone-numbers/31201234567", s.key, "", nil); r.status != 204 {
			t.Fatalf("DELETE: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/v1/available-phone-numbers/NL?type=landline", s.key, "", nil); r.json["count"] != 1.0 {
			t.Fatalf("a cancelled number is available again: %s", r.raw)
		}
		if h := historyEvents(t, s.app.store, "31201234567"); strings.Join(h, ",") != "purchased,cancelled" {
			t.Fatalf("history of the cancelled number: %v", h)
		}
		if h := historyEvents(t, s.app.store, "31612345671"); strings.Join(h, ",") != "purchased,renewed" {
			t.Fatalf("history of the renewed number: %v", h)
		}

		// Two accounts buy the same number at once: one gets it, the other
		// is told it is not available and is not charged.
		var wg sync.WaitGroup
		ids, statuses := make([]string, 4), make([]int, 4)
		keys := make([]string, 4)
		for i := range keys {
			ids[i], keys[i] = s.accountWith(10_000_000)
		}
		for i := range keys {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				statuses[i] = s.numbersJSON("POST", "/v1/phone-numbers", keys[i], map[string]any{"number": "31612345672", "countryCode": "NL"}).status
			}(i)
		}
		wg.Wait()
		won := 0
		for i, st := range statuses {
			switch b := microBalance(t, s.app.store, ids[i]); {
			case st == 201 && b == 8_500_000:
				won++
			case st == 422 && b == 10_000_000:
			default:
				t.Fatalf("concurrent purchase %d: %d, balance %d", i, st, b)
			}
		}
		if won != 1 {
			t.Fatalf("%d accounts bought the same number", won)
		}
	})
}

// TestNumbersRenewalUnpaid: a renewal the balance cannot pay gives notice
// once, and the grace period later releases the number.
func TestNumbersRenewalUnpaid(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		clock := &testClock{t: time.Now().UTC()}
		s := start(t, engine, func(c *Config) { c.Numbers.Now = clock.Now })
		ctx := context.Background()
		if _, _, err := importStock(ctx, s.app.store, strings.NewReader(numbersCSV)); err != nil {
			t.Fatal(err)
		}
		id, key := s.accountWith(2_000_000) // one month of 1.50
		if r := s.numbersJSON("POST", "/v1/phone-numbers", key, map[string]any{"number": "31612345673", "countryCode": "NL"}); r.status != 201 {
			t.Fatalf("purchase: %d %s", r.status, r.raw)
		}
		clock.Add(32 * 24 * time.Hour)
		for i := 0; i < 2; i++ {
			if _, err := s.app.numbers.Maintain(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if b := microBalance(t, s.app.store, id); b != 500_000 {
			t.Fatalf("balance after an unpaid renewal: %d", b)
		}
		if h := historyEvents(t, s.app.store, "31612345673"); strings.Join(h, ",") != "purchased,renewal_failed" {
			t.Fatalf("history: %v", h)
		}
		clock.Add(8 * 24 * time.Hour)
		if n, err := s.app.numbers.Maintain(ctx); err != nil || n != 1 {
			t.Fatalf("release after the grace: %d %v", n, err)
		}
		if _, err := s.app.store.NumberOwner(ctx, "31612345673"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("owner after release: %v", err)
		}
		if h := historyEvents(t, s.app.store, "31612345673"); strings.Join(h, ",") != "purchased,renewal_failed,unpaid_released" {
			t.Fatalf("history: %v", h)
		}
	})
}

// A renewal that falls due while the account is suspended is not charged:
// the number is disconnected (NUM-3), the account told.
func TestNumbersRenewalSuspended(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		clock := &testClock{t: time.Now().UTC()}
		s := start(t, engine, func(c *Config) { c.Numbers.Now = clock.Now })
		ctx := context.Background()
		if _, _, err := importStock(ctx, s.app.store, strings.NewReader(numbersCSV)); err != nil {
			t.Fatal(err)
		}
		id, key := s.accountWith(5_000_000)
		if r := s.numbersJSON("POST", "/v1/phone-numbers", key, map[string]any{"number": "31612345673", "countryCode": "NL"}); r.status != 201 {
			t.Fatalf("purchase: %d %s", r.status, r.raw)
		}
		if _, err := s.app.desk.Suspend(ctx, id, "test of NUM-3", "operator"); err != nil {
			t.Fatal(err)
		}
		clock.Add(10 * 24 * time.Hour) // not due yet: kept
		if n, err := s.app.numbers.Maintain(ctx); err != nil || n != 0 {
			t.Fatalf("maintenance before the renewal: %d %v", n, err)
		}
		clock.Add(22 * 24 * time.Hour)
		if n, err := s.app.numbers.Maintain(ctx); err != nil || n != 1 {
			t.Fatalf("maintenance at the renewal: %d %v", n, err)
		}
		if b := microBalance(t, s.app.store, id); b != 3_500_000 {
			t.Fatalf("balance %d: the renewal of a suspended account's number was charged", b)
		}
		if _, err := s.app.store.NumberOwner(ctx, "31612345673"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("owner after the renewal of a suspended account: %v", err)
		}
		if h := historyEvents(t, s.app.store, "31612345673"); strings.Join(h, ",") != "purchased,suspended_released" {
			t.Fatalf("history: %v", h)
		}
	})
}

// TestNumbersReclamation (NUM-4): three months without traffic bring a
// notice, seven more days without it return the number to the inventory;
// inbound or outbound traffic keeps a number. Operator-assigned numbers
// are reclaimed too.
func TestNumbersReclamation(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		// The numbers are bought 89 days before the real now, so that
		// traffic now (messages carry the real time) is recent to the clock.
		clock := &testClock{t: time.Now().UTC().Add(-89 * 24 * time.Hour)}
		s := start(t, engine, func(c *Config) { c.Numbers.Now = clock.Now; c.Demo = false; c.AdminToken = adminToken })
		ctx := context.Background()
		// The notices reach the account's alert webhook.
		hook := newNoticeSink(t)
		noticed := func(kind, number string) bool { return hook.has(kind, map[string]any{"number": number}) }
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/billing", "application/json", `{"alertUrl":"`+hook.srv.URL+`"}`); r.status != 200 {
			t.Fatalf("alert URL: %d %s", r.status, r.raw)
		}
		if _, _, err := importStock(ctx, s.app.store, strings.NewReader(numbersCSV)); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"31612345671", "31612345672", "31612345673"} {
			if r := s.numbersJSON("POST", "/v1/phone-numbers", s.key, map[string]any{"number": n, "countryCode": "NL"}); r.status != 201 {
				t.Fatalf("purchase %s: %d %s", n, r.status, r.raw)
			}
		}
		// Operator assignment (omnigate number add) outside the inventory.
		if err := s.app.numbers.Assign(ctx, s.accountID, "3197010000009"); err != nil {
			t.Fatal(err)
		}
		step := func() {
			t.Helper()
			if _, err := s.app.numbers.Maintain(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// 89 days on: nothing yet.
		clock.Add(89 * 24 * time.Hour)
		step()
		if h := historyEvents(t, s.app.store, "31612345671"); strings.Contains(strings.Join(h, ","), "idle") {
			t.Fatalf("notice before three months: %v", h)
		}
		// Traffic now: an outbound message from …72, an inbound one to …73.
		s.send(map[string]any{"originator": "31612345672", "recipients": []string{"31611111111"}, "body": "hello"})
		if err := s.app.receiver.Inbound(ctx, channel.Inbound{Connector: "carrier", Channel: message.ChannelSMS, Source: "31611111111",
			Destination: "+31612345673", Text: "hi", Total: 1, Part: 1}); err != nil {
			t.Fatal(err)
		}
		clock.Add(2 * 24 * time.Hour) // 91 days after the purchase, 2 after the traffic
		step()
		for _, n := range []string{"31612345672", "31612345673"} {
			if h := historyEvents(t, s.app.store, n); strings.Contains(strings.Join(h, ","), "idle") {
				t.Fatalf("%s had traffic and got notice: %v", n, h)
			}
		}
		for _, n := range []string{"31612345671", "3197010000009"} {
			h := historyEvents(t, s.app.store, n)
			if len(h) == 0 || h[len(h)-1] != "idle_notice" {
				t.Fatalf("%s idle 91 days: history %v", n, h)
			}
		}
		waitFor(t, "the idle notice", 10*time.Second, func() bool { return noticed("number.idle", "31612345671") })
		if noticed("number.idle", "31612345672") || noticed("number.idle", "31612345673") {
			t.Fatal("a number with traffic got an idle notice")
		}
		// Six days after the notice: still assigned. Eight: reclaimed.
		clock.Add(6 * 24 * time.Hour)
		step()
		if _, err := s.app.store.NumberOwner(ctx, "31612345671"); err != nil {
			t.Fatalf("reclaimed before the notice period ended: %v", err)
		}
		clock.Add(2 * 24 * time.Hour)
		n, err := s.app.numbers.Maintain(ctx)
		if err != nil || n != 2 {
			t.Fatalf("reclaimed %d, %v", n, err)
		}
		for _, num := range []string{"31612345671", "3197010000009"} {
			if _, err := s.app.store.NumberOwner(ctx, num); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s after reclamation: %v", num, err)
			}
			h := strings.Join(historyEvents(t, s.app.store, num), ",")
			if !strings.HasSuffix(h, "reclaimed") || !strings.Contains(h, "idle_notice,") || strings.Count(h, "idle_notice") != 1 {
				t.Fatalf("%s history %v", num, h)
			}
		}
		waitFor(t, "the reclamation notice", 10*time.Second, func() bool { return noticed("number.reclaimed", "3197010000009") })
		if r := s.do("GET", "/v1/available-phone-numbers/NL?number=71&search_pattern=end", s.key, "", nil); r.json["count"] != 1.0 {
			t.Fatalf("a reclaimed number is available again: %s", r.raw)
		}
		// The numbers with traffic are still the account's.
		for _, num := range []string{"31612345672", "31612345673"} {
			if owner, err := s.app.store.NumberOwner(ctx, num); err != nil || owner != s.accountID {
				t.Fatalf("%s: %q %v", num, owner, err)
			}
		}
	})
}

// TestNumbersSuspension (NUM-3): a suspended account's numbers carry no
// traffic — inbound is dropped with a line in the number's history,
// outbound is refused — and closing the account releases them.
func TestNumbersSuspension(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var key string
		accountSink, numberSink := newReportSink(t, &key, 0), newReportSink(t, &key, 0)
		s := start(t, engine, func(c *Config) { c.Demo = false })
		key = s.signingKey
		ctx := context.Background()
		const num = "3197010000001"
		if err := s.app.numbers.Assign(ctx, s.accountID, num); err != nil {
			t.Fatal(err)
		}
		// The number's own inbound URL goes before the account's.
		if err := accounts.SetInboundURL(ctx, s.app.store, s.accountID, accountSink.srv.URL+"/in"); err != nil {
			t.Fatal(err)
		}
		if r := s.numbersJSON("PATCH", "/v1/phone-numbers/"+num, s.key, map[string]any{"inboundUrl": numberSink.srv.URL + "/number"}); r.status != 200 {
			t.Fatalf("PATCH: %d %s", r.status, r.raw)
		}
		stored := make(chan string, 10)
		s.app.pipeline.AddInboundHook(func(ctx context.Context, m *message.Message) error {
			stored <- m.AccountID + " " + m.Channel
			return nil
		})
		in := channel.Inbound{Connector: "carrier", Channel: message.ChannelSMS, Source: "31611111111", Destination: num, Text: "hi", Total: 1, Part: 1}
		if err := s.app.receiver.Inbound(ctx, in); err != nil {
			t.Fatal(err)
		}
		// WhatsApp inbound to the same number goes to the same account.
		wa := in
		wa.Channel, wa.Connector = message.ChannelWhatsApp, "whatsapp"
		if err := s.app.receiver.Inbound(ctx, wa); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{s.accountID + " sms", s.accountID + " whatsapp"} {
			if got := <-stored; got != want {
				t.Fatalf("inbound stored for %q, want %q", got, want)
			}
		}
		waitFor(t, "the SMS forwarded to the number's URL", 10*time.Second, func() bool { return len(numberSink.reports()) >= 1 })
		if q := numberSink.reports()[0]; q.Get("recipient") != num || q.Get("body") != "hi" {
			t.Fatalf("forwarded %v", q)
		}
		if n := len(accountSink.reports()); n != 0 {
			t.Fatalf("%d forwarded to the account's URL", n)
		}
		if _, err := s.app.desk.Suspend(ctx, s.accountID, "test of NUM-3", "operator"); err != nil {
			t.Fatal(err)
		}
		if err := s.app.receiver.Inbound(ctx, in); err != nil {
			t.Fatal(err)
		}
		if r := s.get("/messages?direction=mo"); r.json["totalCount"] != 1.0 {
			t.Fatalf("inbound to a suspended account's number was stored: %s", r.raw)
		}
		select {
		case got := <-stored:
			t.Fatalf("inbound to a suspended account's number was stored: %s", got)
		default:
		}
		if h := historyEvents(t, s.app.store, num); strings.Join(h, ",") != "assigned,inbound_refused" {
			t.Fatalf("history: %v", h)
		}
		r := s.postJSON(s.key, map[string]any{"originator": num, "recipients": []string{"31611111111"}, "body": "x"})
		if code, _, _ := errorOf(t, r); r.status != 422 || code != 27 {
			t.Fatalf("outbound from a suspended account: %d %s", r.status, r.raw)
		}
		released, err := s.app.numbers.ReleaseAccount(ctx, s.accountID, "account closed")
		if err != nil || len(released) != 1 {
			t.Fatalf("release: %v %v", released, err)
		}
		if _, err := s.app.store.NumberOwner(ctx, num); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("owner after closing: %v", err)
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// BenchmarkNumbersMaintain: one maintenance pass over many assigned
// numbers that are neither due nor idle (the common case, every minute).
func BenchmarkNumbersMaintain(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			if engine == "postgres" && !pgtest.Available() {
				b.Skip(pgtest.EnvVar + " is not set")
			}
			s := start(b, engine, func(c *Config) { c.Demo = false })
			ctx := context.Background()
			const n = 5000
			var csv strings.Builder
			csv.WriteString("number,country,type,features,monthly_price\n")
			for i := 0; i < n; i++ {
				fmt.Fprintf(&csv, "3161%07d,NL,mobile,sms,1\n", i)
			}
			if _, _, err := importStock(ctx, s.app.store, strings.NewReader(csv.String())); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if err := s.app.numbers.Assign(ctx, s.accountID, fmt.Sprintf("3161%07d", i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.app.numbers.Maintain(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "numbers/pass")
		})
	}
}

// importStock imports an inventory file as `omnigate numbers import` and
// POST /admin/imports/numbers do (an import job, streamed); it says how
// many numbers were new and how many rows it imported.
func importStock(ctx context.Context, st store.Store, r io.Reader) (added, read int, err error) {
	rn := imports.New(st)
	defer rn.Close()
	im, err := rn.Job(ctx, store.ImportNumbers, "", false, struct{}{}, "test", 0)
	if err != nil {
		return 0, 0, err
	}
	n, err := rn.RunNumbers(ctx, im, r, nil)
	return int(n), int(im.Imported), err
}
