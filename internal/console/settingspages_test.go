package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// Usage limits: a billing user sets, sees and removes a limit and changes
// where alerts go; bad values are refused with nothing stored; a
// developer cannot open the page; another account's limits do not show.
func TestLimitsPage(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, other := e.account("A"), e.account("B")
		if err := e.st.SetUsageLimit(ctx, store.UsageLimit{AccountID: other, Metric: store.MetricSpend, Period: store.PeriodDay, Limit: 777_000_000, Policy: store.PolicyBlock}); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		csrf := b.signIn(e.user(a, users.RoleBilling))
		if st, body := b.do("GET", "/console/limits", nil); st != 200 || !strings.Contains(body, "No usage limits are set.") || strings.Contains(body, "777.00") {
			t.Fatalf("empty page: %d %.300s", st, body)
		}
		for _, bad := range []url.Values{
			{"metric": {"messages"}, "channel": {"sms"}, "period": {"day"}, "limit": {"-3"}},
			{"metric": {"spend"}, "period": {"week"}, "limit": {"10"}},
			{"metric": {"messages"}, "channel": {"<script>"}, "period": {"day"}, "limit": {"10"}},
			{"metric": {"bytes"}, "period": {"day"}, "limit": {"10"}},
		} {
			bad.Set("csrf", csrf)
			if st, body := b.do("POST", "/console/limits", bad); st != http.StatusBadRequest || strings.Contains(body, "<script>") {
				t.Errorf("bad limit %v: %d", bad, st)
			}
		}
		if ls, _ := e.st.UsageLimits(ctx, a); len(ls) != 0 {
			t.Fatalf("bad limits stored: %+v", ls)
		}
		if st, _ := b.do("POST", "/console/limits", url.Values{"csrf": {csrf}, "metric": {"spend"}, "period": {"month"}, "limit": {"250.50"}, "policy": {"allow"}}); st != http.StatusSeeOther {
			t.Fatalf("set: %d", st)
		}
		ls, _ := e.st.UsageLimits(ctx, a)
		if len(ls) != 1 || ls[0].Limit != 250_500_000 || ls[0].Policy != store.PolicyAllow || ls[0].Period != store.PeriodMonth {
			t.Fatalf("stored: %+v", ls)
		}
		if _, body := b.do("GET", "/console/limits", nil); !strings.Contains(body, "250.50") || !strings.Contains(body, "allow, and alert") {
			t.Fatalf("page after set: %.2000s", body)
		}
		// Alerts: a bad address is refused, a good one stored.
		if st, _ := b.do("POST", "/console/limits/alerts", url.Values{"csrf": {csrf}, "alert_url": {"javascript:alert(1)"}}); st != http.StatusBadRequest {
			t.Fatalf("bad alert URL: %d", st)
		}
		if st, _ := b.do("POST", "/console/limits/alerts", url.Values{"csrf": {csrf}, "alert_url": {"https://hooks.example.org/a"}, "alert_emails": {"x@example.org, y@example.org"}}); st != http.StatusSeeOther {
			t.Fatalf("alerts: %d", st)
		}
		acct, _ := e.st.GetAccount(ctx, a)
		if acct.AlertURL != "https://hooks.example.org/a" || len(acct.AlertEmails) != 2 {
			t.Fatalf("alerts stored: %q %v", acct.AlertURL, acct.AlertEmails)
		}
		if st, _ := b.do("POST", "/console/limits/remove", url.Values{"csrf": {csrf}, "metric": {"spend"}, "period": {"month"}}); st != http.StatusSeeOther {
			t.Fatalf("remove: %d", st)
		}
		if ls, _ := e.st.UsageLimits(ctx, a); len(ls) != 0 {
			t.Fatalf("not removed: %+v", ls)
		}
		if ls, _ := e.st.UsageLimits(ctx, other); len(ls) != 1 {
			t.Fatal("B's limit changed")
		}
		// French and Arabic.
		b.lang = "ar"
		if _, body := b.do("GET", "/console/limits", nil); !strings.Contains(body, "حدود الاستخدام والتنبيهات") || !strings.Contains(body, `dir="rtl"`) {
			t.Fatalf("Arabic: %.300s", body)
		}
	})
}

// Statements: the month's usage by day, channel and country, and its CSV.
func TestStatementsPage(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		a := e.account("A")
		m := e.message(a, "r")
		b := e.browser()
		b.signIn(e.user(a, users.RoleBilling))
		month := m.CreatedAt.Format("2006-01")
		st, body := b.do("GET", "/console/statements?month="+month, nil)
		if st != 200 || !strings.Contains(body, "<td>NL</td>") || !strings.Contains(body, "/console/statements/"+month+".csv") {
			t.Fatalf("statements: %d %.3000s", st, body)
		}
		st, body = b.do("GET", "/console/statements/"+month+".csv", nil)
		if st != 200 || !strings.HasPrefix(body, "day,channel,country,messages") || !strings.Contains(body, ",sms,NL,1,1,1,") || !strings.Contains(body, "\ntotal,") {
			t.Fatalf("CSV: %d %q", st, body)
		}
		for _, bad := range []string{"/console/statements?month=2026-13", "/console/statements/2026-1x.csv", "/console/statements/" + month + ".pdf"} {
			if st, _ := b.do("GET", bad, nil); st != http.StatusBadRequest {
				t.Errorf("%s: %d", bad, st)
			}
		}
		// Another account's statement holds nothing of A's.
		ob := e.browser()
		ob.signIn(e.user(e.account("B"), users.RoleOwner))
		if _, body := ob.do("GET", "/console/statements/"+month+".csv", nil); strings.Contains(body, ",NL,") {
			t.Fatalf("A's usage in B's statement: %q", body)
		}
	})
}

