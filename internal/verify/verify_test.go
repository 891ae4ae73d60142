package verify

import (
	"bytes"
	"strings"
	"testing"
)

// Codes have the length asked for, digits only, with leading zeros kept,
// and every digit appears in every position.
func TestNewCode(t *testing.T) {
	for n := MinTokenLength; n <= MaxTokenLength; n++ {
		seen := make([]map[byte]bool, n)
		for i := range seen {
			seen[i] = map[byte]bool{}
		}
		for range 2000 {
			c, err := newCode(n)
			if err != nil || len(c) != n || strings.Trim(c, "0123456789") != "" {
				t.Fatalf("newCode(%d) = %q, %v", n, c, err)
			}
			for i := range c {
				seen[i][c[i]] = true
			}
		}
		for i, s := range seen {
			if len(s) != 10 {
				t.Fatalf("length %d, position %d saw only %d digits", n, i, len(s))
			}
		}
	}
}

// The stored hash depends on the salt, the id and the code.
func TestHash(t *testing.T) {
	h := hash([]byte("salt"), "id", "123456")
	for _, other := range [][]byte{hash([]byte("salt2"), "id", "123456"), hash([]byte("salt"), "id2", "123456"),
		hash([]byte("salt"), "id", "123457"), hash([]byte("salt"), "id1", "23456")} {
		if bytes.Equal(h, other) {
			t.Fatal("hash collision")
		}
	}
}

func TestLanguage(t *testing.T) {
	for tag, want := range map[string]string{"": "en", "nl-nl": "nl", "de_DE": "de", "en-gb": "en", "pt-br": "en", "FR": "fr"} {
		if got, ok := language(tag); !ok || got != want {
			t.Errorf("language(%q) = %q, %v; want %q", tag, got, ok, want)
		}
	}
	for _, bad := range []string{"english", "e", "n1", "nl-" + strings.Repeat("x", 9)} {
		if _, ok := language(bad); ok {
			t.Errorf("language(%q) accepted", bad)
		}
	}
}

func TestPrefix(t *testing.T) {
	s := New(Config{}, nil, nil, nil)
	if p := s.prefix("31612345678"); p != "31612345" {
		t.Fatalf("prefix %q", p)
	}
	if p := s.prefix("3161234"); p != "3161234" {
		t.Fatalf("short number's prefix %q", p)
	}
}

// Email recipients and originators: an address or a name-addr (as the
// SDKs send them), never more than one mailbox nor a way into a header.
func TestEmailAddress(t *testing.T) {
	for _, c := range []struct{ in, addr, name string }{
		{"client@example.com", "client@example.com", ""},
		{"Client Name <client@example.com>", "client@example.com", "Client Name"},
		{"Email Verification <verify@example.com>", "verify@example.com", "Email Verification"},
		{`"Shop, Inc." <Codes@Example.com>`, "Codes@Example.com", "Shop, Inc."},
		{"<client@example.com>", "client@example.com", ""},
		{"=?utf-8?q?Caf=C3=A9?= <client@example.com>", "client@example.com", "Café"},
	} {
		addr, name, ok := emailAddress(c.in)
		if !ok || addr != c.addr || name != c.name {
			t.Errorf("emailAddress(%q) = %q, %q, %v; want %q, %q", c.in, addr, name, ok, c.addr, c.name)
		}
	}
	for _, in := range []string{"", "Client Name", "not-an-email", "a@example.com, b@example.com", "A <a@example.com>, b@example.com",
		"Team: a@example.com;", "Team: Client <a@example.com>;", "a@example.com (Client)", "<a@example.com> (Client)",
		"Client\r\nBcc: x@evil.test <a@example.com>", "a@example.com\r\nBcc: x@evil.test", "Client\n <a@example.com>",
		"=?utf-8?q?Client=0D=0ABcc:_x@evil.test?= <a@example.com>", "Client\x00 <a@example.com>",
		strings.Repeat("n", 201) + " <a@example.com>"} {
		if addr, name, ok := emailAddress(in); ok {
			t.Errorf("emailAddress(%q) = %q, %q: accepted", in, addr, name)
		}
	}
}

func FuzzEmailAddress(f *testing.F) {
	for _, s := range []string{"client@example.com", "Client Name <client@example.com>", "Team: a@example.com;",
		"=?utf-8?q?Client=0D=0ABcc:_x@evil.test?= <a@example.com>", `"a\"b" <a@example.com>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		addr, name, ok := emailAddress(s)
		if !ok {
			return
		}
		if strings.ContainsFunc(addr+name, control) {
			t.Fatalf("emailAddress(%q) = %q, %q: a control character", s, addr, name)
		}
		if again, _, ok := emailAddress(addr); !ok || again != addr {
			t.Fatalf("emailAddress(%q) = %q, which reads as %q, %v", s, addr, again, ok)
		}
	})
}
