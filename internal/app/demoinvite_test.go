package app

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// With --demo and no mail server, an invitation lands in the demo's mail
// sink, and its link works: the invitee joins and signs in.
func TestDemoInvitationMail(t *testing.T) {
	s := start(t, "sqlite")
	if s.app.demoMail == nil {
		t.Fatal("the demo has no mail sink")
	}
	link, err := s.app.Users().InviteAs(context.Background(), s.app.Demo.ID, "invitee@example.org", "developer", "test")
	if err != nil {
		t.Fatal(err)
	}
	var mail string
	waitFor(t, "the invitation in the mail sink", 10*time.Second, func() bool {
		box, err := s.app.demoMail.Mailbox("invitee@example.org")
		if err != nil || len(box) == 0 {
			return false
		}
		mail = string(box[0])
		return true
	})
	if !strings.Contains(mail, "Subject: Your omnigate invitation") || !strings.Contains(mail, link) || !strings.HasPrefix(link, s.url+"/console/invite/") {
		t.Fatalf("mail: %s (link %s)", mail, link)
	}
	// Follow the mailed link.
	mailed := regexp.MustCompile(`http://\S+/console/invite/[A-Za-z0-9_-]+`).FindString(mail)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(mailed)
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, res)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if res.StatusCode != 200 || csrf == nil {
		t.Fatalf("invitation page: %d", res.StatusCode)
	}
	pw := "correct horse battery"
	res, err = c.PostForm(mailed, url.Values{"csrf": {csrf[1]}, "name": {"Invitee"}, "password": {pw}, "password2": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, res)
	if res.Request.URL.Path != "/console/signin" {
		t.Fatalf("accept went to %s (%d)", res.Request.URL, res.StatusCode)
	}
	if u, err := s.app.store.UserByEmail(context.Background(), "invitee@example.org"); err != nil || u.AccountID != s.app.Demo.ID || u.Role != "developer" {
		t.Fatalf("joined: %v %+v", err, u)
	}
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
