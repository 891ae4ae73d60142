package push

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FCMScope is the OAuth 2 scope of FCM's HTTP v1 API.
const FCMScope = "https://www.googleapis.com/auth/firebase.messaging"

// ServiceAccount is the part of a Google service-account key file (JSON)
// the FCM connector uses.
type ServiceAccount struct {
	ProjectID   string `json:"project_id"`
	PrivateKey  string `json:"private_key"`
	ClientEmail string `json:"client_email"`
	TokenURI    string `json:"token_uri"`
}

// FCMConfig configures the FCM HTTP v1 connector.
type FCMConfig struct {
	// URL is FCM's API; default https://fcm.googleapis.com.
	URL string
	// Account is the service account; its TokenURI is where its signed
	// JWT is exchanged for an access token (TokenURL overrides it).
	Account  ServiceAccount
	TokenURL string
	HTTP     *http.Client
}

// FCM delivers through Firebase Cloud Messaging's HTTP v1 API with an
// OAuth 2 access token obtained from the service account's JWT.
type FCM struct {
	cfg FCMConfig
	key *rsa.PrivateKey

	mu       sync.Mutex
	token    string
	tokenExp time.Time
}

// NewFCM checks cfg and makes the connector.
func NewFCM(cfg FCMConfig) (*FCM, error) {
	if cfg.URL == "" {
		cfg.URL = "https://fcm.googleapis.com"
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	if cfg.TokenURL == "" {
		cfg.TokenURL = cfg.Account.TokenURI
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = "https://oauth2.googleapis.com/token"
	}
	if cfg.Account.ProjectID == "" || cfg.Account.ClientEmail == "" {
		return nil, errors.New("fcm: the service account has no project_id or client_email")
	}
	block, _ := pem.Decode([]byte(cfg.Account.PrivateKey))
	if block == nil {
		return nil, errors.New("fcm: the service account's private_key is not PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("fcm: the service account's private_key: %w", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("fcm: the service account's private_key is not RSA")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	return &FCM{cfg: cfg, key: key}, nil
}

// accessToken returns a cached access token or exchanges a new JWT.
func (f *FCM) accessToken(ctx context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if f.token != "" && now.Before(f.tokenExp.Add(-time.Minute)) {
		return f.token, nil
	}
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": f.cfg.Account.ClientEmail, "scope": FCMScope, "aud": f.cfg.TokenURL,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}).SignedString(f.key)
	if err != nil {
		return "", fmt.Errorf("fcm: signing the token request: %w", err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("fcm: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.cfg.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("fcm: token request: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		return "", fmt.Errorf("fcm: token request answered %d %s", resp.StatusCode, tok.Error)
	}
	f.token, f.tokenExp = tok.AccessToken, now.Add(time.Duration(tok.ExpiresIn)*time.Second)
	return f.token, nil
}

// fcmMessage turns Beams' fcm payload (the legacy shape: notification and
// data) into an HTTP v1 message for token.
func fcmMessage(token string, payload json.RawMessage) ([]byte, error) {
	var in struct {
		Notification map[string]any `json:"notification"`
		Data         map[string]any `json:"data"`
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	msg := map[string]any{"token": token}
	if len(in.Notification) > 0 {
		n := map[string]any{}
		android := map[string]any{}
		for k, v := range in.Notification {
			switch k {
			case "title", "body":
				n[k] = fmt.Sprint(v)
			case "image":
				n[k] = fmt.Sprint(v)
			default:
				android[k] = v
			}
		}
		msg["notification"] = n
		if len(android) > 0 {
			msg["android"] = map[string]any{"notification": android}
		}
	}
	if len(in.Data) > 0 {
		data := map[string]string{}
		for k, v := range in.Data {
			if s, ok := v.(string); ok {
				data[k] = s
				continue
			}
			b, _ := json.Marshal(v)
			data[k] = string(b)
		}
		msg["data"] = data
	}
	return json.Marshal(map[string]any{"message": msg})
}

// Deliver sends the publish's fcm payload to the registration token.
func (f *FCM) Deliver(ctx context.Context, token string, body Body) (Result, error) {
	if body.FCM == nil {
		return Result{}, &PermanentError{errors.New("fcm: the publish has no fcm payload")}
	}
	msg, err := fcmMessage(token, body.FCM)
	if err != nil {
		return Result{}, &PermanentError{fmt.Errorf("fcm: %w", err)}
	}
	bearer, err := f.accessToken(ctx)
	if err != nil {
		return Result{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.URL+"/v1/projects/"+url.PathEscape(f.cfg.Account.ProjectID)+"/messages:send", bytes.NewReader(msg))
	if err != nil {
		return Result{}, &PermanentError{fmt.Errorf("fcm: %w", err)}
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.cfg.HTTP.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("fcm: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	if resp.StatusCode == http.StatusOK {
		var ok struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(answer, &ok)
		return Result{ID: ok.Name}, nil
	}
	var e struct {
		Error struct {
			Status  string `json:"status"`
			Message string `json:"message"`
			Details []struct {
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(answer, &e)
	code := e.Error.Status
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			code = d.ErrorCode
		}
	}
	switch {
	case code == "UNREGISTERED" || resp.StatusCode == http.StatusNotFound:
		return Result{Gone: true}, nil
	case resp.StatusCode == http.StatusUnauthorized:
		f.mu.Lock()
		f.token = ""
		f.mu.Unlock()
		return Result{}, fmt.Errorf("fcm: %d %s", resp.StatusCode, code)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return Result{}, fmt.Errorf("fcm: %d %s", resp.StatusCode, code)
	}
	return Result{}, &PermanentError{fmt.Errorf("fcm: %d %s %s", resp.StatusCode, code, e.Error.Message)}
}
