package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/users"
)

// The demo banner's console sign-in works on the real listener, and a
// message sent with the demo key shows in the console's log, delivered.
func TestDemoConsole(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		var banner bytes.Buffer
		s.app.PrintDemo(&banner)
		m := regexp.MustCompile(`email +(\S+)\n +password +(\S+)`).FindStringSubmatch(banner.String())
		if m == nil || !strings.Contains(banner.String(), s.url+"/console") {
			t.Fatalf("banner: %s", banner.String())
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		get := func(path string) (int, string) {
			res, err := c.Get(s.url + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		_, page := get("/console/signin")
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
		res, err := c.PostForm(s.url+"/console/signin", url.Values{"csrf": {csrf}, "email": {m[1]}, "password": {m[2]}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Request.URL.Path != "/console/overview" {
			t.Fatalf("sign-in: %d %s %.300s", res.StatusCode, res.Request.URL, b)
		}
		r := s.postJSON(s.app.Demo.Key, map[string]any{"originator": "omnigate", "recipients": []string{"31612345678"}, "body": "hi", "reference": "console-ref"})
		if r.status != http.StatusCreated {
			t.Fatalf("send: %d %s", r.status, r.raw)
		}
		id := r.json["id"].(string)
		waitFor(t, "delivered in the console", 10*time.Second, func() bool {
			st, body := get("/console/messages?reference=console-ref&status=delivered")
			return st == 200 && strings.Contains(body, id)
		})
		if st, body := get("/console/messages/" + id); st != 200 || !strings.Contains(body, "31612345678") {
			t.Fatalf("detail: %d", st)
		}
		// A user's TOTP secret is encrypted at rest like the other secrets.
		op, err := s.app.Users().Create(context.Background(), users.NewUser{Email: "ops@example.org", Role: users.RoleOperator, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if stored := rawColumn(t, s.app.store.Writer(), engine, `SELECT totp_secret FROM users WHERE id = ?`, op.ID); strings.Contains(stored, op.TOTPSecret) || !strings.HasPrefix(stored, "enc:v1:") {
			t.Errorf("TOTP secret stored as %q", stored)
		}
		if u, err := s.app.store.UserByID(context.Background(), op.ID); err != nil || u.TOTPSecret != op.TOTPSecret {
			t.Errorf("TOTP secret reads back wrong: %v", err)
		}
		// The account of the harness (acme) is another account: its
		// messages are not the demo owner's.
		other := s.send(map[string]any{"originator": "omnigate", "recipients": []string{"31612345679"}, "body": "x"})
		if st, _ := get("/console/messages/" + other["id"].(string)); st != http.StatusNotFound {
			t.Fatalf("another account's message: %d", st)
		}
	})
}
