package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

func TestPublicEventsThroughAPI(t *testing.T) {
	b := setup(t, setupOpts{})
	a, c := b.connect(t), b.connect(t)
	a.subscribe("news", "", "")
	c.subscribe("news", "", "")
	c.subscribe("sport", "", "")
	b.trigger(t, []string{"news", "sport"}, "update", `{"n":1}`, nil)
	for _, cl := range []*client{a, c} {
		f := cl.expect("update")
		if f.Channel != "news" || f.dataString(t) != `{"n":1}` {
			t.Fatalf("got %s on %s", f.Data, f.Channel)
		}
	}
	if f := c.expect("update"); f.Channel != "sport" {
		t.Fatalf("second event on %s", f.Channel)
	}
	// socket_id excludes the sender's own connection.
	b.trigger(t, []string{"news"}, "excluded", "x", map[string]any{"socket_id": a.socketID})
	c.expect("excluded")
	a.quiet()
	// channel (singular) works too, and info returns counts.
	r := b.api(t, "POST", "/events", nil, map[string]any{"name": "one", "data": "d", "channel": "news", "info": "subscription_count"})
	if r.status != 200 || !strings.Contains(r.body, `"news":{"subscription_count":2}`) {
		t.Fatalf("info answer %d %s", r.status, r.body)
	}
	a.expect("one")
	c.expect("one")
	// Unsubscribed: no more events.
	a.send(map[string]any{"event": "pusher:unsubscribe", "data": map[string]any{"channel": "news"}})
	a.quiet()
	b.trigger(t, []string{"news"}, "after", "x", nil)
	c.expect("after")
	a.quiet()
}

func TestBatchEvents(t *testing.T) {
	b := setup(t, setupOpts{})
	c := b.connect(t)
	c.subscribe("a", "", "")
	c.subscribe("b", "", "")
	r := b.api(t, "POST", "/batch_events", nil, map[string]any{"batch": []map[string]any{
		{"name": "e1", "channel": "a", "data": "1"},
		{"name": "e2", "channel": "b", "data": "2", "info": "subscription_count"},
	}})
	if r.status != 200 || !strings.Contains(r.body, `{"batch":[{},{"subscription_count":1}]}`) {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	if f := c.expect("e1"); f.Channel != "a" {
		t.Fatal(f.Channel)
	}
	c.expect("e2")
	var tooMany []map[string]any
	for i := 0; i < 11; i++ {
		tooMany = append(tooMany, map[string]any{"name": "e", "channel": "a", "data": "x"})
	}
	if r := b.api(t, "POST", "/batch_events", nil, map[string]any{"batch": tooMany}); r.status != 400 {
		t.Fatalf("11 events: %d %s", r.status, r.body)
	}
	// One bad event rejects the whole batch.
	r = b.api(t, "POST", "/batch_events", nil, map[string]any{"batch": []map[string]any{
		{"name": "ok", "channel": "a", "data": "1"}, {"name": "bad", "channel": "no spaces", "data": "1"}}})
	if r.status != 400 {
		t.Fatalf("bad batch: %d %s", r.status, r.body)
	}
	c.quiet()
}

func TestPrivateChannels(t *testing.T) {
	b := setup(t, setupOpts{})
	c := b.connect(t)
	for _, tc := range []struct{ channel, auth string }{
		{"private-x", ""},
		{"private-x", b.app.Key + ":" + strings.Repeat("0", 64)},
		{"private-x", realtime.ChannelAuth(b.app.Key, b.app.Secret, "1.2", "private-x", "")}, // another socket
		{"private-x", realtime.ChannelAuth("otherkey", b.app.Secret, c.socketID, "private-x", "")},
		{"private-encrypted-x", ""},
		{"presence-x", b.auth(c, "presence-x", "")},
	} {
		d := map[string]any{"channel": tc.channel}
		if tc.auth != "" {
			d["auth"] = tc.auth
		}
		c.send(map[string]any{"event": "pusher:subscribe", "data": d})
		f := c.expect("pusher:subscription_error")
		var e struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
		}
		f.decode(t, &e)
		if f.Channel != tc.channel || e.Status < 400 {
			t.Fatalf("%s with %q: %s %s", tc.channel, tc.auth, f.Channel, f.Data)
		}
	}
	c.subscribe("private-x", b.auth(c, "private-x", ""), "")
	c.subscribe("private-encrypted-x", b.auth(c, "private-encrypted-x", ""), "")
	b.trigger(t, []string{"private-x"}, "secret", "s", nil)
	c.expect("secret")
	// Encrypted channels pass data through untouched.
	b.trigger(t, []string{"private-encrypted-x"}, "sealed", `{"nonce":"n","ciphertext":"c"}`, nil)
	if f := c.expect("sealed"); f.dataString(t) != `{"nonce":"n","ciphertext":"c"}` {
		t.Fatalf("encrypted data %s", f.Data)
	}
}

