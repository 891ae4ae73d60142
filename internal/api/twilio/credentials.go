package twilio

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// Credentials are what `omnigate twilio credentials` prints.
type Credentials struct {
	AccountID    string `json:"account_id"`
	AccountSID   string `json:"account_sid"`
	AuthToken    string `json:"auth_token"`
	Rotated      bool   `json:"rotated,omitempty"`
	APIKeySID    string `json:"api_key_sid,omitempty"`
	APIKeySecret string `json:"api_key_secret,omitempty"` // shown once: only its hash is kept
}

func hex32() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// IssueCredentials gives an account its account SID and auth token (the
// ones it has, unless rotate: then a new token for the same SID) and, with
// apiKey, a new API key.
func IssueCredentials(ctx context.Context, st store.Store, accountID string, rotate, apiKey bool) (*Credentials, error) {
	now := time.Now().UTC()
	acct, err := st.TwilioAccount(ctx, accountID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		acct = &store.TwilioAccount{AccountID: accountID, SID: "AC" + hex32(), AuthToken: hex32(), CreatedAt: now}
		if err := st.PutTwilioAccount(ctx, acct); err != nil {
			return nil, err
		}
		rotate = false
	case err != nil:
		return nil, err
	case rotate:
		acct.AuthToken, acct.RotatedAt = hex32(), now
		if err := st.PutTwilioAccount(ctx, acct); err != nil {
			return nil, err
		}
	}
	c := &Credentials{AccountID: accountID, AccountSID: acct.SID, AuthToken: acct.AuthToken, Rotated: rotate}
	if apiKey {
		secret := ids.Secret(32)
		sum := sha256.Sum256([]byte(secret))
		k := &store.TwilioAPIKey{SID: "SK" + hex32(), AccountID: accountID, SecretHash: sum[:], CreatedAt: now}
		if err := st.CreateTwilioAPIKey(ctx, k); err != nil {
			return nil, err
		}
		c.APIKeySID, c.APIKeySecret = k.SID, secret
	}
	return c, nil
}
