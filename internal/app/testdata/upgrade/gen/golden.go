package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// release is the commit whose code wrote the fixture and answered the
// golden requests.
const release = "1399c9a"

// manifest describes one engine's golden answers; the upgrade test reads it.
type manifest struct {
	Release    string `json:"release"`
	Engine     string `json:"engine"`
	Account    string `json:"account"`
	Key        string `json:"key"` // the account's live key (fixture data)
	AdminToken string `json:"adminToken"`
	// Scheduled are the messages whose recipients all wait (for 2099, for
	// the morning of 2099-01-01, or for a reviewer); Cancel are those the
	// test deletes after the upgrade.
	Scheduled []string  `json:"scheduled"`
	Cancel    []string  `json:"cancel"`
	Requests  []request `json:"requests"`
}

// request is one golden request and the answer the release gave.
type request struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	Auth        string `json:"auth"` // "key" (AccessKey) or "admin" (Bearer)
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	File        string `json:"file"` // the body, {{BASE}} for the server's scheme and host
}

// capture starts the release on the restored fixture (srv) and records
// its answers to every read the fixture touches. Each request is made
// twice, a second apart, so that an answer that depends on the time cannot
// slip in.
func (g *gen) capture(srv *server, dir string) {
	step("%s: golden answers from %s", g.engine, srv.base)
	if err := os.RemoveAll(dir); err != nil {
		fail("%v", err)
	}
	get := func(path, auth string) reply {
		a := "AccessKey " + g.key
		if auth == "admin" {
			a = "Bearer " + adminToken
		}
		return call("GET", srv.base+path, a, "", nil)
	}
	acct := "/admin/accounts/" + g.accountID
	var paths [][2]string // path, auth
	add := func(auth string, ps ...string) {
		for _, p := range ps {
			paths = append(paths, [2]string{p, auth})
		}
	}

	// Every message, and the lists the MessageBird SDKs read.
	all := must(get("/messages?limit=200", "key"), 200, "listing").json()
	var scheduled, cancel []string
	for _, it := range all["items"].([]any) {
		m := it.(map[string]any)
		add("key", "/messages/"+m["id"].(string))
		waiting := true
		for _, r := range m["recipients"].(map[string]any)["items"].([]any) {
			waiting = waiting && r.(map[string]any)["status"] == "scheduled"
		}
		if waiting {
			scheduled = append(scheduled, m["id"].(string))
		}
	}
	for _, name := range []string{"scheduled", "scheduled-two", "deferred"} {
		cancel = append(cancel, g.ids[name])
	}
	add("key",
		"/messages/"+strings.Repeat("0", 32), // unknown: MessageBird's 404
		"/messages",
		"/messages/",
		"/messages?limit=200",
		"/messages?limit=5&offset=5",
		"/messages?offset=30",
		"/messages?status=scheduled",
		"/messages?status=sent",
		"/messages?status=buffered",
		"/messages?status=delivered",
		"/messages?status=expired",
		"/messages?status=delivery_failed",
		"/messages?direction=mo",
		"/messages?direction=mt&type=sms&limit=3",
		"/messages?type=binary",
		"/messages?type=flash",
		"/messages?recipient="+handsetB,
		"/messages?recipient="+url.QueryEscape("+"+saudiHandset),
		"/messages?originator=Fixture&limit=4&offset=2",
		"/messages?originator="+inboundNumber,
		"/messages?reference=order-1001",
		"/messages?status=bogus", // MessageBird's 422
		"/balance",
		"/prices/sms?recipient=31612345678",
		"/prices/sms?recipient="+failingPrefix+"00001&body="+url.QueryEscape(longGSM)+"&datacoding=auto",
		"/ledger",
		"/ledger?limit=3&offset=2",
		"/topups",
		"/billing/autotopup",
		"/statements/"+g.month,
		"/statements/"+g.month+".csv",
		"/consents?recipient="+handsetA,
		"/consents?recipient="+handsetB,
		"/consents?recipient="+importedOptIn,
		"/consents/proof?recipient="+handsetB+"&format=csv",
		"/suppressions",
		"/senders",
		"/compliance/policy",
		"/compliance/cases",
		"/compliance/decisions",
		"/compliance/decisions?limit=2",
		"/realtime/apps",
		"/realtime/apps/"+g.appID,
		"/realtime/apps/"+g.appID+"/errors",
	)
	// What the operator reads of the account.
	add("admin",
		"/admin/reviews?status=all",
		acct+"/topups",
		acct+"/senders",
		acct+"/compliance",
		acct+"/decisions",
		"/admin/cases?account="+g.accountID,
	)

	first := make([]reply, len(paths))
	for i, p := range paths {
		first[i] = get(p[0], p[1])
	}
	time.Sleep(1100 * time.Millisecond)
	m := manifest{Release: release, Engine: g.engine, Account: g.accountID, Key: g.key, AdminToken: adminToken, Scheduled: scheduled, Cancel: cancel}
	for i, p := range paths {
		r := first[i]
		if again := get(p[0], p[1]); again.status != r.status || !bytes.Equal(again.body, r.body) {
			fail("GET %s answered differently a second later: it depends on the time\n%s\n%s", p[0], r.body, again.body)
		}
		if r.status >= 500 {
			fail("GET %s answered %d: %s", p[0], r.status, r.body)
		}
		ext := "json"
		if strings.HasPrefix(r.contentType, "text/csv") {
			ext = "csv"
		}
		file := fmt.Sprintf("%03d-%s.%s", i+1, strings.TrimSuffix(slug(p[0]), "."+ext), ext)
		writeFile(filepath.Join(dir, file), trimBase(r.body, srv.base))
		m.Requests = append(m.Requests, request{Method: "GET", Path: p[0], Auth: p[1], Status: r.status, ContentType: r.contentType, File: file})
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	writeFile(filepath.Join(dir, "manifest.json"), append(b, '\n'))
	step("%s: %d golden answers in %s", g.engine, len(m.Requests), dir)
}

// slug makes a file name part of a path.
func slug(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexAny(p, "&"); i >= 0 && len(p) > 80 {
		p = p[:i]
	}
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '=', r == '.':
			return r
		}
		return '_'
	}, p)
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.Trim(s, "_")
}
