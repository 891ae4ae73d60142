package webpush

import (
	"bytes"
	"crypto/ecdh"
	"encoding/json"
	"testing"
	"time"
)

// FuzzDecrypt: any body either decrypts or gives an error, never a panic;
// a body that decrypts re-encrypts to one that decrypts the same.
func FuzzDecrypt(f *testing.F) {
	ua, err := ecdh.P256().NewPrivateKey(unb64(f, rfc8291.uaPriv))
	if err != nil {
		f.Fatal(err)
	}
	auth := unb64(f, rfc8291.auth)
	f.Add(unb64(f, rfc8291.body))
	f.Add(unb64(f, "uNCkWiNYzKTnBN9ji3-qWAAAABkCYTHOG8chz_gnvgOqdGYovxyjuqRyJFjEDyoF1Fvkj6hQPdPHI51OEUKEpgz3SsLWIqS_uA"))
	f.Add([]byte{})
	f.Add(make([]byte, 21))
	sub := Subscription{Endpoint: "https://push.example/x", Keys: Keys{P256dh: rfc8291.uaPub, Auth: rfc8291.auth}}
	f.Fuzz(func(t *testing.T, body []byte) {
		plain, err := Decrypt(body, ua, auth)
		if err != nil {
			return
		}
		if len(plain) > MaxPlaintext {
			return
		}
		again, err := Encrypt(sub, plain)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decrypt(again, ua, auth)
		if err != nil || !bytes.Equal(back, plain) {
			t.Fatalf("re-encrypted %q decrypts to %q, %v", plain, back, err)
		}
	})
}

// FuzzVerifyVAPID: any header is accepted or refused with an error, never
// a panic; an accepted one names a key that parses.
func FuzzVerifyVAPID(f *testing.F) {
	key, err := ParsePrivateKey(rfc8291.asPriv)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	good, err := VAPIDAuthorization(key, "mailto:a@example.com", "https://push.example", now.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("vapid t=a.b.c, k=" + rfc8291.asPub)
	f.Add("vapid t=, k=")
	f.Add("WebPush eyJ")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		pub, err := VerifyVAPID(h, "https://push.example", now)
		if err != nil {
			return
		}
		if len(unb64(t, pub)) != pointLen {
			t.Fatalf("accepted with key %q", pub)
		}
	})
}

// FuzzSubscriptionJSON: a subscription as a browser (or anyone) posts it
// either validates or is refused; one that validates can be encrypted for.
func FuzzSubscriptionJSON(f *testing.F) {
	f.Add([]byte(`{"endpoint":"https://fcm.googleapis.com/fcm/send/x","expirationTime":null,"keys":{"p256dh":"` + rfc8291.uaPub + `","auth":"` + rfc8291.auth + `"}}`))
	f.Add([]byte(`{"endpoint":"http://127.0.0.1:1/wp/1","keys":{"p256dh":"BAAA","auth":""}}`))
	f.Add([]byte(`{"endpoint":"https://a","keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var sub Subscription
		if err := json.Unmarshal(data, &sub); err != nil {
			return
		}
		if err := sub.Validate(); err != nil {
			return
		}
		if _, err := Encrypt(sub, []byte("x")); err != nil {
			t.Fatalf("valid subscription %q cannot be encrypted for: %v", data, err)
		}
		if _, err := endpointOrigin(sub.Endpoint); err != nil {
			t.Fatal(err)
		}
	})
}
