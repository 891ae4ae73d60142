package push

import (
	"context"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Credentials per instance. Each Beams instance may have its own APNs
// token key (its own team and bundle id) and its own FCM service account
// (its own Firebase project); an instance without them delivers with the
// process's defaults (Config.APNs, Config.FCM). The servers they are sent
// to are the operator's (Config.APNsURL, FCMURL, …), never the account's:
// an account gives keys, not addresses, so it cannot make the platform
// call a host of its choosing. Connectors are kept per credential set, so
// an APNs provider token or an FCM access token is made once per set and
// reused across deliveries, as Apple and Google ask.

// Apple's servers.
const (
	APNsProduction = "https://api.push.apple.com"
	APNsSandbox    = "https://api.sandbox.push.apple.com"
)

// CredentialError is a refused credential: the field and what is wrong,
// for the API to answer 422 with.
type CredentialError struct {
	Field, Reason string
}

func (e *CredentialError) Error() string { return e.Field + ": " + e.Reason }

var (
	appleID  = regexp.MustCompile(`^[A-Z0-9]{10}$`)
	bundleID = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]{0,254}$`)
)

// CheckAPNs checks an instance's APNs credentials: a .p8 key (PEM, EC
// P-256), a 10-character key id and team id, a bundle id as topic. It
// trims the ids.
func CheckAPNs(c *store.PushAPNsCredentials) error {
	c.KeyID, c.TeamID, c.Topic = strings.TrimSpace(c.KeyID), strings.TrimSpace(c.TeamID), strings.TrimSpace(c.Topic)
	key, err := ParseECKey([]byte(c.Key))
	if err != nil {
		return &CredentialError{"key", "must be the .p8 key file's text (PEM, an EC P-256 private key): " + err.Error()}
	}
	if key.Curve != elliptic.P256() {
		return &CredentialError{"key", "must be an EC P-256 key, as Apple's .p8 keys are"}
	}
	if !appleID.MatchString(c.KeyID) {
		return &CredentialError{"key_id", "must be the key's 10-character id (capital letters and digits)"}
	}
	if !appleID.MatchString(c.TeamID) {
		return &CredentialError{"team_id", "must be the 10-character team id (capital letters and digits)"}
	}
	if !bundleID.MatchString(c.Topic) {
		return &CredentialError{"topic", "must be the app's bundle id (letters, digits, '.', '-' and '_', at most 255)"}
	}
	return nil
}

// ParseServiceAccount reads a Google service-account key file (JSON) into
// an instance's FCM credentials, checking it: project_id, client_email and
// an RSA private_key in PEM; a "type" other than service_account is
// refused.
func ParseServiceAccount(b []byte) (*store.PushFCMCredentials, error) {
	var sa struct {
		Type string `json:"type"`
		ServiceAccount
	}
	if err := json.Unmarshal(b, &sa); err != nil {
		return nil, &CredentialError{"service_account", "must be the service account's key file (JSON): " + err.Error()}
	}
	if sa.Type != "" && sa.Type != "service_account" {
		return nil, &CredentialError{"service_account", fmt.Sprintf("is of type %q; use a service account's key file", sa.Type)}
	}
	if strings.TrimSpace(sa.ProjectID) == "" {
		return nil, &CredentialError{"service_account", "has no project_id"}
	}
	if !strings.Contains(sa.ClientEmail, "@") {
		return nil, &CredentialError{"service_account", "has no client_email"}
	}
	if _, err := parseRSAKey(sa.PrivateKey); err != nil {
		return nil, &CredentialError{"service_account", "private_key: " + err.Error()}
	}
	return &store.PushFCMCredentials{ProjectID: sa.ProjectID, ClientEmail: sa.ClientEmail, PrivateKey: sa.PrivateKey}, nil
}

// parseRSAKey reads a service account's private_key (PEM, PKCS #8 RSA).
func parseRSAKey(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, fmt.Errorf("is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("is not an RSA key")
	}
	return key, nil
}

// connectors caches the connectors of instances with their own
// credentials: per instance for TTL (so a change is seen within it), and
// per credential set (so tokens outlive the instance's refresh).
type connectors struct {
	ttl time.Duration

	mu       sync.Mutex
	instance map[string]*instanceConnectors
	bySet    map[string]Deliverer
}

type instanceConnectors struct {
	at              time.Time
	apns, fcm       Deliverer // nil: the defaults
	apnsSet, fcmSet string    // digests of the credential sets
	apnsErr, fcmErr error     // credentials stored but unusable
}

// digest names a credential set.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// deliverer is the connector of an instance for an APNs or FCM device:
// its own, or the default.
func (s *Service) deliverer(ctx context.Context, instanceID, platform string) (Deliverer, error) {
	c := &s.conns
	now := time.Now()
	c.mu.Lock()
	ic := c.instance[instanceID]
	c.mu.Unlock()
	if ic == nil || now.Sub(ic.at) >= c.ttl {
		creds, err := s.store.PushCredentials(ctx, instanceID)
		if err != nil {
			return nil, err
		}
		ic = s.buildConnectors(creds, now)
		c.mu.Lock()
		if old := c.instance[instanceID]; old != nil {
			if old.apnsSet != "" && old.apnsSet != ic.apnsSet {
				delete(c.bySet, old.apnsSet)
			}
			if old.fcmSet != "" && old.fcmSet != ic.fcmSet {
				delete(c.bySet, old.fcmSet)
			}
		}
		c.instance[instanceID] = ic
		c.mu.Unlock()
	}
	switch platform {
	case store.PushAPNs:
		if ic.apnsErr != nil {
			return nil, &PermanentError{ic.apnsErr}
		}
		if ic.apns != nil {
			return ic.apns, nil
		}
		return s.cfg.APNs, nil
	case store.PushFCM:
		if ic.fcmErr != nil {
			return nil, &PermanentError{ic.fcmErr}
		}
		if ic.fcm != nil {
			return ic.fcm, nil
		}
		return s.cfg.FCM, nil
	case store.PushWeb:
		return s.cfg.Web, nil
	}
	return nil, nil
}

// buildConnectors makes (or finds) the connectors of an instance's own
// credentials.
func (s *Service) buildConnectors(creds *store.PushCredentials, now time.Time) *instanceConnectors {
	c := &s.conns
	ic := &instanceConnectors{at: now}
	if a := creds.APNs; a != nil {
		url := s.cfg.APNsURL
		if a.Sandbox {
			url = s.cfg.APNsSandboxURL
		}
		ic.apnsSet = digest("apns", url, a.Key, a.KeyID, a.TeamID, a.Topic)
		c.mu.Lock()
		ic.apns = c.bySet[ic.apnsSet]
		c.mu.Unlock()
		if ic.apns == nil {
			conn, err := NewAPNs(APNsConfig{URL: url, Key: []byte(a.Key), KeyID: a.KeyID, TeamID: a.TeamID, Topic: a.Topic, HTTP: s.cfg.APNsHTTP})
			if err != nil {
				ic.apnsErr = fmt.Errorf("the instance's APNs credentials: %w", err)
			} else {
				ic.apns = conn
				c.mu.Lock()
				c.bySet[ic.apnsSet] = conn
				c.mu.Unlock()
			}
		}
	}
	if f := creds.FCM; f != nil {
		ic.fcmSet = digest("fcm", s.cfg.FCMURL, s.cfg.FCMTokenURL, f.ProjectID, f.ClientEmail, f.PrivateKey)
		c.mu.Lock()
		ic.fcm = c.bySet[ic.fcmSet]
		c.mu.Unlock()
		if ic.fcm == nil {
			conn, err := NewFCM(FCMConfig{URL: s.cfg.FCMURL, TokenURL: s.cfg.FCMTokenURL, HTTP: s.cfg.FCMHTTP,
				Account: ServiceAccount{ProjectID: f.ProjectID, ClientEmail: f.ClientEmail, PrivateKey: f.PrivateKey}})
			if err != nil {
				ic.fcmErr = fmt.Errorf("the instance's FCM credentials: %w", err)
			} else {
				ic.fcm = conn
				c.mu.Lock()
				c.bySet[ic.fcmSet] = conn
				c.mu.Unlock()
			}
		}
	}
	return ic
}
