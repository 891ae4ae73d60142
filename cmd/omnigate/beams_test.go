package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBeamsCredentialsCLI: `omnigate beams credentials` sets an
// instance's own APNs key and FCM service account (checked first), shows
// them without the keys, and removes them; bad files change nothing.
func TestBeamsCredentialsCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(ec)
		p8 := filepath.Join(dir, "AuthKey_ABCDE12345.p8")
		os.WriteFile(p8, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
		rk, _ := rsa.GenerateKey(rand.Reader, 1024)
		rder, _ := x509.MarshalPKCS8PrivateKey(rk)
		saFile := filepath.Join(dir, "service-account.json")
		sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "shop-app", "client_email": "push@shop-app.iam.gserviceaccount.com",
			"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rder})), "token_uri": "https://oauth2.googleapis.com/token"})
		os.WriteFile(saFile, sa, 0o600)
		bad := filepath.Join(dir, "bad.p8")
		os.WriteFile(bad, []byte("not a key"), 0o600)

		var acct created
		e.run(&acct, "account", "create", "--name", "Push")
		var inst map[string]any
		e.run(&inst, "beams", "create", "--account", acct.ID)
		id := inst["instanceId"].(string)

		for _, args := range [][]string{
			{"beams", "credentials"},
			{"beams", "credentials", "--id", "nope"},
			{"beams", "credentials", "--id", id, "--apns-key", bad, "--apns-key-id", "ABCDE12345", "--apns-team-id", "TEAM123456", "--apns-topic", "com.shop"},
			{"beams", "credentials", "--id", id, "--apns-key", p8, "--apns-key-id", "short", "--apns-team-id", "TEAM123456", "--apns-topic", "com.shop"},
			{"beams", "credentials", "--id", id, "--fcm-service-account", p8},
			{"beams", "credentials", "--id", id, "--remove", "apns"},
			{"beams", "credentials", "--id", id, "--remove", "sms"},
		} {
			var stderr bytes.Buffer
			c := e.cmd(args...)
			c.Stderr = &stderr
			if err := c.Run(); err == nil || stderr.Len() == 0 {
				t.Errorf("omnigate %v: err %v, stderr %q; want a failure with a message", args, err, stderr.String())
			}
		}
		var shown map[string]any
		e.run(&shown, "beams", "credentials", "--id", id)
		if shown["apns"] != nil || shown["fcm"] != nil {
			t.Fatalf("refused commands stored credentials: %v", shown)
		}
		var out bytes.Buffer
		c := e.cmd("beams", "credentials", "--id", id, "--apns-key", p8, "--apns-key-id", "ABCDE12345", "--apns-team-id", "TEAM123456",
			"--apns-topic", "com.shop.app", "--apns-sandbox", "--fcm-service-account", saFile)
		c.Stdout = &out
		if err := c.Run(); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "PRIVATE KEY") {
			t.Fatalf("the keys are printed: %s", out.String())
		}
		json.Unmarshal(out.Bytes(), &shown)
		a, _ := shown["apns"].(map[string]any)
		f, _ := shown["fcm"].(map[string]any)
		if a["keyId"] != "ABCDE12345" || a["topic"] != "com.shop.app" || a["sandbox"] != true || f["projectId"] != "shop-app" {
			t.Fatalf("set printed %s", out.String())
		}
		e.run(&shown, "beams", "credentials", "--id", id, "--remove", "apns")
		if shown["apns"] != nil || shown["fcm"] == nil {
			t.Fatalf("after removing APNs: %v", shown)
		}
	})
}
