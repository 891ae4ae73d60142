package push

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzParsePublish: any body is a Publish within Beams' limits or a Beams
// error (400/413), never a panic.
func FuzzParsePublish(f *testing.F) {
	for _, s := range []string{
		`{"interests":["news"],"apns":{"aps":{"alert":"hi"}},"fcm":{"notification":{"title":"t"}},"web":{"notification":{"title":"t"},"time_to_live":60}}`,
		`{"users":["alice","bob"],"fcm":{"data":{"a":1}}}`,
		`{"interests":["a b"]}`, `{"interests":[]}`, `[]`, `null`, `{"apns":1}`, `{"interests":["x"],"web":{"time_to_live":-1}}`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, interests bool) {
		target := "users"
		if interests {
			target = "interests"
		}
		p, err := ParsePublish(body, target)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Kind == "" || e.Description == "" {
				t.Fatalf("error %v is not in Beams' shape", err)
			}
			return
		}
		if len(p.Interests)+len(p.Users) == 0 || len(p.Interests) > MaxInterests || len(p.Users) > MaxUsers {
			t.Fatalf("accepted %d interests and %d users", len(p.Interests), len(p.Users))
		}
		for _, in := range p.Interests {
			if CheckInterest(in) != nil {
				t.Fatalf("accepted interest %q", in)
			}
		}
		if p.APNs == nil && p.FCM == nil && p.Web == nil {
			t.Fatal("accepted a publish with no payload")
		}
	})
}

// FuzzParseToken: only a token signed with the secret, of the instance,
// unexpired and with a user id, is accepted.
func FuzzParseToken(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	good, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "iss": TokenIssuer("inst"), "exp": now.Add(time.Hour).Unix()}).SignedString([]byte("secret"))
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		user, err := ParseToken(token, "inst", []string{"secret"}, now)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 401 {
				t.Fatalf("error %v is not a Beams 401", err)
			}
			return
		}
		if user == "" || len(user) > MaxNameLength {
			t.Fatalf("accepted user %q", user)
		}
	})
}

func TestParseTokenGood(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	good, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "iss": TokenIssuer("inst"), "exp": now.Add(time.Hour).Unix()}).SignedString([]byte("secret"))
	if u, err := ParseToken(good, "inst", []string{"old", "secret"}, now); err != nil || u != "alice" {
		t.Fatalf("ParseToken = %q, %v", u, err)
	}
	if _, err := ParseToken(good, "inst", []string{"secret"}, now.Add(2*time.Hour)); err == nil {
		t.Fatal("an expired token was accepted")
	}
}