func TestSecretRotation(t *testing.T) {
	b := setup(t, setupOpts{})
	old := b.app.Secret
	rotated, err := realtime.RotateSecret(context.Background(), b.st, b.acct.ID, b.app.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the app cache to see the new secret", func() bool {
		r := b.apiAs(t, b.app.Key, rotated.Secret, "GET", "/channels", nil, nil, time.Now())
		return r.status == 200
	})
	// Both secrets work in the grace period, for the API and for auth.
	if r := b.apiAs(t, b.app.Key, old, "GET", "/channels", nil, nil, time.Now()); r.status != 200 {
		t.Fatalf("old secret in the grace period: %d %s", r.status, r.body)
	}
	c := b.connect(t)
	c.subscribe("private-a", realtime.ChannelAuth(b.app.Key, old, c.socketID, "private-a", ""), "")
	c.subscribe("private-b", realtime.ChannelAuth(b.app.Key, rotated.Secret, c.socketID, "private-b", ""), "")
	// After the grace period only the new one does.
	if _, err := b.st.RotateRealtimeSecret(context.Background(), b.acct.ID, b.app.ID, "third", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the expired secret to be refused", func() bool {
		return b.apiAs(t, b.app.Key, rotated.Secret, "GET", "/channels", nil, nil, time.Now()).status == 401
	})
	if r := b.apiAs(t, b.app.Key, "third", "GET", "/channels", nil, nil, time.Now()); r.status != 200 {
		t.Fatalf("new secret: %d %s", r.status, r.body)
	}
}

func TestPresence(t *testing.T) {
	b := setup(t, setupOpts{})
	const ch = "presence-room"
	join := func(user string, info any) (*client, frame) {
		c := b.connect(t)
		cd, _ := json.Marshal(map[string]any{"user_id": user, "user_info": info})
		return c, c.subscribe(ch, b.auth(c, ch, string(cd)), string(cd))
	}
	alice, first := join("alice", map[string]string{"name": "Alice"})
	var p struct {
		Presence struct {
			IDs   []string                   `json:"ids"`
			Hash  map[string]json.RawMessage `json:"hash"`
			Count int                        `json:"count"`
		} `json:"presence"`
	}
	first.decode(t, &p)
	if p.Presence.Count != 1 || p.Presence.IDs[0] != "alice" || string(p.Presence.Hash["alice"]) != `{"name":"Alice"}` {
		t.Fatalf("first member sees %s", first.Data)
	}
	bob, second := join("bob", nil)
	second.decode(t, &p)
	if p.Presence.Count != 2 || fmt.Sprint(p.Presence.IDs) != "[alice bob]" {
		t.Fatalf("second member sees %s", second.Data)
	}
	f := alice.expect("pusher_internal:member_added")
	var m struct {
		UserID string `json:"user_id"`
	}
	f.decode(t, &m)
	if m.UserID != "bob" {
		t.Fatalf("member_added %s", f.Data)
	}
	// A second connection of bob adds no member; its leaving removes none.
	bob2, _ := join("bob", nil)
	alice.quiet()
	bob2.c.CloseNow()
	alice.quiet()
	if r := b.api(t, "GET", "/channels/"+ch+"/users", nil, nil); r.status != 200 || r.body != `{"users":[{"id":"alice"},{"id":"bob"}]}`+"\n" {
		t.Fatalf("users: %d %s", r.status, r.body)
	}
	r := b.api(t, "GET", "/channels/"+ch, url.Values{"info": {"user_count,subscription_count"}}, nil)
	if r.body != `{"occupied":true,"subscription_count":2,"user_count":2}`+"\n" {
		eventually(t, "two subscriptions", func() bool {
			r = b.api(t, "GET", "/channels/"+ch, url.Values{"info": {"user_count,subscription_count"}}, nil)
			return r.body == `{"occupied":true,"subscription_count":2,"user_count":2}`+"\n"
		})
	}
	r = b.api(t, "GET", "/channels", url.Values{"filter_by_prefix": {"presence-"}, "info": {"user_count"}}, nil)
	if r.body != `{"channels":{"presence-room":{"user_count":2}}}`+"\n" {
		t.Fatalf("channels: %s", r.body)
	}
	// user_count needs a presence filter.
	if r := b.api(t, "GET", "/channels", url.Values{"info": {"user_count"}}, nil); r.status != 400 {
		t.Fatalf("user_count without presence filter: %d", r.status)
	}
	if r := b.api(t, "GET", "/channels/public/users", nil, nil); r.status != 400 {
		t.Fatalf("users of a public channel: %d", r.status)
	}
	bob.c.CloseNow()
	f = alice.expect("pusher_internal:member_removed")
	f.decode(t, &m)
	if m.UserID != "bob" {
		t.Fatalf("member_removed %s", f.Data)
	}
	// Bad channel_data is refused.
	c := b.connect(t)
	for _, cd := range []string{`{}`, `nope`, `{"user_id":""}`, `{"user_id":"x","user_info":"` + strings.Repeat("i", 2000) + `"}`} {
		c.send(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": ch, "auth": b.auth(c, ch, cd), "channel_data": cd}})
		c.expect("pusher:subscription_error")
	}
}

func TestPresenceLimit(t *testing.T) {
	b := setup(t, setupOpts{cfg: realtime.Config{MaxPresenceMembers: 2}})
	for i, user := range []string{"1", "2", "3"} {
		c := b.connect(t)
		cd := `{"user_id":"` + user + `"}`
		if i < 2 {
			c.subscribe("presence-x", b.auth(c, "presence-x", cd), cd)
			continue
		}
		c.send(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "presence-x", "auth": b.auth(c, "presence-x", cd), "channel_data": cd}})
		c.expect("pusher:subscription_error")
	}
}

