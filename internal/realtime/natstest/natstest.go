// Package natstest gives tests the NATS server they share: the URL in
// OMNIGATE_TEST_NATS, or the local server at nats://127.0.0.1:4222. Tests
// isolate themselves with a subject prefix of their own. When no server
// answers, the test fails with the command that starts one; set
// OMNIGATE_TEST_NATS=skip to skip such tests instead.
package natstest

import (
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// EnvVar names the variable holding the test server's URL.
const EnvVar = "OMNIGATE_TEST_NATS"

// DefaultURL is the server tests use when EnvVar is unset.
const DefaultURL = "nats://127.0.0.1:4222"

// URL returns the test server's URL after checking that it answers.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "skip" {
		t.Skip(EnvVar + "=skip")
	}
	if u == "" {
		u = DefaultURL
	}
	first, _, _ := strings.Cut(u, ",")
	parsed, err := url.Parse(first)
	if err != nil || parsed.Host == "" {
		t.Fatalf("%s=%q is not a nats:// URL", EnvVar, u)
	}
	c, err := net.DialTimeout("tcp", parsed.Host, 2*time.Second)
	if err != nil {
		t.Fatalf("no NATS server at %s (%v); start one with: start-stop-daemon --start --oknodo --background "+
			"--exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log "+
			"(or set %s=skip)", parsed.Host, err, EnvVar)
	}
	c.Close()
	return u
}
