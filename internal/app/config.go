package app

import (
	"fmt"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/dispatch"
	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/numbers"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/verify"
	"github.com/omnigate/omnigate/internal/webhook"
	"net/netip"
	"net/url"
	"os"
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
	// MasterKeyFile holds the master key that encrypts the secrets stored
	// in the database (see keys.go); empty: DataDir's master.key, made on
	// first start. MasterKey is the key itself, in base64, instead.
	MasterKeyFile, MasterKey string
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
	// UserPasswordMemory is argon2id's memory cost in KiB for the console
	// users' passwords (users.Config.PasswordMemory); default 64 MiB.
	// Tests lower it: each hash records its cost.
	UserPasswordMemory uint32
	// APIOnly serves the API and accepts messages but runs no dispatcher or
	// webhook workers: another node sharing the PostgreSQL database does.
	APIOnly bool
	// ShutdownTimeout bounds a graceful stop; default 30 s.
	ShutdownTimeout time.Duration
	// Drain is the lame-duck period of a graceful stop: /readyz answers
	// 503 at once while the node keeps serving for this long, so that a
	// load balancer polling /readyz sends its traffic elsewhere first.
	// Skipped when nothing asked /readyz in the last 10 s. 0: none (omnigate
	// serve's default is DefaultDrain).
	Drain time.Duration
	// BindLease is how long a node's lease on a carrier bind lasts
	// unrenewed on PostgreSQL, where nodes share binds out
	// (internal/connectors); default connectors.DefaultBindLease.
	BindLease time.Duration
	// ReceiptGrace is how long past its deadline (validity, or 48 hours
	// without one) a recipient handed to a carrier waits for its receipt
	// before it becomes expired ("DLR not received"); default 1 hour.
	ReceiptGrace time.Duration
	// EmailSettle is how long after the receiving server's 250 an email
	// recipient without a bounce becomes delivered; default 10 minutes.
	EmailSettle time.Duration
	// DNSResolver is the DNS server ("host:port") sending-domain checks ask;
	// empty: the system's resolver.
	DNSResolver string
	// EmailMXHost is omnigate's inbound MX host, which each sending domain's
	// return path (bounces.<domain>) points at; EmailSPFInclude the domain
	// customers' SPF records include; EmailDMARCReport where suggested DMARC
	// records send reports (empty: postmaster@ the domain). See
	// docs/email.md, "Sending domains and DKIM".
	EmailMXHost, EmailSPFInclude, EmailDMARCReport string
	// HeartbeatEvery is how often the node writes its heartbeat, which
	// /readyz needs to have succeeded within three periods; default 5 s.
	HeartbeatEvery time.Duration
	// Backup is the backup schedule; off unless Backup.Dir is set.
	Backup BackupConfig
	// MaintenanceEvery is how often the housekeeping loop runs (purges,
	// proof cases, receipts that never came); default 1 minute.
	MaintenanceEvery time.Duration
	// Retention overrides the retention schedule's default periods:
	// "kind=days,…" (docs/privacy.md); the operator's settings (admin API,
	// omnigate retention set) override both. RetentionEvery is how often a
	// pass runs, over all nodes; default 1 hour.
	Retention      string
	RetentionEvery time.Duration
	// FallbackEvery is how often due fallbacks of Conversations sends are
	// looked for (docs/conversations.md, "Fallback"); default 1 s.
	// FallbackMinAfter lowers the least fallback.after POST /v1/send
	// accepts (default, and in production: 1 minute). Test-only.
	FallbackEvery, FallbackMinAfter time.Duration

	// AdminToken enables the operator API under /admin/ for requests that
	// carry it as a bearer token; empty: no admin API. At least
	// MinAdminToken characters.
	AdminToken string
	// AdminTokenFile names a file holding the admin token (its first line;
	// surrounding spaces and the newline are dropped), so that the token
	// need not be on the command line, where every local user sees it.
	// Give AdminToken or AdminTokenFile, not both.
	AdminTokenFile string
	// DebugAddr, when set, serves Go's profiler (/debug/pprof/) on this
	// separate address; keep it on loopback.
	DebugAddr string
	// Billing tunes charging; Billing.Disabled makes messages free.
	Billing billing.Config
	// HLR tunes HLR queries (hlr.go); HLRSimulator answers them with the
	// built-in simulator (on with Demo), in about HLRSimDelay each.
	HLR          hlr.Config
	HLRSimulator bool
	HLRSimDelay  time.Duration
	// Push configures push notifications' connectors (push.go).
	Push PushConfig
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
	// Verify tunes one-time-code verifications and their fraud protection.
	Verify verify.Config
	// Numbers tunes renewals and reclamation (internal/numbers); its Now is
	// the clock tests move.
	Numbers numbers.Config
	// Subscriptions tunes the account lifecycle's pass (plans, trials,
	// invoices, dunning, deletion; docs/subscriptions.md).
	Subscriptions SubscriptionsConfig
	// Auth tunes the authentication of access keys: how long a node keeps
	// a key in memory and how often it checks for revocations.
	Auth auth.Config
	// AuthLimits limits failed authentication (access keys, the admin
	// token, Pusher signatures) per source address and credential prefix.
	AuthLimits authguard.Config

	// NATSURL joins the realtime server to the other nodes' through NATS
	// (nats://host:4222, comma-separated for several); empty: one node,
	// fan-out in memory. NATSPrefix starts its subjects; nodes of one
	// cluster share it (default omnigate.realtime). See realtime.go.
	NATSURL, NATSPrefix string
	// Realtime tunes the Pusher-compatible server; zero values mean its
	// defaults.
	Realtime realtime.Config
	// RealtimeHTTPAddr, when set, is a listener of its own for realtime
	// clients: the WebSocket endpoint (/app/{key}) and the Pusher HTTP API
	// (/apps/{id}/…) are served there, with /healthz, and no longer on
	// HTTPAddr. Empty: they are served on HTTPAddr. See realtime.go.
	RealtimeHTTPAddr string

	// Limits on connections (docs/operations.md, "Connection limits").
	// For each: 0 means the default, a negative value no limit.
	//
	// HTTPConnsPerIP bounds the TCP connections one client address holds
	// on each listener, WebSockets included; more are answered 429 and
	// closed. Default 2000.
	HTTPConnsPerIP int
	// WSConnsPerIP bounds the WebSocket connections of one client
	// address; more are refused with HTTP 429 before the upgrade. Default
	// 1000.
	WSConnsPerIP int
	// ConnLimitExempt are addresses and prefixes (a reverse proxy of
	// yours) the per-address limits do not count.
	ConnLimitExempt []netip.Prefix
	// FDReserve is how many of the process's file descriptors WebSockets
	// may never take: they stay for the API, the database, carriers and
	// webhooks. Default a quarter of the limit, at most 1024. (No
	// negative form: there is always a reserve.)
	FDReserve int
	// AppMaxConnections is the connection limit of realtime apps that set
	// none (max_connections 0). Default 10000.
	AppMaxConnections int

	// SMTPInbound is where the inbound SMTP listener (bounces, feedback
	// reports, mailto unsubscribes; internal/mailin) listens; "" is off,
	// except with Demo (127.0.0.1, a free port).
	SMTPInbound string
	// SMTPSubmission is where the SMTP submission door listens; "" is off.
	SMTPSubmission string
	// SMTPSubmissionInsecureAuth lets the submission door take AUTH
	// without STARTTLS from addresses other than loopback.
	SMTPSubmissionInsecureAuth bool
	// SMPPListen is where the SMPP server for customers listens; "" is
	// off. SMPPTLS makes it speak SMPP over TLS with the API's certificate.
	SMPPListen string
	SMPPTLS    bool
	// SMPPPartsWait is how long the SMPP server keeps the parts of a long
	// message waiting for the rest, from its first part; 0 is a minute.
	SMPPPartsWait time.Duration
}

