package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	omnigate "github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/realtime/natstest"
)

// rtApp is what `omnigate app create` prints.
type rtApp struct {
	AppID  string `json:"app_id"`
	Key    string `json:"key"`
	Secret string `json:"secret"`
}

// Two `omnigate serve` processes joined by the local NATS server, sharing
// one database: an event published through the HTTP API of either node
// reaches WebSocket subscribers on the other, and presence members are the
// same seen from both. On SQLite the two processes share the data
// directory (the second runs --api-only, so that they do not compete for
// jobs); on PostgreSQL each has its own, as in production.
func TestRealtimeTwoNodes(t *testing.T) {
	natsURL := natstest.URL(t)
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Realtime")
		var app rtApp
		e.run(&app, "app", "create", "--account", acct.ID, "--name", "chat")
		if len(app.AppID) != 9 || len(app.Key) != 20 || len(app.Secret) != 40 {
			t.Fatalf("app create printed %+v", app)
		}
		// A subject prefix of this test's own: other tests (and runs) on
		// the same NATS server do not hear it.
		prefix := "test.cmd." + strings.ToLower(ids.New()[12:])
		flags := []string{"--nats", natsURL, "--nats-prefix", prefix}
		e2, flags2 := e, append(slices.Clone(flags), "--api-only")
		if e.db != "" {
			// Another node: its own data directory, the same master key.
			e2, flags2 = &env{t: t, data: t.TempDir(), db: e.db}, flags
			copyFile(t, filepath.Join(e.data, omnigate.MasterKeyFileName), filepath.Join(e2.data, omnigate.MasterKeyFileName))
		}
		n1 := &rtNode{t: t, app: app, url: e.serve(freePort(t), flags...).url}
		n2 := &rtNode{t: t, app: app, url: e2.serve(freePort(t), flags2...).url}

		// Node 1 → node 2: a public channel.
		bob := n2.connect()
		bob.subscribe("news", "", "")
		n1.waitChannel("news", func(info map[string]any) bool { return info["subscription_count"] == float64(1) })
		n1.trigger("news", "update", `{"n":1}`, "")
		if f := bob.expect("update"); f.Channel != "news" || f.Data != `{"n":1}` {
			t.Fatalf("bob got %+v", f)
		}

		// Presence across nodes: alice on node 1, bob on node 2.
		alice := n1.connect()
		s := alice.subscribePresence("presence-room", "alice")
		if s.Count != 1 || !slices.Equal(s.IDs, []string{"alice"}) {
			t.Fatalf("alice's subscription_succeeded: %+v", s)
		}
		n2.waitUsers("presence-room", "alice")
		s = bob.subscribePresence("presence-room", "bob")
		if s.Count != 2 || !slices.Equal(s.IDs, []string{"alice", "bob"}) || s.Hash["alice"] == nil || s.Hash["bob"] == nil {
			t.Fatalf("bob's subscription_succeeded on node 2: %+v", s)
		}
		added := alice.expect("pusher_internal:member_added")
		if !strings.Contains(added.Data, `"user_id":"bob"`) {
			t.Fatalf("alice's member_added: %+v", added)
		}
		n1.waitUsers("presence-room", "alice", "bob")
		n2.waitUsers("presence-room", "alice", "bob")

		// Node 2 → node 1, and socket_id exclusion across nodes.
		n2.trigger("presence-room", "note", "hello", "")
		if f := alice.expect("note"); f.Data != "hello" {
			t.Fatalf("alice got %+v", f)
		}
		bob.expect("note")
		n1.trigger("presence-room", "not-for-bob", "x", bob.socketID)
		n1.trigger("presence-room", "after", "y", "")
		alice.expect("not-for-bob")
		if f := bob.expect("after", "not-for-bob"); f.Event != "after" {
			t.Fatalf("bob got the event published with his socket_id excluded: %+v", f)
		}

		// A client event from node 2 reaches node 1 with its user_id.
		bob.send(map[string]any{"event": "client-typing", "channel": "presence-room", "data": map[string]bool{"typing": true}})
		if f := alice.expect("client-typing"); f.UserID != "bob" {
			t.Fatalf("alice got %+v", f)
		}

		// Bob leaves: member_removed on node 1, one member seen from both.
		bob.close()
		removed := alice.expect("pusher_internal:member_removed")
		if !strings.Contains(removed.Data, `"user_id":"bob"`) {
			t.Fatalf("alice's member_removed: %+v", removed)
		}
		n1.waitUsers("presence-room", "alice")
		n2.waitUsers("presence-room", "alice")
		n2.waitChannel("news", func(info map[string]any) bool { return info["occupied"] == false })
	})
}