func TestClientEvents(t *testing.T) {
	b := setup(t, setupOpts{app: func(a *store.RealtimeApp) { a.ClientEventRate = 3 }})
	a, c := b.connect(t), b.connect(t)
	a.subscribe("private-chat", b.auth(a, "private-chat", ""), "")
	c.subscribe("private-chat", b.auth(c, "private-chat", ""), "")
	a.send(map[string]any{"event": "client-typing", "channel": "private-chat", "data": map[string]any{"who": "a"}})
	f := c.expect("client-typing")
	if f.Channel != "private-chat" || string(f.Data) != `{"who":"a"}` {
		t.Fatalf("client event %s %s", f.Channel, f.Data)
	}
	a.quiet() // not echoed to the sender
	// Not on public channels, nor unsubscribed ones.
	a.subscribe("public", "", "")
	a.send(map[string]any{"event": "client-x", "channel": "public", "data": 1})
	a.expect("pusher:error")
	a.send(map[string]any{"event": "client-x", "channel": "private-other", "data": 1})
	a.expect("pusher:error")
	// Presence client events carry the sender's user_id.
	cd := `{"user_id":"u7"}`
	a.subscribe("presence-p", b.auth(a, "presence-p", cd), cd)
	c.subscribe("presence-p", b.auth(c, "presence-p", `{"user_id":"u8"}`), `{"user_id":"u8"}`)
	a.expect("pusher_internal:member_added")
	a.send(map[string]any{"event": "client-hi", "channel": "presence-p", "data": "x"})
	if f := c.expect("client-hi"); f.UserID != "u7" {
		t.Fatalf("presence client event user_id %q", f.UserID)
	}
	// The rate limit (3/s for this app): a burst gets 4301 errors.
	rejected := 0
	for i := 0; i < 10; i++ {
		a.send(map[string]any{"event": "client-burst", "channel": "private-chat", "data": i})
	}
	a.send(map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	for f := a.next(); f.Event != "pusher:pong"; f = a.next() {
		var e struct {
			Code int `json:"code"`
		}
		f.decode(t, &e)
		if f.Event != "pusher:error" || e.Code != int(realtime.CodeClientEventRejected) {
			t.Fatalf("sender got %s %s", f.Event, f.Data)
		}
		rejected++
	}
	if rejected < 6 || rejected == 10 {
		t.Fatalf("%d of 10 burst events rejected with 4301, want most but not all", rejected)
	}
	delivered := 0
	c.send(map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	for f := c.next(); f.Event != "pusher:pong"; f = c.next() {
		if f.Event == "client-burst" {
			delivered++
		}
	}
	if delivered != 10-rejected {
		t.Fatalf("%d burst events delivered, want %d", delivered, 10-rejected)
	}
	a.quiet() // still connected
}
