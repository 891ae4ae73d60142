package ids

import (
	"regexp"
	"testing"
)

func TestNew(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	prev := ""
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := New()
		if !hex32.MatchString(id) {
			t.Fatalf("id %q is not 32 hex characters", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
		if id[:12] < prev {
			t.Fatalf("time prefix went backwards: %q after %q", id[:12], prev)
		}
		prev = id[:12]
	}
}

func TestSecret(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-Za-z]{30}$`)
	if s := Secret(30); !re.MatchString(s) {
		t.Fatalf("Secret(30) = %q", s)
	}
	if Secret(30) == Secret(30) {
		t.Fatal("two secrets are equal")
	}
}