// rtNode is one `omnigate serve` seen through the realtime endpoints.
type rtNode struct {
	t   *testing.T
	app rtApp
	url string
}

// api makes a signed Pusher HTTP API request and decodes the answer.
func (n *rtNode) api(method, path string, params url.Values, body []byte, v any) int {
	n.t.Helper()
	full := "/apps/" + n.app.AppID + path
	q := realtime.SignRequest(n.app.Key, n.app.Secret, method, full, params, body, time.Now())
	req, err := http.NewRequest(method, n.url+full+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			n.t.Fatalf("%s %s answered %q: %v", method, full, raw, err)
		}
	} else if resp.StatusCode != 200 {
		n.t.Logf("%s %s: %d %s", method, full, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

func (n *rtNode) trigger(channel, event, data, exclude string) {
	n.t.Helper()
	body := map[string]any{"name": event, "channel": channel, "data": data}
	if exclude != "" {
		body["socket_id"] = exclude
	}
	b, _ := json.Marshal(body)
	if code := n.api("POST", "/events", nil, b, nil); code != 200 {
		n.t.Fatalf("trigger %s on %s: status %d", event, channel, code)
	}
}

// waitChannel polls GET /channels/{name} until ok(info).
func (n *rtNode) waitChannel(channel string, ok func(map[string]any) bool) {
	n.t.Helper()
	var info map[string]any
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		info = nil
		if n.api("GET", "/channels/"+channel, url.Values{"info": {"subscription_count"}}, nil, &info) == 200 && ok(info) {
			return
		}
	}
	n.t.Fatalf("%s: channel %s is %v", n.url, channel, info)
}

// waitUsers polls GET /channels/{name}/users until it lists exactly ids.
func (n *rtNode) waitUsers(channel string, ids ...string) {
	n.t.Helper()
	var got []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var users struct {
			Users []struct {
				ID string `json:"id"`
			} `json:"users"`
		}
		if n.api("GET", "/channels/"+channel+"/users", nil, nil, &users) != 200 {
			continue
		}
		got = got[:0]
		for _, u := range users.Users {
			got = append(got, u.ID)
		}
		slices.Sort(got)
		if slices.Equal(got, ids) {
			return
		}
	}
	n.t.Fatalf("%s: users of %s are %v, want %v", n.url, channel, got, ids)
}

// rtClient is a WebSocket client speaking the Pusher protocol.
type rtClient struct {
	t        *testing.T
	n        *rtNode
	c        *websocket.Conn
	socketID string
	frames   chan rtFrame
}

type rtFrame struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	UserID  string `json:"user_id"`
	Data    string `json:"-"`
}

func (n *rtNode) connect() *rtClient {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(n.url, "http") + "/app/" + n.app.Key + "?protocol=7&client=go-test&version=1"
	c, _, err := websocket.Dial(ctx, ws, nil)
	if err != nil {
		n.t.Fatalf("dial %s: %v", ws, err)
	}
	cl := &rtClient{t: n.t, n: n, c: c, frames: make(chan rtFrame, 1000)}
	go func() {
		defer close(cl.frames)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			var raw struct {
				rtFrame
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(b, &raw); err != nil {
				n.t.Errorf("server sent invalid JSON %q", b)
				continue
			}
			f := raw.rtFrame
			if err := json.Unmarshal(raw.Data, &f.Data); err != nil {
				f.Data = string(raw.Data) // not a string: as sent
			}
			cl.frames <- f
		}
	}()
	n.t.Cleanup(func() { c.CloseNow() })
	f := cl.expect("pusher:connection_established")
	var d struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(f.Data), &d); err != nil || d.SocketID == "" {
		n.t.Fatalf("connection_established %+v", f)
	}
	cl.socketID = d.SocketID
	return cl
}

func (c *rtClient) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// expect returns the next frame of one of the events, skipping others
// (pings, member events not asked for); it fails after 10 s.
func (c *rtClient) expect(events ...string) rtFrame {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection closed while waiting for %v", events)
			}
			if f.Event == "pusher:error" || f.Event == "pusher:subscription_error" {
				c.t.Fatalf("waiting for %v: got %+v", events, f)
			}
			if slices.Contains(events, f.Event) {
				return f
			}
		case <-timeout:
			c.t.Fatalf("no %v within 10 s", events)
		}
	}
}

func (c *rtClient) subscribe(channel, auth, channelData string) rtFrame {
	c.t.Helper()
	data := map[string]string{"channel": channel}
	if auth != "" {
		data["auth"] = auth
	}
	if channelData != "" {
		data["channel_data"] = channelData
	}
	c.send(map[string]any{"event": "pusher:subscribe", "data": data})
	f := c.expect("pusher_internal:subscription_succeeded")
	if f.Channel != channel {
		c.t.Fatalf("subscription_succeeded for %q, want %q", f.Channel, channel)
	}
	return f
}

