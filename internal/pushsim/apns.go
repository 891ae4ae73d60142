// Package pushsim simulates the push services omnigate delivers to — APNs,
// FCM and Web Push — on loopback, for tests and the demo: each checks
// credentials as the real service does, records what it was sent, knows
// "unregistered" tokens, and can be told to fail.
package pushsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// simTLS starts an HTTPS server (HTTP/2 and HTTP/1.1) with a fresh
// self-signed certificate for 127.0.0.1 and localhost on a loopback port,
// and returns it, its base URL and a client that trusts it and speaks
// HTTP/2.
func simTLS(h http.Handler) (*http.Server, string, *http.Client, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "omnigate push simulator"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, "", nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}, NextProtos: []string{"h2", "http/1.1"}}}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	go srv.ServeTLS(ln, "", "")
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 16}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	tr.Protocols.SetHTTP2(true)
	return srv, "https://" + ln.Addr().String(), &http.Client{Transport: tr, Timeout: 15 * time.Second}, nil
}

// faults are failures to answer instead of the next requests.
type faults struct {
	mu     sync.Mutex
	status []int
}

func (f *faults) next() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.status) == 0 {
		return 0
	}
	s := f.status[0]
	f.status = f.status[1:]
	return s
}

func (f *faults) add(status, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.status = append(f.status, status)
	}
}

// apnsKey is a token signing key the simulator knows, of a team, for
// one topic (an app's bundle id).
type apnsKey struct {
	pub         *ecdsa.PublicKey
	team, topic string
}

// APNsDelivery is one notification the APNs simulator accepted.
type APNsDelivery struct {
	KeyID    string // the provider token's key id
	Token    string
	Topic    string
	PushType string
	Priority string
	Payload  json.RawMessage
	Proto    string // "HTTP/2.0"
}

// APNs is an APNs simulator: POST /3/device/{token} over HTTP/2 with a
// provider token (ES256 JWT, kid and iss checked against its key).
type APNs struct {
	srv    *http.Server
	url    string
	client *http.Client

	// KeyPEM, KeyID and TeamID are the credentials it accepts (a
	// generated .p8-style key), Topic the bundle id.
	KeyPEM []byte
	KeyID  string
	TeamID string
	Topic  string

	mu           sync.Mutex
	keys         map[string]apnsKey // by key id: the first key and AddKey's
	deliveries   []APNsDelivery
	unregistered map[string]bool
	faults       faults
}

// NewAPNs starts an APNs simulator with fresh credentials.
func NewAPNs() (*APNs, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	a := &APNs{
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		KeyID:  "SIMKEY0001", TeamID: "SIMTEAM001", Topic: "com.example.omnigate",
		keys: map[string]apnsKey{}, unregistered: map[string]bool{},
	}
	a.keys[a.KeyID] = apnsKey{pub: &key.PublicKey, team: a.TeamID, topic: a.Topic}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /3/device/{token}", a.serve)
	a.srv, a.url, a.client, err = simTLS(mux)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// AddKey makes another signing key the simulator accepts, as another
// team's app with its own bundle id would have: keyID and teamID (10
// characters each) and topic. It returns the key as a .p8 file's text.
func (a *APNs) AddKey(keyID, teamID, topic string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.keys[keyID] = apnsKey{pub: &key.PublicKey, team: teamID, topic: topic}
	a.mu.Unlock()
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// URL is the simulator's base URL; Client trusts its certificate.
func (a *APNs) URL() string          { return a.url }
func (a *APNs) Client() *http.Client { return a.client }
func (a *APNs) Close() error         { return a.srv.Close() }
func (a *APNs) Fail(status, n int)   { a.faults.add(status, n) }
func (a *APNs) Unregister(tok string) {
	a.mu.Lock()
	a.unregistered[strings.ToLower(tok)] = true
	a.mu.Unlock()
}

// Deliveries are the notifications accepted so far.
func (a *APNs) Deliveries() []APNsDelivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]APNsDelivery(nil), a.deliveries...)
}

func apnsError(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusGone {
		fmt.Fprintf(w, `{"reason":%q,"timestamp":%d}`, reason, time.Now().UnixMilli())
		return
	}
	fmt.Fprintf(w, `{"reason":%q}`, reason)
}

func (a *APNs) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("apns-id", newUUID())
	if r.ProtoMajor != 2 {
		apnsError(w, http.StatusBadRequest, "BadRequest: APNs speaks HTTP/2 only")
		return
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("authorization"), "bearer ")
	if !ok {
		apnsError(w, http.StatusForbidden, "MissingProviderToken")
		return
	}
	claims := jwt.MapClaims{}
	var key apnsKey
	_, err := jwt.ParseWithClaims(bearer, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		a.mu.Lock()
		k, ok := a.keys[kid]
		a.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		key = k
		return k.pub, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuedAt())
	if err != nil || claims["iss"] != key.team {
		apnsError(w, http.StatusForbidden, "InvalidProviderToken")
		return
	}
	if iat, _ := claims.GetIssuedAt(); iat == nil || time.Since(iat.Time) > time.Hour {
		apnsError(w, http.StatusForbidden, "ExpiredProviderToken")
		return
	}
	if r.Header.Get("apns-topic") != key.topic {
		apnsError(w, http.StatusBadRequest, "DeviceTokenNotForTopic")
		return
	}
	switch r.Header.Get("apns-push-type") {
	case "alert", "background", "voip", "complication", "fileprovider", "mdm", "liveactivity", "location", "pushtotalk":
	default:
		apnsError(w, http.StatusBadRequest, "InvalidPushType")
		return
	}
	token := r.PathValue("token")
	if b, err := hex.DecodeString(token); err != nil || len(b) < 16 {
		apnsError(w, http.StatusBadRequest, "BadDeviceToken")
		return
	}
	if status := a.faults.next(); status != 0 {
		apnsError(w, status, http.StatusText(status))
		return
	}
	a.mu.Lock()
	gone := a.unregistered[strings.ToLower(token)]
	a.mu.Unlock()
	if gone {
		apnsError(w, http.StatusGone, "Unregistered")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4097))
	if err != nil || len(body) > 4096 {
		apnsError(w, http.StatusRequestEntityTooLarge, "PayloadTooLarge")
		return
	}
	var payload struct {
		APS *json.RawMessage `json:"aps"`
	}
	if json.Unmarshal(body, &payload) != nil || payload.APS == nil {
		apnsError(w, http.StatusBadRequest, "PayloadEmpty")
		return
	}
	a.mu.Lock()
	kid, _ := jwtKeyID(bearer)
	a.deliveries = append(a.deliveries, APNsDelivery{KeyID: kid, Token: token, Topic: r.Header.Get("apns-topic"), PushType: r.Header.Get("apns-push-type"),
		Priority: r.Header.Get("apns-priority"), Payload: body, Proto: r.Proto})
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// jwtKeyID reads a JWT's kid header (the token was verified already).
func jwtKeyID(token string) (string, error) {
	t, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		return "", err
	}
	kid, _ := t.Header["kid"].(string)
	return kid, nil
}
