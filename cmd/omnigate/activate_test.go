package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/app"
)

// `connector activate` puts back a connector suspended because its
// provider account was gone; `connector list` shows the suspension until
// then; an unknown name is an error.
func TestConnectorActivateCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var conn map[string]any
		e.run(&conn, "connector", "add", "--name", "wa", "--kind", "whatsapp", "--disabled",
			"--settings", `{"phoneNumberId":"1055","accessToken":"t","appSecret":"s"}`)
		// What the dispatcher does when the Cloud API answers 131031.
		ctx := context.Background()
		st, err := app.OpenStore(ctx, app.Config{DataDir: e.data, DatabaseURL: e.db})
		if err != nil {
			t.Fatal(err)
		}
		if changed, err := st.SuspendConnector(ctx, "wa", "Business account locked (WhatsApp 131031)", 131031, time.Now(), nil); err != nil || !changed {
			t.Fatalf("suspend: %v %v", changed, err)
		}
		st.Close()
		var list []map[string]any
		e.run(&list, "connector", "list")
		if st := list[0]["settings"].(map[string]any); st["accessToken"] != "********" || st["appSecret"] != "********" || st["phoneNumberId"] != "1055" {
			t.Errorf("a WhatsApp connector's secrets printed: %v", st)
		}
		if len(list) != 1 || list[0]["suspendedCode"] != 131031.0 || !strings.Contains(list[0]["suspended"].(string), "131031") || list[0]["suspendedAt"] == nil {
			t.Fatalf("list while suspended: %v", list)
		}
		var out map[string]any
		e.run(&out, "connector", "activate", "--name", "wa")
		if out["activated"] != "wa" || out["wasSuspended"] != true {
			t.Fatalf("activate: %v", out)
		}
		var after []map[string]any // a fresh slice: Unmarshal would merge into the old maps
		e.run(&after, "connector", "list")
		if _, ok := after[0]["suspended"]; ok {
			t.Fatalf("list after activate: %v", after)
		}
		var again map[string]any
		e.run(&again, "connector", "activate", "--name", "wa")
		if again["wasSuspended"] != false {
			t.Fatalf("activating an active connector: %v", again)
		}
		b, err := e.cmd("connector", "activate", "--name", "nope").CombinedOutput()
		if err == nil || !strings.Contains(string(b), `no connector "nope"`) {
			t.Fatalf("unknown connector: %v %s", err, b)
		}
	})
}
