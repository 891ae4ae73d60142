package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/omnigate/omnigate/internal/logging"
	"github.com/omnigate/omnigate/internal/mailsink"
)

// mailsinkCmd runs the receiving mail server simulator until interrupted.
func mailsinkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg mailsink.Config
	var logCfg logging.Config
	fs := flag.NewFlagSet("mailsink", flag.ContinueOnError)
	fs.StringVar(&cfg.Listen, "listen", envOr("OMNIGATE_MAILSINK_LISTEN", "127.0.0.1:2525"), "SMTP address to listen on (loopback) [OMNIGATE_MAILSINK_LISTEN]")
	fs.StringVar(&cfg.Dir, "dir", envOr("OMNIGATE_MAILSINK_DIR", "mailsink"), "maildir root: <dir>/<recipient>/new/<message> [OMNIGATE_MAILSINK_DIR]")
	fs.StringVar(&cfg.Hostname, "hostname", "mailsink.test", "host name in the greeting and in reports")
	fs.IntVar(&cfg.DeferTimes, "defer-times", 1, "how many times a defer…@ recipient is answered 451 before it is accepted")
	fs.StringVar(&cfg.ReportRelay, "report-relay", "", "host:port where DSNs (asyncbounce…@) and ARF reports (complain…@) are mailed (\"\": none)")
	fs.StringVar(&cfg.FeedbackTo, "feedback-to", "", "where ARF complaints go (default: the envelope sender)")
	fs.BoolVar(&cfg.NoSMTPUTF8, "no-smtputf8", false, "do not offer SMTPUTF8, as a server that takes only ASCII addresses")
	fs.StringVar(&logCfg.Format, "log-format", "text", "log format: text or json")
	fs.StringVar(&logCfg.Level, "log-level", "info", "log level")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return usagef("mailsink: --listen %q: %v", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("mailsink: --listen must be a loopback address, not %q", cfg.Listen)
	}
	log, err := logging.New(os.Stderr, logCfg)
	if err != nil {
		return usageError{err}
	}
	cfg.Log = log
	sink, err := mailsink.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "omnigate mail sink listening on %s (SMTP), maildirs under %s\n", sink.Addr(), cfg.Dir)
	<-ctx.Done()
	return sink.Stop()
}