// Defaults for Config.
const (
	DefaultHTTPAddr        = "127.0.0.1:8080"
	DefaultDataDir         = "./data"
	DefaultShutdownTimeout = 30 * time.Second
	DefaultDrain           = 5 * time.Second
	DefaultReceiptGrace    = time.Hour
	sqliteFile             = "omnigate.db"

	DefaultHTTPConnsPerIP    = 2000
	DefaultWSConnsPerIP      = 1000
	DefaultAppMaxConnections = 10000
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
	orDefault := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	orDefault(&c.HTTPConnsPerIP, DefaultHTTPConnsPerIP)
	orDefault(&c.WSConnsPerIP, DefaultWSConnsPerIP)
	orDefault(&c.AppMaxConnections, DefaultAppMaxConnections)
	if c.ReceiptGrace <= 0 {
		c.ReceiptGrace = DefaultReceiptGrace
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = DefaultHeartbeatEvery
	}
	if c.MaintenanceEvery <= 0 {
		c.MaintenanceEvery = maintenanceEvery
	}
	if c.FallbackEvery <= 0 {
		c.FallbackEvery = fallbackEvery
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
	if c.MasterKeyFile != "" && c.MasterKey != "" {
		return fmt.Errorf("master-key-file and OMNIGATE_MASTER_KEY: give one master key, not both")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("tls-cert and tls-key: give both (HTTPS) or neither (HTTP)")
	}
	if _, err := privacy.ParseRetention(c.Retention); err != nil {
		return fmt.Errorf("retention: %v", strings.TrimPrefix(err.Error(), privacy.ErrInvalid.Error()+": "))
	}
	if c.ReceiptGrace > 30*24*time.Hour {
		return fmt.Errorf("receipt-grace: %v: use at most 720h (30 days)", c.ReceiptGrace)
	}
	if c.FDReserve < 0 {
		return fmt.Errorf("fd-reserve: %d: want 0 (the default) or more", c.FDReserve)
	}
	if c.RealtimeHTTPAddr != "" && c.RealtimeHTTPAddr == c.HTTPAddr && !strings.HasSuffix(c.HTTPAddr, ":0") {
		return fmt.Errorf("realtime-http: %q is the API's address: give another, or leave it empty to serve realtime on the API's address", c.RealtimeHTTPAddr)
	}
	if c.AdminToken != "" && c.AdminTokenFile != "" {
		return fmt.Errorf("admin-token and admin-token-file: give one of them")
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinAdminToken {
		return fmt.Errorf("admin-token: the admin token has %d characters; use at least %d (e.g. the output of: openssl rand -hex 32)",
			len(c.AdminToken), MinAdminToken)
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

// MinAdminToken is the shortest admin token accepted.
const MinAdminToken = 32

// readAdminToken reads AdminTokenFile into AdminToken, checking it like a
// token given directly.
func (c Config) readAdminToken() (Config, error) {
	if c.AdminTokenFile == "" {
		return c, nil
	}
	if c.AdminToken != "" {
		return c, fmt.Errorf("admin-token and admin-token-file: give one of them")
	}
	b, err := os.ReadFile(c.AdminTokenFile)
	if err != nil {
		return c, fmt.Errorf("admin-token-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	token := strings.TrimSpace(line)
	if len(token) < MinAdminToken {
		return c, fmt.Errorf("admin-token-file: %s holds a token of %d characters; use at least %d (e.g. the output of: openssl rand -hex 32)",
			c.AdminTokenFile, len(token), MinAdminToken)
	}
	c.AdminToken, c.AdminTokenFile = token, ""
	return c, nil
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, sqliteFile) }

// BackupDirs are where backups are kept: the schedule's directory and the
// data directory's backups (`omnigate backup`'s default). Shredding
// rewrites their keys files and erasures go into their journals.
func (c Config) BackupDirs() []string {
	dirs := []string{filepath.Join(c.DataDir, "backups")}
	if c.Backup.Dir != "" {
		dirs = append([]string{c.Backup.Dir}, dirs...)
	}
	return dirs
}

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
