package links

import (
	"strings"
	"testing"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestRoundTrip(t *testing.T) {
	s := New(secret, "https://mail.example.com/")
	u := s.UnsubscribeURL("acct", "msg1", 2)
	if !strings.HasPrefix(u, "https://mail.example.com/email/unsubscribe/") {
		t.Fatalf("url %q", u)
	}
	got, err := s.Verify(Unsubscribe, strings.TrimPrefix(u, "https://mail.example.com/email/unsubscribe/"))
	if err != nil || got != (Target{AccountID: "acct", MessageID: "msg1", Seq: 2}) {
		t.Fatalf("%+v %v", got, err)
	}
	c := strings.TrimPrefix(s.ClickURL("acct", "msg1", 0, "https://shop.example/a?b=c&d"), "https://mail.example.com/email/click/")
	if got, err := s.Verify(Click, c); err != nil || got.URL != "https://shop.example/a?b=c&d" {
		t.Fatalf("%+v %v", got, err)
	}
	// A token is good for its kind only, under its key only, unaltered.
	if _, err := s.Verify(Open, c); err == nil {
		t.Fatal("a click token passed as an open token")
	}
	other := New([]byte("another secret of 32 bytes or so!!"), "")
	if _, err := other.Verify(Click, c); err == nil {
		t.Fatal("another key verified the token")
	}
	if _, err := s.Verify(Click, "x"+c); err == nil {
		t.Fatal("an altered token passed")
	}
	if _, err := s.Verify(Click, s.Token(Click, Target{AccountID: "a", MessageID: "m", URL: "javascript:alert(1)"})); err == nil {
		t.Fatal("a click to a non-web URL passed")
	}
}

func FuzzVerify(f *testing.F) {
	s := New(secret, "")
	f.Add(s.Token(Open, Target{AccountID: "a", MessageID: "m"}))
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		for _, k := range []string{Unsubscribe, Open, Click} {
			s.Verify(k, tok)
		}
	})
}