type presence struct {
	IDs   []string                   `json:"ids"`
	Hash  map[string]json.RawMessage `json:"hash"`
	Count int                        `json:"count"`
}

// subscribePresence joins a presence channel as user, authorized as the
// customer's auth endpoint would, and returns the members it was told of.
func (c *rtClient) subscribePresence(channel, user string) presence {
	c.t.Helper()
	channelData := fmt.Sprintf(`{"user_id":%q,"user_info":{"name":%q}}`, user, strings.ToUpper(user))
	auth := realtime.ChannelAuth(c.n.app.Key, c.n.app.Secret, c.socketID, channel, channelData)
	f := c.subscribe(channel, auth, channelData)
	var d struct {
		Presence presence `json:"presence"`
	}
	if err := json.Unmarshal([]byte(f.Data), &d); err != nil {
		c.t.Fatalf("presence data %q: %v", f.Data, err)
	}
	slices.Sort(d.Presence.IDs)
	return d.Presence
}

func (c *rtClient) close() { c.c.Close(websocket.StatusNormalClosure, "bye") }

// The app CLI: create, list (without secrets), update, rotate, errors,
// delete; mistakes fail with a message and change nothing.
func TestAppCLI(t *testing.T) {
	e := newEnv(t, "sqlite")
	var acct created
	e.run(&acct, "account", "create", "--name", "Realtime")
	var app map[string]any
	e.run(&app, "app", "create", "--account", acct.ID, "--name", "chat", "--webhook", "https://example.com/hook", "--max-connections", "10")
	id, secret := app["app_id"].(string), app["secret"].(string)
	if app["account_id"] != acct.ID || app["webhook_url"] != "https://example.com/hook" || app["max_connections"] != 10.0 || len(secret) != 40 {
		t.Fatalf("app create printed %v", app)
	}
	var list []map[string]any
	e.run(&list, "app", "list", "--account", acct.ID)
	if len(list) != 1 || list[0]["app_id"] != id || list[0]["secret"] != nil {
		t.Fatalf("app list printed %v (secrets are not listed)", list)
	}
	e.run(&app, "app", "update", "--id", id, "--enabled=false", "--webhook", "", "--webhook-events", "member_added,member_removed", "--subscription-count")
	if app["enabled"] != false || app["subscription_count"] != true || app["webhook_url"] != "" || len(app["webhook_events"].([]any)) != 2 || app["max_connections"] != 10.0 {
		t.Fatalf("app update printed %v", app)
	}
	e.run(&app, "app", "rotate", "--id", id, "--grace", "1h")
	if s, _ := app["secret"].(string); len(s) != 40 || s == secret || app["previous_secret_valid_until"] == nil {
		t.Fatalf("app rotate printed %v", app)
	}
	var errs []any
	e.run(&errs, "app", "errors", "--id", id)
	if len(errs) != 0 {
		t.Fatalf("app errors printed %v", errs)
	}
	for _, args := range [][]string{
		{"app", "create"},
		{"app", "create", "--account", "nope"},
		{"app", "create", "--account", acct.ID, "--webhook", "ftp://example.com"},
		{"app", "create", "--account", acct.ID, "--max-connections", "-1"},
		{"app", "create", "--account", acct.ID, "--webhook-events", "channel_occupied,nope"},
		{"app", "update", "--id", "nope", "--name", "x"},
		{"app", "update", "--id", id, "--client-event-rate", "100000"},
		{"app", "rotate"},
		{"app", "rotate", "--id", id, "--grace", "0s"},
		{"app", "errors", "--id", "nope"},
		{"app", "frobnicate"},
	} {
		var stderr bytes.Buffer
		c := e.cmd(args...)
		c.Stderr = &stderr
		if err := c.Run(); err == nil || stderr.Len() == 0 {
			t.Errorf("omnigate %v: err %v, stderr %q; want a failure with a message", args, err, stderr.String())
		}
	}
	e.run(&list, "app", "list")
	if len(list) != 1 || list[0]["client_event_rate"] != 0.0 {
		t.Fatalf("failed commands changed apps: %v", list)
	}
	var deleted map[string]any
	e.run(&deleted, "app", "delete", "--id", id)
	e.run(&list, "app", "list")
	if deleted["deleted"] != true || len(list) != 0 {
		t.Fatalf("app delete: %v, then %v", deleted, list)
	}
}

// copyFile copies a file (a master key, to another node) owner-only.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
