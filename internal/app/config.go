package app

import (
	"fmt"

	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/dispatch"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/webhook"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything `omnigate serve` can be told. Every field has a safe
// default; the command line and OMNIGATE_* environment variables fill it.
type Config struct {
	// HTTPAddr is where the API listens; default "127.0.0.1:8080".
	HTTPAddr string
	// TLSCert and TLSKey, both set, are PEM files of a certificate (its
	// chain after it) and its private key: the API is then served over
	// HTTPS (TLS 1.2 or later) instead of HTTP. Read once, at start.
	TLSCert, TLSKey string
	// DataDir holds the SQLite database and demo files; default "./data".
	DataDir string
	// DatabaseURL selects PostgreSQL ("postgres://…"); empty means the
	// embedded SQLite database in DataDir.
	DatabaseURL string
	// SQLiteSync is FULL (default: durable across power loss) or NORMAL
	// (durable across process crashes only; faster).
	SQLiteSync string
	// PublicURL is the scheme and host the API is reached at, for hrefs;
	// default: each request's Host.
	PublicURL string
	// Demo creates a demo account and runs the SMSC simulator in the
	// process, with a connector every SMS falls back to.
	Demo bool
	// DemoReceiptDelay is how long the demo SMSC waits before a receipt;
	// default 100 ms.
	DemoReceiptDelay time.Duration
	// APIOnly serves the API and accepts messages but runs no dispatcher or
	// webhook workers: another node sharing the PostgreSQL database does.
	APIOnly bool
	// ShutdownTimeout bounds a graceful stop; default 30 s.
	ShutdownTimeout time.Duration
	// ReceiptGrace is how long past its deadline (validity, or 48 hours
	// without one) a recipient handed to a carrier waits for its receipt
	// before it becomes expired ("DLR not received"); default 1 hour.
	ReceiptGrace time.Duration
	// HeartbeatEvery is how often the node writes its heartbeat, which
	// /readyz needs to have succeeded within three periods; default 5 s.
	HeartbeatEvery time.Duration
	// MaintenanceEvery is how often the housekeeping loop runs (purges,
	// proof cases, receipts that never came); default 1 minute.
	MaintenanceEvery time.Duration

	// AdminToken enables the operator API under /admin/ for requests that
	// carry it as a bearer token; empty: no admin API.
	AdminToken string
	// DebugAddr, when set, serves Go's profiler (/debug/pprof/) on this
	// separate address; keep it on loopback.
	DebugAddr string
	// Billing tunes charging; Billing.Disabled makes messages free.
	Billing billing.Config
	// SMTPAddr (host:port) and SMTPFrom are where usage-alert emails go
	// out; empty SMTPAddr: no emails (alert webhooks still go).
	SMTPAddr, SMTPFrom string

	// Tuning of the workers; zero values mean each package's defaults.
	// Not exposed as flags yet.
	Dispatch dispatch.Config
	Webhook  webhook.Config
	Notifier notice.Config
	TopUps   billing.TopUpConfig
	// Compliance tunes proof-of-consent cases and the complaint threshold.
	Compliance compliance.DeskConfig

	// NATSURL joins the realtime server to the other nodes' through NATS
	// (nats://host:4222, comma-separated for several); empty: one node,
	// fan-out in memory. NATSPrefix starts its subjects; nodes of one
	// cluster share it (default omnigate.realtime). See realtime.go.
	NATSURL, NATSPrefix string
	// Realtime tunes the Pusher-compatible server; zero values mean its
	// defaults.
	Realtime realtime.Config
}

// Defaults for Config.
const (
	DefaultHTTPAddr        = "127.0.0.1:8080"
	DefaultDataDir         = "./data"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultReceiptGrace    = time.Hour
	sqliteFile             = "omnigate.db"
)

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.ReceiptGrace <= 0 {
		c.ReceiptGrace = DefaultReceiptGrace
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = DefaultHeartbeatEvery
	}
	if c.MaintenanceEvery <= 0 {
		c.MaintenanceEvery = maintenanceEvery
	}
	return c
}

// Validate names the first field that cannot work.
func (c Config) Validate() error {
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("database: %q is not a postgres:// URL (leave it empty for the embedded SQLite database)", redactURL(c.DatabaseURL))
	}
	switch strings.ToUpper(c.SQLiteSync) {
	case "", "FULL", "NORMAL":
	default:
		return fmt.Errorf("sqlite-sync: %q: use FULL or NORMAL", c.SQLiteSync)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("tls-cert and tls-key: give both (HTTPS) or neither (HTTP)")
	}
	if c.ReceiptGrace > 30*24*time.Hour {
		return fmt.Errorf("receipt-grace: %v: use at most 720h (30 days)", c.ReceiptGrace)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return fmt.Errorf("admin-token: use at least 16 characters")
	}
	if err := c.validateRealtime(); err != nil {
		return err
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("public-url: %q is not an absolute http(s) URL", c.PublicURL)
		}
	}
	return nil
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, sqliteFile) }

// redactURL hides the password in a database URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
