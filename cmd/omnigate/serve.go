package main

import (
	"context"
	"flag"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/app"
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
	fs.StringVar(&cfg.AdminToken, "admin-token", envOr("OMNIGATE_ADMIN_TOKEN", ""), "enable the operator API under /admin/ with this bearer token (16+ characters) [OMNIGATE_ADMIN_TOKEN]")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", envOr("OMNIGATE_DEBUG_ADDR", ""), "serve Go's profiler (/debug/pprof/) on this separate address, e.g. 127.0.0.1:6060; empty: off [OMNIGATE_DEBUG_ADDR]")
	fs.StringVar(&cfg.SMTPAddr, "smtp", envOr("OMNIGATE_SMTP", ""), "mail server (host:port) for usage-alert emails; empty: no emails [OMNIGATE_SMTP]")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", envOr("OMNIGATE_SMTP_FROM", "omnigate@localhost"), "sender address of usage-alert emails [OMNIGATE_SMTP_FROM]")
	noCharging, _ := strconv.ParseBool(envOr("OMNIGATE_BILLING_DISABLED", "false"))
	fs.BoolVar(&cfg.Billing.Disabled, "billing-disabled", noCharging, "send without charging: messages cost nothing, usage limits are not counted [OMNIGATE_BILLING_DISABLED]")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", durationEnv("OMNIGATE_SHUTDOWN_TIMEOUT", app.DefaultShutdownTimeout), "how long a graceful stop may take [OMNIGATE_SHUTDOWN_TIMEOUT]")
	fs.DurationVar(&cfg.ReceiptGrace, "receipt-grace", durationEnv("OMNIGATE_RECEIPT_GRACE", app.DefaultReceiptGrace), "how long past its validity (48h without one) a sent recipient waits for its receipt before it is expired, \"DLR not received\" [OMNIGATE_RECEIPT_GRACE]")
	fs.StringVar(&cfg.NATSURL, "nats", envOr("OMNIGATE_NATS", ""), "NATS server(s) joining this node's realtime server to others (nats://host:4222); empty: one node [OMNIGATE_NATS]")
	fs.StringVar(&cfg.NATSPrefix, "nats-prefix", envOr("OMNIGATE_NATS_PREFIX", ""), "subject prefix shared by the nodes of one cluster; default omnigate.realtime [OMNIGATE_NATS_PREFIX]")
	fs.StringVar(&logCfg.Format, "log-format", envOr("OMNIGATE_LOG_FORMAT", "text"), "log format: text or json [OMNIGATE_LOG_FORMAT]")
	fs.StringVar(&logCfg.Level, "log-level", envOr("OMNIGATE_LOG_LEVEL", "info"), "log level: debug, info, warn, error [OMNIGATE_LOG_LEVEL]")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	log, err := logging.New(os.Stderr, logCfg)
	if err != nil {
		return usageError{err}
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	a.PrintDemo(stdout)
	return a.Run(ctx)
}

func durationEnv(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}
