package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/authguard"
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
	noCharging, _ := strconv.ParseBool(envOr("OMNIGATE_BILLING_DISABLED", "false"))
	fs.BoolVar(&cfg.Billing.Disabled, "billing-disabled", noCharging, "send without charging: messages cost nothing, usage limits are not counted [OMNIGATE_BILLING_DISABLED]")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", durationEnv("OMNIGATE_SHUTDOWN_TIMEOUT", app.DefaultShutdownTimeout), "how long a graceful stop may take [OMNIGATE_SHUTDOWN_TIMEOUT]")
	fs.StringVar(&cfg.NATSURL, "nats", envOr("OMNIGATE_NATS", ""), "NATS server(s) joining this node's realtime server to others (nats://host:4222); empty: one node [OMNIGATE_NATS]")
	fs.StringVar(&cfg.NATSPrefix, "nats-prefix", envOr("OMNIGATE_NATS_PREFIX", ""), "subject prefix shared by the nodes of one cluster; default omnigate.realtime [OMNIGATE_NATS_PREFIX]")
	fs.StringVar(&logCfg.Format, "log-format", envOr("OMNIGATE_LOG_FORMAT", "text"), "log format: text or json [OMNIGATE_LOG_FORMAT]")
	fs.StringVar(&logCfg.Level, "log-level", envOr("OMNIGATE_LOG_LEVEL", "info"), "log level: debug, info, warn, error [OMNIGATE_LOG_LEVEL]")
	if err := parse(fs, args, stderr); err != nil {
		return err
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
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "admin-token" {
			log.Warn("the admin token is on the command line, where every local user can read it (ps); " +
				"give it in OMNIGATE_ADMIN_TOKEN or a file (--admin-token-file) instead")
		}
	})
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	a.PrintDemo(stdout)
	return a.Run(ctx)
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
