package pushsim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FCMDelivery is one message the FCM simulator accepted.
type FCMDelivery struct {
	Project string
	Token   string
	Message json.RawMessage // the HTTP v1 "message" object
}

// FCM is an FCM HTTP v1 simulator with Google's OAuth 2 token endpoint:
// POST /token exchanges a service account's signed JWT (RS256, checked
// against the account's key, scope and audience) for an access token;
// POST /v1/projects/{project}/messages:send takes messages with it.
type FCM struct {
	srv    *http.Server
	url    string
	client *http.Client

	// ServiceAccount is a service-account key file (JSON) for it: its
	// token_uri is the simulator's /token.
	ServiceAccount []byte
	ProjectID      string
	pub            *rsa.PublicKey

	mu sync.Mutex
	// accounts are the service accounts' projects by client e-mail: the
	// first one and AddServiceAccount's.
	accounts     map[string]string
	tokens       map[string]fcmToken
	deliveries   []FCMDelivery
	unregistered map[string]bool
	faults       faults
	// TokenRequests counts access tokens issued.
	TokenRequests int
}

// fcmToken is an access token the simulator issued, for a project.
type fcmToken struct {
	exp     time.Time
	project string
}

// fcmKey is the simulated service accounts' key: made once per process
// (a 2048-bit RSA key takes seconds under the race detector).
var fcmKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// NewFCM starts an FCM simulator with a service account of its own (the
// key is shared by the process's simulators).
func NewFCM() (*FCM, error) {
	key, err := fcmKey()
	if err != nil {
		return nil, err
	}
	f := &FCM{ProjectID: "omnigate-sim", pub: &key.PublicKey,
		accounts: map[string]string{}, tokens: map[string]fcmToken{}, unregistered: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /v1/projects/{project}/{rest}", f.send)
	f.srv, f.url, f.client, err = simTLS(mux)
	if err != nil {
		return nil, err
	}
	f.ServiceAccount = f.AddServiceAccount(f.ProjectID)
	return f, nil
}

// AddServiceAccount makes a service account of another Firebase project
// that the simulator accepts, and returns its key file (JSON). Its
// access tokens send to that project only. (The process's simulated
// accounts share one RSA key; each checks its own e-mail.)
func (f *FCM) AddServiceAccount(project string) []byte {
	key, _ := fcmKey()
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	email := "push@" + project + ".iam.gserviceaccount.com"
	f.mu.Lock()
	f.accounts[email] = project
	f.mu.Unlock()
	b, _ := json.MarshalIndent(map[string]string{
		"type": "service_account", "project_id": project, "private_key_id": "sim",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "token_uri": f.url + "/token",
	}, "", "  ")
	return b
}

// URL is the simulator's base URL (FCM's API and the token endpoint);
// Client trusts its certificate.
func (f *FCM) URL() string          { return f.url }
func (f *FCM) Client() *http.Client { return f.client }
func (f *FCM) Close() error         { return f.srv.Close() }

// Fail answers the next n sends with status.
func (f *FCM) Fail(status, n int) { f.faults.add(status, n) }

// Unregister makes a registration token unknown (404 UNREGISTERED).
func (f *FCM) Unregister(tok string) { f.mu.Lock(); f.unregistered[tok] = true; f.mu.Unlock() }

// Deliveries are the messages accepted so far.
func (f *FCM) Deliveries() []FCMDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FCMDelivery(nil), f.deliveries...)
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (f *FCM) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "bad form")
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, "unsupported_grant_type", "Invalid grant_type")
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(*jwt.Token) (any, error) { return f.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(f.url+"/token"), jwt.WithExpirationRequired())
	iss, _ := claims["iss"].(string)
	f.mu.Lock()
	project, known := f.accounts[iss]
	f.mu.Unlock()
	if err != nil || !known {
		oauthError(w, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	if claims["scope"] != "https://www.googleapis.com/auth/firebase.messaging" {
		oauthError(w, "invalid_scope", "Invalid OAuth scope.")
		return
	}
	var b [24]byte
	rand.Read(b[:])
	tok := "ya29.sim-" + hex.EncodeToString(b[:])
	f.mu.Lock()
	f.tokens[tok] = fcmToken{exp: time.Now().Add(time.Hour), project: project}
	f.TokenRequests++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599,"token_type":"Bearer"}`, tok)
}

func fcmError(w http.ResponseWriter, status int, state, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"code": status, "message": msg, "status": state}
	if code != "" {
		e["details"] = []map[string]string{{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}}
	}
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func (f *FCM) send(w http.ResponseWriter, r *http.Request) {
	project := r.PathValue("project")
	if r.PathValue("rest") != "messages:send" {
		fcmError(w, http.StatusNotFound, "NOT_FOUND", "", "Method not found.")
		return
	}
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	tok, ok := f.tokens[bearer]
	f.mu.Unlock()
	if !ok || time.Now().After(tok.exp) {
		fcmError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "", "Request had invalid authentication credentials.")
		return
	}
	if project != tok.project {
		fcmError(w, http.StatusForbidden, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "Permission denied.")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8192))
	var req struct {
		Message json.RawMessage `json:"message"`
	}
	var msg struct {
		Token string            `json:"token"`
		Data  map[string]string `json:"data"`
	}
	if json.Unmarshal(body, &req) != nil || req.Message == nil || json.Unmarshal(req.Message, &msg) != nil || msg.Token == "" {
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return
	}
	if len(body) > 4096 {
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Message is too big")
		return
	}
	if status := f.faults.next(); status != 0 {
		fcmError(w, status, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.")
		return
	}
	f.mu.Lock()
	gone := f.unregistered[msg.Token]
	f.mu.Unlock()
	if gone {
		fcmError(w, http.StatusNotFound, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
		return
	}
	f.mu.Lock()
	f.deliveries = append(f.deliveries, FCMDelivery{Project: project, Token: msg.Token, Message: req.Message})
	n := len(f.deliveries)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"name":"projects/%s/messages/%d"}`, project, n)
}
