package verp

import (
	"strings"
	"testing"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

const id = "0190aa01bc3d4e5f6a7b8c9d0e1f2a3b"

func TestRoundTrip(t *testing.T) {
	for _, seq := range []int{0, 1, 42, 999999, 9999999999} {
		l := Encode(secret, id, seq)
		if len(l) > MaxLocal {
			t.Errorf("seq %d: %q is %d long", seq, l, len(l))
		}
		if l != strings.ToLower(l) || !strings.HasPrefix(l, "b-") {
			t.Errorf("%q", l)
		}
		for _, form := range []string{l, strings.ToUpper(l)} {
			gid, gseq, ok := Decode(secret, form)
			if !ok || gid != id || gseq != seq {
				t.Errorf("Decode(%q) = %q %d %v", form, gid, gseq, ok)
			}
		}
		u := Unsubscribe(secret, id, seq)
		if gid, gseq, ok := DecodeUnsubscribe(secret, u); !ok || gid != id || gseq != seq {
			t.Errorf("DecodeUnsubscribe(%q) = %q %d %v", u, gid, gseq, ok)
		}
		if _, _, ok := Decode(secret, u); ok {
			t.Errorf("an unsubscribe address decodes as a return path")
		}
		if _, _, ok := DecodeUnsubscribe(secret, "u-"+strings.TrimPrefix(l, "b-")); ok {
			t.Errorf("a return path's tag serves as an unsubscribe tag")
		}
	}
}

func TestForged(t *testing.T) {
	l := Encode(secret, id, 3)
	other := Encode(secret, id, 4)
	for _, bad := range []string{
		"", "b-", "b--", "postmaster", "b-" + id + "-3-", "b-" + id + "-3",
		strings.Replace(l, "-3-", "-4-", 1),      // another recipient, same tag
		l[:len(l)-1] + "a",                       // a changed tag
		"b-" + id[:31] + "c-3-" + l[len(l)-16:],  // another message
		strings.Replace(l, "-3-", "-03-", 1),     // a second spelling of seq
		strings.Replace(other, "-4-", "--4-", 1), // negative
		l + "x",
		"b-" + id + "-3-" + strings.Repeat("a", 16) + strings.Repeat("a", 40),
	} {
		if _, _, ok := Decode(secret, bad); ok {
			t.Errorf("%q decodes", bad)
		}
	}
	if _, _, ok := Decode([]byte("another secret"), l); ok {
		t.Error("decodes under another secret")
	}
	if _, _, ok := Decode(nil, l); ok {
		t.Error("decodes without a secret")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(secret, id, 7))
	f.Add(Unsubscribe(secret, id, 7))
	f.Add("b-x-1-abcdefghijklmnop")
	f.Fuzz(func(t *testing.T, local string) {
		if gid, seq, ok := Decode(secret, local); ok {
			if Encode(secret, gid, seq) != strings.ToLower(local) {
				t.Fatalf("%q decodes to %q %d which encodes otherwise", local, gid, seq)
			}
		}
		DecodeUnsubscribe(secret, local)
	})
}
