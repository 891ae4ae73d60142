package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and
// rest.messagebird.com (the host the SDKs call) and its key to dir, and
// returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "omnigate test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"rest.messagebird.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// TestServeTLS starts the server with a certificate made here and talks
// HTTPS to it: the API answers, hrefs say https, a client that does not
// trust the certificate or speaks plain HTTP gets nothing.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t, t.TempDir())
	s := start(t, "sqlite", func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if got := s.app.URL(); got != "https://"+s.app.Addr() {
		t.Fatalf("URL %s", got)
	}
	if plain := start(t, "sqlite"); plain.app.URL() != "http://"+plain.app.Addr() {
		t.Fatalf("URL of a server without TLS, serving: %s", plain.app.URL())
	}
	base := s.app.URL()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(client.CloseIdleConnections)

	req, _ := http.NewRequest("POST", base+"/messages", strings.NewReader(`{"originator":"Shop","recipients":["31612345678"],"body":"over TLS"}`))
	req.Header.Set("Authorization", "AccessKey "+s.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 201 || resp.TLS == nil || json.Unmarshal(raw, &m) != nil {
		t.Fatalf("POST /messages over TLS: %d %s", resp.StatusCode, raw)
	}
	if !strings.HasPrefix(m["href"].(string), "https://") {
		t.Fatalf("href %v over TLS", m["href"])
	}
	// The name the SDKs call (the hosts-file route): the certificate is
	// checked against it.
	sdk := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "rest.messagebird.com"},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.app.Addr())
		},
	}}
	t.Cleanup(sdk.CloseIdleConnections)
	req, _ = http.NewRequest("GET", "https://rest.messagebird.com/balance", nil)
	req.Header.Set("Authorization", "AccessKey "+s.key)
	if resp, err := sdk.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET https://rest.messagebird.com/balance: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Not trusted: the handshake fails. Plain HTTP: refused.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("a client that does not trust the certificate got an answer")
	}
	if resp, err := http.Get("http://" + s.app.Addr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the TLS port: %d", resp.StatusCode)
		}
	}
}

// A certificate without a key, or files that are not a certificate and
// key, stop the server from starting with a clear error.
func TestTLSConfigErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t, t.TempDir())
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name       string
		cert, key  string
		wantSubstr string
	}{
		{"cert without key", certFile, "", "give both"},
		{"key without cert", "", keyFile, "give both"},
		{"swapped", keyFile, certFile, "tls-cert, tls-key"},
		{"missing file", certFile + ".nope", keyFile, "tls-cert, tls-key"},
	} {
		cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), SQLiteSync: "NORMAL", TLSCert: tc.cert, TLSKey: tc.key}
		a, err := New(context.Background(), cfg, log)
		if err == nil {
			a.stop(context.Background())
			t.Fatalf("%s: started", tc.name)
		}
		if !strings.Contains(err.Error(), tc.wantSubstr) {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
}
