package realtime

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Sign is Pusher's signature: hex HMAC-SHA256 of data with the secret. It
// signs channel authorizations, user sign-ins, API requests and webhooks.
func Sign(secret, data string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(data))
	return hex.EncodeToString(m.Sum(nil))
}

// verifySignature checks a hex signature of data against every secret of
// the app that is valid now, in constant time per secret.
func verifySignature(app *store.RealtimeApp, now time.Time, data, signature string) bool {
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, secret := range app.ValidSecrets(now) {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(data))
		if hmac.Equal(m.Sum(nil), got) {
			ok = true
		}
	}
	return ok
}

// verifyAuth checks a client's auth field, "<key>:<signature>", for data.
func verifyAuth(app *store.RealtimeApp, now time.Time, auth, data string) bool {
	key, sig, ok := strings.Cut(auth, ":")
	if !ok || !hmac.Equal([]byte(key), []byte(app.Key)) {
		return false
	}
	return verifySignature(app, now, data, sig)
}

// ChannelAuth is the auth a customer's auth endpoint returns for a private
// or presence channel (channelData "" for private channels). Tests and
// tools use it; clients get it from the customer's server.
func ChannelAuth(key, secret, socketID, channel, channelData string) string {
	data := socketID + ":" + channel
	if channelData != "" {
		data += ":" + channelData
	}
	return key + ":" + Sign(secret, data)
}

// UserAuth is the auth of a user sign-in for userData (JSON with an "id").
func UserAuth(key, secret, socketID, userData string) string {
	return key + ":" + Sign(secret, socketID+"::user::"+userData)
}
