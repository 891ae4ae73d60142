package push

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Deliverer sends one publish to one device of its platform. Deliver
// says Gone when the service answered that the device is no longer
// valid (it is then removed); an error is retried with backoff unless it
// is Permanent.
type Deliverer interface {
	Deliver(ctx context.Context, token string, body Body) (Result, error)
}

// Result is a push service's answer to one delivery.
type Result struct {
	Gone bool   // the token is invalid or unregistered: forget the device
	ID   string // the service's id of the notification, when it gives one
}

// PermanentError is a delivery the service refused for a reason that a
// retry will not change (a payload it rejects): the job is dropped.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// APNsConfig configures the APNs connector (token-based authentication).
type APNsConfig struct {
	// URL is the APNs server; default https://api.push.apple.com
	// (https://api.sandbox.push.apple.com for development builds).
	URL string
	// Key is the .p8 signing key (PEM, PKCS #8 EC P-256) of KeyID, of the
	// team TeamID.
	Key    []byte
	KeyID  string
	TeamID string
	// Topic is the app's bundle id (apns-topic).
	Topic string
	// HTTP is the client; it must speak HTTP/2 (the default does, over
	// TLS).
	HTTP *http.Client
}

// APNs delivers to Apple's push service over HTTP/2 with a provider token
// (an ES256 JWT renewed every 40 minutes, as Apple asks: at most once per
// 20 minutes, at least once an hour).
type APNs struct {
	cfg APNsConfig
	key *ecdsa.PrivateKey

	mu      sync.Mutex
	token   string
	tokenAt time.Time
}

// NewAPNs checks cfg and makes the connector.
func NewAPNs(cfg APNsConfig) (*APNs, error) {
	if cfg.URL == "" {
		cfg.URL = "https://api.push.apple.com"
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	if cfg.KeyID == "" || cfg.TeamID == "" || cfg.Topic == "" {
		return nil, errors.New("apns: key id, team id and topic are needed")
	}
	key, err := ParseECKey(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("apns: %w", err)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	return &APNs{cfg: cfg, key: key}, nil
}

// ParseECKey reads a PEM EC private key (PKCS #8 as Apple's .p8, or SEC 1).
func ParseECKey(b []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("the key is not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		ec, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("the key is not an EC key")
		}
		return ec, nil
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

func (a *APNs) providerToken(now time.Time) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && now.Sub(a.tokenAt) < 40*time.Minute {
		return a.token, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": a.cfg.TeamID, "iat": now.Unix()})
	t.Header["kid"] = a.cfg.KeyID
	s, err := t.SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("apns: signing the provider token: %w", err)
	}
	a.token, a.tokenAt = s, now
	return s, nil
}

// Deliver posts the publish's apns payload to the device.
func (a *APNs) Deliver(ctx context.Context, token string, body Body) (Result, error) {
	if body.APNs == nil {
		return Result{}, &PermanentError{errors.New("apns: the publish has no apns payload")}
	}
	bearer, err := a.providerToken(time.Now())
	if err != nil {
		return Result{}, err
	}
	pushType, priority := "alert", "10"
	var p struct {
		APS struct {
			Alert            json.RawMessage `json:"alert"`
			ContentAvailable int             `json:"content-available"`
		} `json:"aps"`
	}
	_ = json.Unmarshal(body.APNs, &p)
	if p.APS.Alert == nil && p.APS.ContentAvailable == 1 {
		pushType, priority = "background", "5"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL+"/3/device/"+token, bytes.NewReader(body.APNs))
	if err != nil {
		return Result{}, &PermanentError{fmt.Errorf("apns: %w", err)}
	}
	req.Header.Set("authorization", "bearer "+bearer)
	req.Header.Set("apns-topic", a.cfg.Topic)
	req.Header.Set("apns-push-type", pushType)
	req.Header.Set("apns-priority", priority)
	req.Header.Set("content-type", "application/json")
	resp, err := a.cfg.HTTP.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("apns: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return Result{ID: resp.Header.Get("apns-id")}, nil
	}
	var reason struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(answer, &reason)
	switch {
	case resp.StatusCode == http.StatusGone, reason.Reason == "BadDeviceToken", reason.Reason == "Unregistered", reason.Reason == "DeviceTokenNotForTopic":
		return Result{Gone: true}, nil
	case resp.StatusCode == http.StatusForbidden && reason.Reason == "ExpiredProviderToken":
		a.mu.Lock()
		a.token = ""
		a.mu.Unlock()
		return Result{}, fmt.Errorf("apns: %d %s", resp.StatusCode, reason.Reason)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return Result{}, fmt.Errorf("apns: %d %s", resp.StatusCode, reason.Reason)
	}
	return Result{}, &PermanentError{fmt.Errorf("apns: %d %s", resp.StatusCode, reason.Reason)}
}
