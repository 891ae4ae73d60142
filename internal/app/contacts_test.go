package app

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// The address book over HTTP as the SDKs use it: contacts with custom
// fields, groups, members added the three ways the SDKs send them, the
// sub-collections, and messages to groupIds expanded at acceptance with
// compliance per member.
func TestContactsAndGroups(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		want := func(r response, status int, what string) response {
			t.Helper()
			if r.status != status {
				t.Fatalf("%s: %d %s", what, r.status, r.raw)
			}
			return r
		}
		// Create: JSON (Node, Go), form, and PHP's whole object with nulls
		// and customDetails.
		ann := want(s.call("POST", "/contacts", map[string]any{"msisdn": "+31 6 1234 5001", "firstName": "Ann", "custom1": "gold"}), 201, "create").json
		if ann["msisdn"] != 31612345001.0 || ann["firstName"] != "Ann" || ann["lastName"] != nil ||
			ann["customDetails"].(map[string]any)["custom1"] != "gold" || ann["href"] != s.url+"/contacts/"+ann["id"].(string) {
			t.Fatalf("contact %v", ann)
		}
		if g := ann["groups"].(map[string]any); g["totalCount"] != 0.0 || g["href"] != ann["href"].(string)+"/groups" {
			t.Fatalf("groups sub-object %v", g)
		}
		form := url.Values{"msisdn": {"31612345002"}, "firstName": {"Bob"}, "customDetails[custom4]": {"vip"}}
		bob := want(s.do("POST", "/contacts", s.key, "application/x-www-form-urlencoded", []byte(form.Encode())), 201, "form create").json
		if bob["customDetails"].(map[string]any)["custom4"] != "vip" {
			t.Fatalf("form contact %v", bob)
		}
		cat := want(s.call("POST", "/contacts", map[string]any{"msisdn": 31612345003, "firstName": "Cat", "lastName": nil, "id": nil,
			"customDetails": map[string]any{"custom2": "x", "custom3": nil}}), 201, "php create").json
		// The same number twice is allowed, as on MessageBird.
		dup := want(s.call("POST", "/contacts", map[string]any{"msisdn": "31612345001", "firstName": "Ann 2"}), 201, "duplicate").json
		if r := want(s.get("/contacts?msisdn=31612345001"), 200, "by number"); r.json["totalCount"] != 2.0 {
			t.Fatalf("by number %s", r.raw)
		}
		annID, bobID, catID := ann["id"].(string), bob["id"].(string), cat["id"].(string)

		// Bad input: the parameter is named, nothing changes.
		for _, c := range []struct {
			method, path, body string
			status             int
			code               float64
			param              string
		}{
			{"POST", "/contacts", `{"firstName":"x"}`, 422, 9, "msisdn"},
			{"POST", "/contacts", `{"msisdn":"abc"}`, 422, 10, "msisdn"},
			{"POST", "/contacts", fmt.Sprintf(`{"msisdn":"31612345009","lastName":"%0300d"}`, 0), 422, 10, "lastName"},
			{"PATCH", "/contacts/" + annID, `{"msisdn":""}`, 422, 9, "msisdn"},
			{"POST", "/groups", `{}`, 422, 9, "name"},
			{"GET", "/contacts/nope", ``, 404, 20, ""},
			{"GET", "/groups/nope", ``, 404, 20, ""},
			{"GET", "/contacts?limit=201", ``, 422, 10, "limit"},
		} {
			r := s.do(c.method, c.path, s.key, "application/json", []byte(c.body))
			code, param, _ := errorOf(t, r)
			if r.status != c.status || code != c.code || (c.param != "" && param != c.param) {
				t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, r.status, r.raw)
			}
		}

		// Update: only the fields given change.
		upd := want(s.call("PATCH", "/contacts/"+annID, map[string]any{"lastName": "Smith", "custom2": "two"}), 200, "patch").json
		if upd["firstName"] != "Ann" || upd["lastName"] != "Smith" || upd["customDetails"].(map[string]any)["custom1"] != "gold" {
			t.Fatalf("patched %v", upd)
		}

		// Groups.
		g := want(s.call("POST", "/groups", map[string]any{"name": "friends"}), 201, "group").json
		gid := g["id"].(string)
		if g["contacts"].(map[string]any)["href"] != s.url+"/groups/"+gid+"/contacts" {
			t.Fatalf("group %v", g)
		}
		if r := want(s.call("PATCH", "/groups/"+gid, map[string]any{"name": "best friends"}), 200, "rename"); r.json["name"] != "best friends" {
			t.Fatalf("renamed %s", r.raw)
		}
		// Go: a form with ids[]; Node/PHP: JSON ids; Python: ?ids[]= on the group with {}.
		want(s.do("PUT", "/groups/"+gid+"/contacts", s.key, "application/x-www-form-urlencoded", []byte("ids[]="+annID)), 204, "go add")
		want(s.call("PUT", "/groups/"+gid+"/contacts", map[string]any{"ids": []string{bobID}, "groupId": gid}), 204, "node add")
		want(s.do("PUT", "/groups/"+gid+"?ids[]="+catID+"&ids[]="+annID, s.key, "application/json", []byte("{}")), 204, "python add")
		r := want(s.call("PUT", "/groups/"+gid+"/contacts", map[string]any{"ids": []string{bobID, "0123456789abcdef0123456789abcdef"}}), 422, "unknown id")
		if _, param, _ := errorOf(t, r); param != "ids" {
			t.Fatalf("unknown id %s", r.raw)
		}
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf("%032x", i)
		}
		if r := s.call("PUT", "/groups/"+gid+"/contacts", map[string]any{"ids": many}); r.status != 422 {
			t.Fatalf("51 ids: %d %s", r.status, r.raw)
		}
		if r := s.call("PUT", "/groups/"+gid+"/contacts", map[string]any{}); r.status != 422 {
			t.Fatalf("no ids: %d %s", r.status, r.raw)
		}
		r = want(s.get("/groups/"+gid+"/contacts"), 200, "members")
		if r.json["totalCount"] != 3.0 || len(r.json["items"].([]any)) != 3 {
			t.Fatalf("members %s", r.raw)
		}
		if r := want(s.get("/groups/"+gid), 200, "group"); r.json["contacts"].(map[string]any)["totalCount"] != 3.0 {
			t.Fatalf("group count %s", r.raw)
		}
		if r := want(s.get("/contacts/"+annID+"/groups"), 200, "contact groups"); r.json["totalCount"] != 1.0 ||
			r.json["items"].([]any)[0].(map[string]any)["id"] != gid {
			t.Fatalf("contact groups %s", r.raw)
		}

		// A suppressed member is refused alone; the others go.
		want(s.call("POST", "/suppressions", map[string]any{"recipient": "31612345002"}), 201, "suppress")
		m := s.send(map[string]any{"originator": "Shop", "body": "hi group", "groupIds": []string{gid}, "recipients": []string{"31612345001", "31612345099"}})
		got := map[string]string{}
		for _, it := range items(m) {
			got[fmt.Sprint(int64(it["recipient"].(float64)))] = it["status"].(string)
		}
		if len(got) != 4 || got["31612345002"] != "delivery_failed" || got["31612345001"] != "sent" || got["31612345003"] != "sent" {
			t.Fatalf("group message recipients %v", got)
		}
		// Group ids among the recipients (the SDKs' comma lists) work too.
		m = s.send(map[string]any{"originator": "Shop", "body": "again", "recipients": gid})
		if len(items(m)) != 3 {
			t.Fatalf("group id in recipients: %v", items(m))
		}
		for _, body := range []string{`{"originator":"Shop","body":"x","groupIds":["0123456789abcdef0123456789abcdef"]}`,
			`{"originator":"Shop","body":"x","groupIds":"` + gid + `"}`} {
			r := s.do("POST", "/messages", s.key, "application/json", []byte(body))
			if _, param, _ := errorOf(t, r); r.status != 422 || param != "groupIds" {
				t.Errorf("%s: %d %s", body, r.status, r.raw)
			}
		}
		// An empty group and no recipients: no recipients.
		empty := want(s.call("POST", "/groups", map[string]any{"name": "empty"}), 201, "empty group").json["id"].(string)
		if r := s.postJSON(s.key, map[string]any{"originator": "Shop", "body": "x", "groupIds": []string{empty}}); r.status != 422 {
			t.Fatalf("empty group: %d %s", r.status, r.raw)
		}
		// The test key sees no group.
		if r := s.postJSON(s.testKey, map[string]any{"originator": "Shop", "body": "x", "groupIds": []string{gid}}); r.status != 422 {
			t.Fatalf("test key sends to a live group: %d %s", r.status, r.raw)
		}

		// The contact's messages: both sent to Ann's number.
		r = want(s.get("/contacts/"+annID+"/messages"), 200, "contact messages")
		if r.json["totalCount"] != 2.0 {
			t.Fatalf("contact messages %s", r.raw)
		}
		if r := want(s.get("/contacts/"+annID), 200, "contact"); r.json["messages"].(map[string]any)["totalCount"] != 2.0 ||
			r.json["groups"].(map[string]any)["totalCount"] != 1.0 {
			t.Fatalf("contact counts %s", r.raw)
		}

		// Removing and deleting.
		want(s.do("DELETE", "/groups/"+gid+"/contacts/"+bobID, s.key, "", nil), 204, "remove")
		want(s.do("DELETE", "/groups/"+gid+"/contacts/"+bobID, s.key, "", nil), 404, "remove twice")
		want(s.do("DELETE", "/contacts/"+dup["id"].(string), s.key, "application/json", []byte("{}")), 204, "delete contact")
		want(s.get("/contacts/"+dup["id"].(string)), 404, "deleted contact")
		want(s.do("DELETE", "/groups/"+gid, s.key, "", nil), 204, "delete group")
		if r := want(s.get("/contacts/"+annID), 200, "contact"); r.json["groups"].(map[string]any)["totalCount"] != 0.0 {
			t.Fatalf("after group deleted %s", r.raw)
		}
		if r := want(s.get("/contacts?limit=2&offset=1"), 200, "page"); r.json["totalCount"] != 3.0 || r.json["count"] != 2.0 ||
			r.json["offset"] != 1.0 || r.json["links"].(map[string]any)["first"] == nil {
			t.Fatalf("page %s", r.raw)
		}
		// Another account sees none of it.
		_, otherKey, _, _ := s.newAccount("other")
		if r := s.do("GET", "/contacts/"+annID, otherKey, "", nil); r.status != http.StatusNotFound {
			t.Fatalf("another account reads a contact: %d", r.status)
		}
	})
}
