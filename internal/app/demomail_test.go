package app

import (
	"bytes"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The demo sends email as a new user would: the printed /v1/send from the
// demo domain reaches the built-in mail server DKIM-signed with a VERP
// return path, and the recipient becomes delivered once the settle window
// passes; bounce@ fails at once; the banner shows the command.
func TestDemoEmail(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.EmailSettle, c.MaintenanceEvery = 200*time.Millisecond, 50*time.Millisecond
		})
		var banner bytes.Buffer
		s.app.PrintDemo(&banner)
		if !strings.Contains(banner.String(), "/v1/send") || !strings.Contains(banner.String(), s.app.DemoMailDir()) {
			t.Fatalf("banner: %s", banner.String())
		}
		send := func(to string) string {
			r := s.sendEmail(s.app.Demo.Key, map[string]any{"type": "email", "content": map[string]any{"email": map[string]any{
				"from": map[string]any{"email": demoEmailFrom, "name": "omnigate demo"}, "to": []map[string]any{{"email": to}},
				"subject": "Hello", "content": map[string]any{"text": "Hello from omnigate"}}}})
			if r.status != 202 {
				t.Fatalf("send to %s: %d %s", to, r.status, r.raw)
			}
			return r.json["id"].(string)
		}
		status := func(id string) string {
			r := s.do("GET", "/v1/messages/"+id, s.app.Demo.Key, "", nil)
			return r.json["recipients"].([]any)[0].(map[string]any)["status"].(string)
		}
		ann, bounce, jorg := send("ann@inbox.test"), send("bounce@inbox.test"), send("jörg@inbox.test")
		waitFor(t, "ann delivered", 10*time.Second, func() bool { return status(ann) == "delivered" })
		// A UTF-8 local part goes with SMTPUTF8 (the built-in mail server
		// refuses one without).
		waitFor(t, "jörg delivered", 10*time.Second, func() bool { return status(jorg) == "delivered" })
		if files, _ := filepath.Glob(filepath.Join(s.app.DemoMailDir(), "jörg@inbox.test", "new", "*")); len(files) != 1 {
			t.Fatalf("jörg's maildir: %v", files)
		}
		waitFor(t, "bounce failed", 10*time.Second, func() bool { return status(bounce) == "failed" })
		// The MessageBird door renders SMS only: an email is not found
		// there and not listed.
		if r := s.do("GET", "/messages/"+ann, s.app.Demo.Key, "", nil); r.status != 404 {
			t.Fatalf("GET /messages/{email}: %d %s", r.status, r.raw)
		}
		if r := s.do("GET", "/messages", s.app.Demo.Key, "", nil); r.status != 200 || strings.Contains(string(r.raw), ann) {
			t.Fatalf("GET /messages lists an email: %d %s", r.status, r.raw)
		}
		files, _ := filepath.Glob(filepath.Join(s.app.DemoMailDir(), "ann@inbox.test", "new", "*"))
		if len(files) != 1 {
			t.Fatalf("maildir: %v", files)
		}
		raw, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Header.Get("Dkim-Signature"), "d="+DemoEmailDomain) ||
			!strings.HasSuffix(m.Header.Get("Return-Path"), "@bounces."+DemoEmailDomain+">") {
			t.Fatalf("headers: %v", m.Header)
		}
	})
}