// Senders and numbers, and realtime apps: the account's own, never
// another's, never an app's secret.
func TestSendersAndRealtimePages(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, other := e.account("A"), e.account("B")
		now := time.Now().UTC()
		for _, s := range []store.Sender{{AccountID: a, Originator: "ShopA", Status: store.SenderApproved, CreatedAt: now, DecidedAt: now},
			{AccountID: a, Originator: "<b>Pend</b>", Status: store.SenderPending, CreatedAt: now},
			{AccountID: other, Originator: "SecretB", Status: store.SenderApproved, CreatedAt: now}} {
			if err := e.st.SaveSender(ctx, &s); err != nil {
				t.Fatal(err)
			}
		}
		num := fmt.Sprintf("3197%07d", time.Now().UnixNano()%10_000_000)
		if _, err := e.st.ImportStock(ctx, []store.StockNumber{{Number: num, Country: "NL", Type: "mobile", Features: []string{"sms"}, MonthlyPrice: 1_000_000, CreatedAt: now}}); err != nil {
			t.Fatal(err)
		}
		renewal := now.AddDate(0, 1, 0)
		if err := e.st.PurchaseNumber(ctx, store.NumberPurchase{Number: num, AccountID: a, IntervalMonths: 1, Price: 1_000_000, RenewalAt: renewal, At: now}); err != nil {
			t.Fatal(err)
		}
		rs := e.st.(store.Realtime)
		for _, app := range []*store.RealtimeApp{{ID: ids.New(), AccountID: a, Name: "chat-a", Key: "key" + ids.New(), Secret: "s3cretA" + ids.New(), Enabled: true, SubscriptionCount: true, CreatedAt: now, UpdatedAt: now},
			{ID: ids.New(), AccountID: other, Name: "chat-b", Key: "key" + ids.New(), Secret: "s3cretB" + ids.New(), Enabled: true, CreatedAt: now, UpdatedAt: now}} {
			if err := rs.CreateRealtimeApp(ctx, app); err != nil {
				t.Fatal(err)
			}
		}
		apps, _ := rs.ListRealtimeApps(ctx, a)
		ps := e.st.(store.Push)
		if err := ps.SetPushAPNs(ctx, a, apps[0].ID, &store.PushAPNsCredentials{Key: "-----BEGIN PRIVATE KEY-----k3ymaterial", KeyID: "ABCDE12345",
			TeamID: "TEAM123456", Topic: "com.shop.app", UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := ps.SetPushQuota(ctx, apps[0].ID, 5000); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.signIn(e.user(a, users.RoleDeveloper))
		st, body := b.do("GET", "/console/realtime", nil)
		if st != 200 || !strings.Contains(body, "com.shop.app") || !strings.Contains(body, "5,000") || strings.Contains(body, "k3ymaterial") {
			t.Fatalf("realtime push credentials and quota: %d %.4000s", st, body)
		}
		st, body = b.do("GET", "/console/senders", nil)
		if st != 200 || !strings.Contains(body, "ShopA") || !strings.Contains(body, "waiting for approval") || strings.Contains(body, "<b>Pend") ||
			strings.Contains(body, "SecretB") || !strings.Contains(body, "+"+num) || !strings.Contains(body, renewal.Format("2006-01-02")) {
			t.Fatalf("senders: %d %.4000s", st, body)
		}
		st, body = b.do("GET", "/console/realtime", nil)
		if st != 200 || !strings.Contains(body, "chat-a") || strings.Contains(body, "chat-b") || strings.Contains(body, "s3cret") {
			t.Fatalf("realtime: %d %.4000s", st, body)
		}
		// A billing user sees neither.
		bb := e.browser()
		bb.signIn(e.user(a, users.RoleBilling))
		for _, p := range []string{"/console/senders", "/console/realtime"} {
			if st, _ := bb.do("GET", p, nil); st != http.StatusForbidden {
				t.Errorf("billing opens %s: %d", p, st)
			}
		}
		b.lang = "fr"
		if _, body := b.do("GET", "/console/senders", nil); !strings.Contains(body, "Expéditeurs et numéros") || !strings.Contains(body, "en attente d’approbation") {
			t.Fatalf("French: %.300s", body)
		}
	})
}
