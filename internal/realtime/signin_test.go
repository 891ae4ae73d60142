package realtime_test

import (
	"net/url"
	"testing"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
)

func TestSigninAndUserEvents(t *testing.T) {
	b := setup(t, setupOpts{})
	c := b.connect(t)
	// Before signing in, the user channel is refused.
	c.send(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "#server-to-user-42"}})
	c.expect("pusher:subscription_error")
	userData := `{"id":"42","name":"Ann"}`
	c.send(map[string]any{"event": "pusher:signin", "data": map[string]any{
		"auth": realtime.UserAuth(b.app.Key, b.app.Secret, c.socketID, userData), "user_data": userData}})
	f := c.expect("pusher:signin_success")
	var d struct {
		UserData string `json:"user_data"`
	}
	f.decode(t, &d)
	if d.UserData != userData {
		t.Fatalf("signin_success %s", f.Data)
	}
	c.subscribe("#server-to-user-42", "", "")
	// Another user's channel stays closed.
	c.send(map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "#server-to-user-43"}})
	c.expect("pusher:subscription_error")
	// sendToUser is a trigger on the user's channel.
	b.trigger(t, []string{"#server-to-user-42"}, "hello", "you", nil)
	if f := c.expect("hello"); f.Channel != "#server-to-user-42" {
		t.Fatalf("user event on %q", f.Channel)
	}
	// terminate_connections closes the user's connections.
	other := b.connect(t)
	if r := b.api(t, "POST", "/users/42/terminate_connections", url.Values{}, map[string]any{}); r.status != 200 {
		t.Fatalf("terminate: %d %s", r.status, r.body)
	}
	c.expect("pusher:error")
	if got := c.closed(); got != websocket.StatusCode(realtime.CodeUnauthorized) {
		t.Fatalf("terminated with %d, want 4009", got)
	}
	other.quiet()
	// A bad signature is refused with 4009.
	bad := b.connect(t)
	bad.send(map[string]any{"event": "pusher:signin", "data": map[string]any{"auth": b.app.Key + ":00", "user_data": userData}})
	bad.expect("pusher:error")
	if got := bad.closed(); got != websocket.StatusCode(realtime.CodeUnauthorized) {
		t.Fatalf("bad sign-in closed with %d, want 4009", got)
	}
}
