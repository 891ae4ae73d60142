package app

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store"
)

// Changes by an operator (admin API) and by an access key (REST door) land
// in the stored audit log with who, from where, what and before/after;
// sending a message does not. The chain verifies, the log refuses UPDATE,
// and a row changed behind the store's back is named by Verify.
func TestAuditLogRecordsChanges(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.AdminToken = adminToken })
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/settings", "application/json", `{"legacySignature":"php"}`); r.status != http.StatusOK {
			t.Fatalf("admin settings: %d %s", r.status, r.raw)
		}
		if r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"chat"}`)); r.status != http.StatusCreated {
			t.Fatalf("POST /realtime/apps: %d %s", r.status, r.raw)
		}
		s.approveSenders(s.accountID)
		s.send(map[string]any{"originator": "Shop", "recipients": []string{"31612345678"}, "body": "hello"})
		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/settings", "application/json", `{"legacySignature":"bogus"}`); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad settings: %d %s", r.status, r.raw) // refused: not a change
		}

		if r := s.admin("PUT", "/admin/accounts/"+s.accountID+"/suspension", "application/json", `{"reason":"audit test"}`); r.status != http.StatusOK {
			t.Fatalf("suspend: %d %s", r.status, r.raw)
		}
		r := s.admin("GET", "/admin/audit?account="+s.accountID, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("GET /admin/audit: %d %s", r.status, r.raw)
		}
		list := auditRows(r.json)
		if len(list) != 3 {
			t.Fatalf("audit rows for the account: %s", r.raw)
		}
		susp, key, op := list[0], list[1], list[2] // newest first
		if susp["action"] != "PUT /admin/accounts/{id}/suspension" || susp["before"] == "" || susp["after"] == "" || susp["before"] == susp["after"] ||
			!strings.Contains(susp["after"].(string), "audit test") {
			t.Fatalf("suspension's row: %v", susp)
		}
		if op["actorKind"] != "operator" || op["actorId"] != "ann" || op["action"] != "PUT /admin/accounts/{id}/settings" ||
			op["ip"] != "127.0.0.1" || !strings.Contains(op["before"].(string), `"legacySignature"`) ||
			!strings.Contains(op["after"].(string), `"legacySignature":"php"`) || op["before"] == op["after"] {
			t.Fatalf("operator's row: %v", op)
		}
		if key["actorKind"] != "key" || key["actorId"] == "" || key["action"] != "POST /realtime/apps" ||
			!strings.HasPrefix(key["object"].(string), "/realtime/apps/") || key["after"] != `{"name":"chat"}` {
			t.Fatalf("key's row: %v", key)
		}
		if r := s.admin("GET", "/admin/audit?actor=operator:ann&limit=1", "", ""); len(auditRows(r.json)) != 1 || r.json["nextCursor"] == nil {
			t.Fatalf("by actor, one per page: %s", r.raw)
		}
		if r := s.admin("GET", "/admin/audit?since=yesterday", "", ""); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad since: %d %s", r.status, r.raw)
		}

		ctx := context.Background()
		res, err := s.app.changes.Verify(ctx)
		if err != nil || res.Rows < 2 {
			t.Fatalf("verify: %+v %v", res, err)
		}
		db := s.app.store.Writer()
		if _, err := db.Exec(`UPDATE audit_log SET after_json = '{}' WHERE seq = 1`); err == nil {
			t.Fatal("the audit log took an UPDATE")
		}
		if _, err := db.Exec(`DELETE FROM audit_log WHERE seq = 1`); err == nil {
			t.Fatal("the audit log took a DELETE")
		}
		// Someone with the database's owner rights removes the guard and
		// edits the operator's row.
		drop := `DROP TRIGGER audit_log_no_update`
		if engine == "postgres" {
			drop = `DROP TRIGGER audit_log_no_change ON audit_log`
		}
		if _, err := db.Exec(drop); err != nil {
			t.Fatal(err)
		}
		var seq int64
		db.QueryRow(`SELECT seq FROM audit_log WHERE actor_kind = 'operator' AND action LIKE 'PUT %'`).Scan(&seq)
		if _, err := db.Exec(`UPDATE audit_log SET actor_id = 'bob' WHERE seq = ` + strconv.FormatInt(seq, 10)); err != nil {
			t.Fatal(err)
		}
		_, err = s.app.changes.Verify(ctx)
		var b *audit.Break
		if !errors.As(err, &b) || b.Seq != seq || !strings.Contains(b.Reason, "changed") {
			t.Fatalf("verify after tampering with seq %d: %v", seq, err)
		}
	})
}

// auditRows are the items of a GET /admin/audit answer.
func auditRows(m map[string]any) []map[string]any {
	var out []map[string]any
	list, _ := m["items"].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any))
	}
	return out
}

// The Twilio door records its changes too, the form as a JSON object with
// the credential's SID as the actor; sending is not recorded.
func TestAuditLogTwilioDoor(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		creds, c := s.twilioCredentials(false)
		v1 := *c
		v1.base = s.url
		if code, svc := v1.call("POST", "/v1/Services", url.Values{"FriendlyName": {"Shop"}}); code != http.StatusCreated {
			t.Fatalf("create service: %d %v", code, svc)
		}
		c.call("POST", "/Messages.json", url.Values{"To": {"+31612345678"}, "From": {"Shop"}, "Body": {"hi"}})
		rows, err := s.app.AuditLog().List(context.Background(), store.AuditFilter{AccountID: s.accountID})
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %v %v", rows, err)
		}
		if r := rows[0]; r.ActorKind != "key" || r.ActorID != creds.AccountSID || r.Action != "POST /v1/Services" ||
			r.After != `{"FriendlyName":["Shop"]}` || r.IP != "127.0.0.1" {
			t.Fatalf("row %+v", r)
		}
	})
}
