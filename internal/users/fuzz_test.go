package users

import (
	"strings"
	"testing"
	"time"
)

// FuzzCheckPassword: a stored hash of any shape is parsed without panic
// and matches nothing unless it is a real hash of the password; costs in
// a hash are bounded, so a crafted hash cannot make a check expensive.
func FuzzCheckPassword(f *testing.F) {
	good, _ := hashPassword("correct horse battery", 1024)
	for _, s := range []string{good, "", "$argon2id$", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=1,t=1,p=1$$"} {
		f.Add(s, "correct horse battery")
	}
	f.Fuzz(func(t *testing.T, hash, pw string) {
		ok, err := checkPassword(hash, pw)
		if ok && err != nil {
			t.Fatalf("matched with an error: %v", err)
		}
		if ok && hash != good && pw == "" {
			t.Fatalf("an empty password matched %q", hash)
		}
	})
}

// FuzzCheckTOTP: any code and secret are checked without panic; a code
// that is not six digits never passes.
func FuzzCheckTOTP(f *testing.F) {
	f.Add("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "287082", int64(59))
	f.Add("not base32!", "123456", int64(0))
	f.Add("", "", int64(-1))
	f.Fuzz(func(t *testing.T, secret, code string, unix int64) {
		_, ok := CheckTOTP(secret, code, time.Unix(unix, 0))
		if c := strings.TrimSpace(code); ok && (len(c) != 6 || strings.Trim(c, "0123456789") != "") {
			t.Fatalf("code %q passed", code)
		}
	})
}
