package main

import (
	"context"
	"flag"
	"fmt"
	emailchan "github.com/omnigate/omnigate/internal/channel/email"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/connectors"
	"github.com/omnigate/omnigate/internal/connlimit"
	"github.com/omnigate/omnigate/internal/logging"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	var logCfg logging.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	fs.StringVar(&cfg.HTTPAddr, "http", envOr("OMNIGATE_HTTP", app.DefaultHTTPAddr), "address the API listens on [OMNIGATE_HTTP]")
	fs.StringVar(&cfg.TLSCert, "tls-cert", envOr("OMNIGATE_TLS_CERT", ""), "PEM certificate (chain after it) to serve the API over HTTPS; with --tls-key [OMNIGATE_TLS_CERT]")
	fs.StringVar(&cfg.TLSKey, "tls-key", envOr("OMNIGATE_TLS_KEY", ""), "PEM private key of --tls-cert [OMNIGATE_TLS_KEY]")
	fs.StringVar(&cfg.PublicURL, "public-url", envOr("OMNIGATE_PUBLIC_URL", ""), "scheme and host clients reach the API at, for hrefs; default: the request's Host [OMNIGATE_PUBLIC_URL]")
	demoDefault, _ := strconv.ParseBool(envOr("OMNIGATE_DEMO", "false"))
	fs.BoolVar(&cfg.Demo, "demo", demoDefault, "create a demo account and run the SMSC simulator in the process; SMS without a route go to it [OMNIGATE_DEMO]")
	hlrSim, _ := strconv.ParseBool(envOr("OMNIGATE_HLR_SIMULATOR", "false"))
	fs.BoolVar(&cfg.HLRSimulator, "hlr-simulator", hlrSim, "answer HLR queries (POST /hlr, the check before sending) with the built-in simulator, by the number's last digit (docs/lookup.md); on with --demo [OMNIGATE_HLR_SIMULATOR]")
	pushSim, _ := strconv.ParseBool(envOr("OMNIGATE_PUSH_SIMULATOR", "false"))
	fs.BoolVar(&cfg.Push.Simulator, "push-simulator", pushSim, "deliver APNs and FCM push notifications to built-in simulators (docs/push.md); on with --demo [OMNIGATE_PUSH_SIMULATOR]")
	fs.StringVar(&cfg.Push.APNsKeyFile, "apns-key", envOr("OMNIGATE_APNS_KEY", ""), "APNs token-auth signing key (.p8 file); with --apns-key-id, --apns-team-id, --apns-topic; empty: no APNs [OMNIGATE_APNS_KEY]")
	fs.StringVar(&cfg.Push.APNsKeyID, "apns-key-id", envOr("OMNIGATE_APNS_KEY_ID", ""), "the APNs key's id [OMNIGATE_APNS_KEY_ID]")
	fs.StringVar(&cfg.Push.APNsTeamID, "apns-team-id", envOr("OMNIGATE_APNS_TEAM_ID", ""), "the Apple developer team id [OMNIGATE_APNS_TEAM_ID]")
	fs.StringVar(&cfg.Push.APNsTopic, "apns-topic", envOr("OMNIGATE_APNS_TOPIC", ""), "the iOS app's bundle id (apns-topic) [OMNIGATE_APNS_TOPIC]")
	fs.StringVar(&cfg.Push.APNsURL, "apns-url", envOr("OMNIGATE_APNS_URL", ""), "APNs server; default https://api.push.apple.com (development builds: https://api.sandbox.push.apple.com) [OMNIGATE_APNS_URL]")
	fs.StringVar(&cfg.Push.FCMServiceAccountFile, "fcm-service-account", envOr("OMNIGATE_FCM_SERVICE_ACCOUNT", ""), "Firebase service-account key file (JSON) for FCM HTTP v1; empty: no FCM [OMNIGATE_FCM_SERVICE_ACCOUNT]")
	fs.StringVar(&cfg.Push.FCMURL, "fcm-url", envOr("OMNIGATE_FCM_URL", ""), "FCM API; default https://fcm.googleapis.com [OMNIGATE_FCM_URL]")
	fs.StringVar(&cfg.Push.FCMTokenURL, "fcm-token-url", envOr("OMNIGATE_FCM_TOKEN_URL", ""), "OAuth token URL; default the service account's token_uri [OMNIGATE_FCM_TOKEN_URL]")
	fs.StringVar(&cfg.Push.VAPIDKey, "vapid-key", envOr("OMNIGATE_VAPID_KEY", ""), "Web Push VAPID private key (base64url); empty: generated once into the data directory [OMNIGATE_VAPID_KEY]")
	fs.StringVar(&cfg.Push.VAPIDSubject, "vapid-subject", envOr("OMNIGATE_VAPID_SUBJECT", "mailto:push@localhost"), "contact (mailto: or https:) in VAPID signatures [OMNIGATE_VAPID_SUBJECT]")
	apiOnly, _ := strconv.ParseBool(envOr("OMNIGATE_API_ONLY", "false"))
	fs.BoolVar(&cfg.APIOnly, "api-only", apiOnly, "accept messages but run no dispatcher or webhook workers (another node sharing the database does) [OMNIGATE_API_ONLY]")
	fs.StringVar(&cfg.AdminToken, "admin-token", envOr("OMNIGATE_ADMIN_TOKEN", ""), "enable the operator API under /admin/ with this bearer token (32+ characters); prefer the environment variable or --admin-token-file: every local user sees the command line [OMNIGATE_ADMIN_TOKEN]")
	fs.StringVar(&cfg.AdminTokenFile, "admin-token-file", envOr("OMNIGATE_ADMIN_TOKEN_FILE", ""), "read the admin token from this file's first line instead [OMNIGATE_ADMIN_TOKEN_FILE]")
	fs.IntVar(&cfg.AuthLimits.PerAddress, "auth-failures-per-address", intEnv("OMNIGATE_AUTH_FAILURES_PER_ADDRESS", authguard.DefaultPerAddress),
		"failed authentications one client address may make per minute before it must wait (429); 0: no limit [OMNIGATE_AUTH_FAILURES_PER_ADDRESS]")
	fs.IntVar(&cfg.AuthLimits.PerPrefix, "auth-failures-per-prefix", intEnv("OMNIGATE_AUTH_FAILURES_PER_PREFIX", authguard.DefaultPerPrefix),
		"failed authentications with one key or token prefix (Pusher: one app) per minute, all addresses together; 0: no limit [OMNIGATE_AUTH_FAILURES_PER_PREFIX]")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", envOr("OMNIGATE_DEBUG_ADDR", ""), "serve Go's profiler (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; empty: off [OMNIGATE_DEBUG_ADDR]")
	fs.StringVar(&cfg.SMTPAddr, "smtp", envOr("OMNIGATE_SMTP", ""), "mail server (host:port) for usage-alert emails; empty: no emails [OMNIGATE_SMTP]")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", envOr("OMNIGATE_SMTP_FROM", "omnigate@localhost"), "sender address of usage-alert emails [OMNIGATE_SMTP_FROM]")
	fs.StringVar(&cfg.SMTPInbound, "smtp-inbound", envOr("OMNIGATE_SMTP_INBOUND", ""), "inbound SMTP listener (host:port) for bounces, feedback reports and mailto unsubscribes at the return-path domains' MX; empty: off (with --demo: 127.0.0.1, a free port) [OMNIGATE_SMTP_INBOUND]")
	fs.StringVar(&cfg.SMTPSubmission, "smtp-submission", envOr("OMNIGATE_SMTP_SUBMISSION", ""), "SMTP submission door (host:port, e.g. :587): applications send email with an access key as the AUTH password; empty: off [OMNIGATE_SMTP_SUBMISSION]")
	insecureAuth, _ := strconv.ParseBool(envOr("OMNIGATE_SMTP_SUBMISSION_INSECURE_AUTH", "false"))
	fs.BoolVar(&cfg.SMTPSubmissionInsecureAuth, "smtp-submission-insecure-auth", insecureAuth, "let the submission door take AUTH without STARTTLS from non-loopback clients (behind a TLS-terminating proxy only) [OMNIGATE_SMTP_SUBMISSION_INSECURE_AUTH]")
	fs.StringVar(&cfg.SMPPListen, "smpp-listen", envOr("OMNIGATE_SMPP_LISTEN", ""), "SMPP server for customers (host:port, e.g. :2775): gateways bind with the credentials of omnigate smpp credentials; empty: off [OMNIGATE_SMPP_LISTEN]")
	fs.BoolVar(&cfg.SMPPTLS, "smpp-tls", envOr("OMNIGATE_SMPP_TLS", "") == "true", "the SMPP server speaks SMPP over TLS with tls-cert and tls-key [OMNIGATE_SMPP_TLS]")
	noCharging, _ := strconv.ParseBool(envOr("OMNIGATE_BILLING_DISABLED", "false"))
	fs.BoolVar(&cfg.Billing.Disabled, "billing-disabled", noCharging, "send without charging: messages cost nothing, usage limits are not counted [OMNIGATE_BILLING_DISABLED]")
	fs.StringVar(&cfg.Backup.Dir, "backup-dir", envOr("OMNIGATE_BACKUP_DIR", ""), "make a backup each day into this directory (SQLite: online backup; PostgreSQL: pg_dump), keeping 7 daily and 4 weekly; empty: no scheduled backups [OMNIGATE_BACKUP_DIR]")
	fs.IntVar(&cfg.Backup.Kept.Daily, "backup-keep-daily", intEnv("OMNIGATE_BACKUP_KEEP_DAILY", 7), "scheduled backups: keep the newest of each of this many last days [OMNIGATE_BACKUP_KEEP_DAILY]")
	fs.IntVar(&cfg.Backup.Kept.Weekly, "backup-keep-weekly", intEnv("OMNIGATE_BACKUP_KEEP_WEEKLY", 4), "scheduled backups: keep the newest of each of this many last ISO weeks [OMNIGATE_BACKUP_KEEP_WEEKLY]")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", durationEnv("OMNIGATE_SHUTDOWN_TIMEOUT", app.DefaultShutdownTimeout), "how long a graceful stop may take [OMNIGATE_SHUTDOWN_TIMEOUT]")
	fs.DurationVar(&cfg.Drain, "drain", durationEnv("OMNIGATE_DRAIN", app.DefaultDrain), "lame duck on SIGTERM: /readyz answers 503 while the node serves on this long, then it stops (skipped when nothing asked /readyz in the last 10 s; 0: none) [OMNIGATE_DRAIN]")
	fs.DurationVar(&cfg.BindLease, "bind-lease", durationEnv("OMNIGATE_BIND_LEASE", connectors.DefaultBindLease), "on PostgreSQL, how long a node's lease on a carrier bind lasts unrenewed: a dead node's binds move to the others within about 4/3 of it [OMNIGATE_BIND_LEASE]")
	fs.DurationVar(&cfg.ReceiptGrace, "receipt-grace", durationEnv("OMNIGATE_RECEIPT_GRACE", app.DefaultReceiptGrace), "how long past its validity (48h without one) a sent recipient waits for its receipt before it is expired, \"DLR not received\" [OMNIGATE_RECEIPT_GRACE]")
	fs.StringVar(&cfg.Retention, "retention", envOr("OMNIGATE_RETENTION", ""), "retention periods in days over the defaults, kind=days,… (traffic, inbound, receipts, lookups, marketing, decisions, webhooks, consent, billing; 0 keeps forever); see docs/privacy.md [OMNIGATE_RETENTION]")
	fs.DurationVar(&cfg.RetentionEvery, "retention-every", durationEnv("OMNIGATE_RETENTION_EVERY", time.Hour), "how often the retention schedule runs a pass, over all nodes [OMNIGATE_RETENTION_EVERY]")
	fs.DurationVar(&cfg.EmailSettle, "email-settle", durationEnv("OMNIGATE_EMAIL_SETTLE", emailchan.SettleAfter), "how long after the receiving server's 250 an email recipient without a bounce becomes delivered [OMNIGATE_EMAIL_SETTLE]")
	fs.StringVar(&cfg.NATSURL, "nats", envOr("OMNIGATE_NATS", ""), "NATS server(s) joining this node's realtime server to others (nats://host:4222); empty: one node [OMNIGATE_NATS]")
	fs.StringVar(&cfg.NATSPrefix, "nats-prefix", envOr("OMNIGATE_NATS_PREFIX", ""), "subject prefix shared by the nodes of one cluster; default omnigate.realtime [OMNIGATE_NATS_PREFIX]")
	fs.StringVar(&cfg.RealtimeHTTPAddr, "realtime-http", envOr("OMNIGATE_REALTIME_HTTP", ""), "serve realtime clients (/app/{key}, /apps/{id}/…) on this address of their own instead of --http's; empty: on --http's [OMNIGATE_REALTIME_HTTP]")
	emailFlags(fs, &cfg)
	limits := envInts{}
	httpPerIP := limits.flag(fs, "http-conns-per-ip", "OMNIGATE_HTTP_CONNS_PER_IP", app.DefaultHTTPConnsPerIP, "TCP connections one client address may hold on each listener, WebSockets included (429 beyond); 0: no limit")
	wsPerIP := limits.flag(fs, "ws-conns-per-ip", "OMNIGATE_WS_CONNS_PER_IP", app.DefaultWSConnsPerIP, "WebSocket connections one client address may hold (429 before the upgrade beyond); 0: no limit")
	appMax := limits.flag(fs, "app-max-connections", "OMNIGATE_APP_MAX_CONNECTIONS", app.DefaultAppMaxConnections, "connections of a realtime app that sets no max_connections (4004 beyond); 0: unlimited")
	fdReserve := limits.flag(fs, "fd-reserve", "OMNIGATE_FD_RESERVE", 0, "file descriptors WebSockets may never take, kept for the API and the database; 0: a quarter of the open files limit, at most 1024")
	exempt := fs.String("conn-limit-exempt", envOr("OMNIGATE_CONN_LIMIT_EXEMPT", ""), "addresses and CIDR prefixes the per-address limits do not count, comma-separated (your reverse proxy) [OMNIGATE_CONN_LIMIT_EXEMPT]")
	fs.StringVar(&logCfg.Format, "log-format", envOr("OMNIGATE_LOG_FORMAT", "text"), "log format: text or json [OMNIGATE_LOG_FORMAT]")
	fs.StringVar(&logCfg.Level, "log-level", envOr("OMNIGATE_LOG_LEVEL", "info"), "log level: debug, info, warn, error [OMNIGATE_LOG_LEVEL]")
	cpuProfile := cpuProfileFlag(fs)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if err := limits.err(fs); err != nil {
		return usageError{err}
	}
	if cfg.BindLease < time.Second {
		return usagef("serve: bind-lease %v: want 1s or more", cfg.BindLease)
	}
	if cfg.Drain < 0 {
		return usagef("serve: drain %v: want 0 or more", cfg.Drain)
	}
	// In Config, 0 means the default and a negative value no limit.
	for _, l := range []struct {
		dst *int
		v   int
	}{{&cfg.HTTPConnsPerIP, *httpPerIP}, {&cfg.WSConnsPerIP, *wsPerIP}, {&cfg.AppMaxConnections, *appMax}} {
		*l.dst = l.v
		if l.v == 0 {
			*l.dst = -1
		}
	}
	cfg.FDReserve = *fdReserve
	var err error
	if cfg.ConnLimitExempt, err = connlimit.ParsePrefixes(*exempt); err != nil {
		return usagef("conn-limit-exempt: %v", err)
	}
	for _, limit := range []*int{&cfg.AuthLimits.PerAddress, &cfg.AuthLimits.PerPrefix} {
		if *limit < 0 {
			return usagef("serve: auth-failures-per-address and -per-prefix are 0 (no limit) or more")
		}
		if *limit == 0 {
			*limit = -1 // authguard: negative is no limit, zero the default
		}
	}
	log, err := logging.New(os.Stderr, logCfg)
	if err != nil {
		return usageError{err}
	}
	settleSet := os.Getenv("OMNIGATE_EMAIL_SETTLE") != ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "email-settle" {
			settleSet = true
		}
		if f.Name == "admin-token" {
			log.Warn("the admin token is on the command line, where every local user can read it (ps); " +
				"give it in OMNIGATE_ADMIN_TOKEN or a file (--admin-token-file) instead")
		}
	})
	if cfg.Demo {
		// The demo shows an email become delivered while one watches.
		if !settleSet {
			cfg.EmailSettle = app.DemoEmailSettle
		}
		if cfg.MaintenanceEvery == 0 { // the settle sweep runs with housekeeping
			cfg.MaintenanceEvery = max(min(cfg.EmailSettle, app.DemoEmailSettle), 100*time.Millisecond)
		}
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	a.PrintDemo(stdout)
	return a.Run(ctx)
}

// envInts are integer flags whose defaults come from the environment; a
// value that is not a whole number 0 or more, on the command line or in
// the environment (unless the command line gives the flag), is a usage
// error.
type envInts struct {
	flags []*envInt
}

type envInt struct {
	name, env string
	v         int
	envErr    error
}

func (e *envInts) flag(fs *flag.FlagSet, name, env string, def int, usage string) *int {
	f := &envInt{name: name, env: env, v: def}
	if s, ok := os.LookupEnv(env); ok {
		if n, err := strconv.Atoi(s); err != nil || n < 0 {
			f.envErr = fmt.Errorf("%s: %q is not a whole number 0 or more", env, s)
		} else {
			f.v = n
		}
	}
	fs.IntVar(&f.v, name, f.v, fmt.Sprintf("%s [%s]", usage, env))
	e.flags = append(e.flags, f)
	return &f.v
}

func (e *envInts) err(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, f := range e.flags {
		if f.envErr != nil && !given[f.name] {
			return f.envErr
		}
		if f.v < 0 {
			return fmt.Errorf("%s: %d: want 0 or more", f.name, f.v)
		}
	}
	return nil
}

func intEnv(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func durationEnv(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}
