package push

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/omnigate/omnigate/internal/store"
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

// FuzzCredentials: any service-account file and any APNs key text is
// accepted whole (every field the connectors need) or refused with a
// CredentialError naming a field, never a panic; what is accepted makes a
// connector.
func FuzzCredentials(f *testing.F) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	p8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	rder, _ := x509.MarshalPKCS8PrivateKey(rk)
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "p", "client_email": "a@p.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rder}))})
	f.Add(string(sa), p8, "ABCDE12345", "com.example.app")
	f.Add(`{"type":"authorized_user"}`, "not a key", "short", "a b")
	f.Add(`{`, p8[:40], "", "")
	f.Fuzz(func(t *testing.T, file, key, id, topic string) {
		var ce *CredentialError
		if c, err := ParseServiceAccount([]byte(file)); err != nil {
			if !errors.As(err, &ce) || ce.Field == "" || ce.Reason == "" {
				t.Fatalf("refusal %v names no field", err)
			}
		} else if _, err := NewFCM(FCMConfig{Account: ServiceAccount{ProjectID: c.ProjectID, ClientEmail: c.ClientEmail, PrivateKey: c.PrivateKey}}); err != nil {
			t.Fatalf("accepted a service account no connector takes: %v", err)
		}
		a := &store.PushAPNsCredentials{Key: key, KeyID: id, TeamID: id, Topic: topic}
		if err := CheckAPNs(a); err != nil {
			if !errors.As(err, &ce) || ce.Field == "" {
				t.Fatalf("refusal %v names no field", err)
			}
		} else if _, err := NewAPNs(APNsConfig{Key: []byte(a.Key), KeyID: a.KeyID, TeamID: a.TeamID, Topic: a.Topic}); err != nil {
			t.Fatalf("accepted APNs credentials no connector takes: %v", err)
		}
	})
}
