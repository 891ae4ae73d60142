package smtp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"
)

// TLS modes of Settings.TLS.
const (
	TLSOpportunistic = "opportunistic" // STARTTLS when offered, certificate not verified (RFC 7435)
	TLSRequired      = "required"      // STARTTLS must be offered and the certificate verify, else retry later
	TLSOff           = "off"           // never STARTTLS
)

// Duration is a time.Duration written as "30s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" (or "120h").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is text like \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Settings configure one SMTP connector (JSON stored with the connector,
// encrypted at rest like every connector's settings). Zero values mean the
// defaults in each field's comment.
type Settings struct {
	// Relay, "host:port", sends every message through this one server
	// (a provider's relay, a test sink) instead of the recipients' MX hosts.
	Relay string `json:"relay,omitempty"`
	// Username and Password authenticate to Relay with AUTH PLAIN, only
	// ever over TLS.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Port is the port of MX hosts; default 25.
	Port int `json:"port,omitempty"`
	// Resolver, "host:port", is the DNS server MX and address lookups ask;
	// default the system's resolver.
	Resolver string `json:"resolver,omitempty"`
	// HeloName is the name in EHLO; default the machine's host name.
	HeloName string `json:"heloName,omitempty"`
	// TLS is opportunistic (default), required or off.
	TLS string `json:"tls,omitempty"`
	// ConnectTimeout bounds connecting, the greeting, EHLO, STARTTLS and
	// AUTH; default 30s.
	ConnectTimeout Duration `json:"connectTimeout,omitempty"`
	// MaxConnections bounds open connections per destination (a set of MX
	// hosts shared by any number of domains); default 20, as Postfix's
	// default_destination_concurrency_limit.
	MaxConnections int `json:"maxConnections,omitempty"`
	// RatePerSecond bounds messages per second per destination; 0 means
	// no limit.
	RatePerSecond float64 `json:"ratePerSecond,omitempty"`
	// RetryFor is how long temporary failures (4xx, unreachable hosts) are
	// retried, counted from the message's send time; after it they fail
	// the recipient. Default 120h (5 days).
	RetryFor Duration `json:"retryFor,omitempty"`
	// MessagesPerConnection bounds the messages one connection carries
	// before it is closed; default 100.
	MessagesPerConnection int `json:"messagesPerConnection,omitempty"`
	// IdleTimeout closes connections unused this long; default 10s.
	IdleTimeout Duration `json:"idleTimeout,omitempty"`
}

// ParseSettings reads and checks settings, filling in the defaults.
func ParseSettings(raw []byte) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("smtp settings: %w", err)
	}
	if s.Relay != "" {
		if err := hostPort(s.Relay); err != nil {
			return s, fmt.Errorf("smtp settings: relay: %w", err)
		}
	}
	if (s.Username != "" || s.Password != "") && s.Relay == "" {
		return s, fmt.Errorf("smtp settings: username and password are for a relay; set relay")
	}
	if s.Username != "" && s.Password == "" || s.Username == "" && s.Password != "" {
		return s, fmt.Errorf("smtp settings: username and password go together")
	}
	if s.Resolver != "" {
		if err := hostPort(s.Resolver); err != nil {
			return s, fmt.Errorf("smtp settings: resolver: %w", err)
		}
	}
	switch s.TLS {
	case "":
		s.TLS = TLSOpportunistic
	case TLSOpportunistic, TLSRequired, TLSOff:
	default:
		return s, fmt.Errorf("smtp settings: tls is opportunistic, required or off, not %q", s.TLS)
	}
	if s.Username != "" && s.TLS == TLSOff {
		return s, fmt.Errorf("smtp settings: a password is only sent over TLS; tls cannot be off with a username")
	}
	if s.Port == 0 {
		s.Port = 25
	}
	if s.Port < 1 || s.Port > 65535 {
		return s, fmt.Errorf("smtp settings: port %d is not a TCP port", s.Port)
	}
	for _, d := range []struct {
		name string
		v    *Duration
		def  time.Duration
	}{{"connectTimeout", &s.ConnectTimeout, 30 * time.Second}, {"retryFor", &s.RetryFor, 120 * time.Hour},
		{"idleTimeout", &s.IdleTimeout, 10 * time.Second}} {
		if *d.v < 0 {
			return s, fmt.Errorf("smtp settings: %s cannot be negative", d.name)
		}
		if *d.v == 0 {
			*d.v = Duration(d.def)
		}
	}
	if s.MaxConnections < 0 || s.MaxConnections > 1000 {
		return s, fmt.Errorf("smtp settings: maxConnections is between 1 and 1000")
	}
	if s.MaxConnections == 0 {
		s.MaxConnections = 20
	}
	if s.RatePerSecond < 0 || s.RatePerSecond > 1e6 {
		return s, fmt.Errorf("smtp settings: ratePerSecond is between 0 (no limit) and 1000000")
	}
	if s.MessagesPerConnection < 0 {
		return s, fmt.Errorf("smtp settings: messagesPerConnection cannot be negative")
	}
	if s.MessagesPerConnection == 0 {
		s.MessagesPerConnection = 100
	}
	if len(s.HeloName) > 255 || !printable(s.HeloName) {
		return s, fmt.Errorf("smtp settings: heloName must be a host name")
	}
	return s, nil
}

// Check validates settings without connecting.
func Check(raw []byte) error {
	_, err := ParseSettings(raw)
	return err
}

func hostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q has no valid port", s)
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
