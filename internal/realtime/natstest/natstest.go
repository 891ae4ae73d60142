// Package natstest gives tests the NATS server they share: the URL in
// OMNIGATE_TEST_NATS, or the local server at nats://127.0.0.1:4222. Tests
// isolate themselves with a subject prefix of their own.
//
// When OMNIGATE_TEST_NATS is set (CI sets it), a server that does not
// answer fails the test. When it is unset and nothing answers at the
// default address, the test is skipped with a message saying how to start
// one.
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

// StartCommand starts the machine's NATS server (docs/realtime.md).
const StartCommand = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- " +
	"-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"

// URL returns the test server's URL after checking that it answers.
func URL(t testing.TB) string {
	t.Helper()
	u, set := os.LookupEnv(EnvVar)
	if u == "" {
		u, set = DefaultURL, false
	}
	first, _, _ := strings.Cut(u, ",")
	parsed, err := url.Parse(first)
	if err != nil || parsed.Host == "" {
		t.Fatalf("%s=%q is not a nats:// URL", EnvVar, u)
	}
	c, err := net.DialTimeout("tcp", parsed.Host, 2*time.Second)
	if err != nil {
		if !set {
			t.Skipf("no NATS server at %s (%v) and %s is unset: skipping; start one with: %s", parsed.Host, err, EnvVar, StartCommand)
		}
		t.Fatalf("%s=%s but no NATS server answers there (%v); start one with: %s", EnvVar, u, err, StartCommand)
	}
	c.Close()
	return u
}
