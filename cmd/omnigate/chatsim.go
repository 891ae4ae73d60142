package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/logging"
)

// chatsimCmd runs the WhatsApp Cloud API simulator until interrupted.
func chatsimCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg chatsim.Config
	var logCfg logging.Config
	var approve string
	fs := flag.NewFlagSet("chatsim", flag.ContinueOnError)
	fs.StringVar(&cfg.Listen, "listen", envOr("OMNIGATE_CHATSIM_LISTEN", "127.0.0.1:8089"), "HTTP address to listen on (loopback) [OMNIGATE_CHATSIM_LISTEN]")
	fs.StringVar(&cfg.Token, "token", envOr("OMNIGATE_CHATSIM_TOKEN", "test-token"), "access token senders present (Bearer) [OMNIGATE_CHATSIM_TOKEN]")
	fs.StringVar(&cfg.AppSecret, "app-secret", envOr("OMNIGATE_CHATSIM_APP_SECRET", "test-secret"), "app secret signing webhooks (X-Hub-Signature-256) [OMNIGATE_CHATSIM_APP_SECRET]")
	fs.StringVar(&cfg.VerifyToken, "verify-token", "test-verify", "verify token of the GET hub.challenge handshake")
	fs.StringVar(&cfg.WebhookURL, "webhook", "", "URL receiving statuses and inbound messages (e.g. http://127.0.0.1:8080/webhooks/whatsapp/NAME)")
	fs.BoolVar(&cfg.Window, "window", true, "fail free-form messages outside the 24-hour window (131047)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate: serve HTTPS (with --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&approve, "approve", "", "an approved template to start with: WABA:NAME:LANGUAGE (body without parameters)")
	fs.StringVar(&logCfg.Format, "log-format", "text", "log format: text or json")
	fs.StringVar(&logCfg.Level, "log-level", "info", "log level")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return usagef("chatsim: --listen %q: %v", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("chatsim: --listen must be a loopback address, not %q", cfg.Listen)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return usagef("chatsim: --tls-cert and --tls-key go together")
	}
	log, err := logging.New(os.Stderr, logCfg)
	if err != nil {
		return usageError{err}
	}
	cfg.Log = log
	sim, err := chatsim.Start(cfg)
	if err != nil {
		return err
	}
	if approve != "" {
		parts := strings.SplitN(approve, ":", 3)
		if len(parts) != 3 {
			sim.Stop()
			return usagef("chatsim: --approve is WABA:NAME:LANGUAGE")
		}
		sim.AddTemplate(parts[0], parts[1], parts[2], "UTILITY", "APPROVED", `[{"type":"BODY","text":"`+parts[1]+`"}]`)
	}
	fmt.Fprintf(stdout, "omnigate WhatsApp simulator listening on %s (Cloud API base URL %s/v21.0, control API %s/_control/)\n",
		sim.Addr(), sim.URL(), sim.URL())
	if cfg.WebhookURL != "" {
		if err := sim.Verify(ctx); err != nil {
			fmt.Fprintf(stderr, "chatsim: the webhook's verification handshake failed: %v\n", err)
		}
	}
	<-ctx.Done()
	return sim.Stop()
}
