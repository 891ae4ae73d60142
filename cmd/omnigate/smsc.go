package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/logging"
	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
)

// smscCmd runs the SMSC simulator until interrupted.
func smscCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg smsc.Config
	var control string
	var logCfg logging.Config
	fs := flag.NewFlagSet("smsc", flag.ContinueOnError)
	fs.StringVar(&cfg.Listen, "listen", envOr("OMNIGATE_SMSC_LISTEN", "127.0.0.1:2775"), "SMPP address to listen on [OMNIGATE_SMSC_LISTEN]")
	fs.StringVar(&cfg.SystemID, "system-id", "", "accept only this system_id (default: any)")
	fs.StringVar(&cfg.Password, "password", "", "accept only this password (default: any)")
	fs.DurationVar(&cfg.ReceiptDelay, "receipt-delay", 100*time.Millisecond, "delay before a delivery receipt (±20 % jitter)")
	fs.IntVar(&cfg.Window, "window", 10, "deliver_sm (receipts, inbound messages) awaiting a response, per bind, 1 to 1000")
	fs.IntVar(&cfg.Outcomes.Delivered, "delivered", 100, "weight of delivered receipts")
	fs.IntVar(&cfg.Outcomes.Undeliverable, "undeliverable", 0, "weight of undeliverable receipts")
	fs.IntVar(&cfg.Outcomes.Expired, "expired", 0, "weight of expired receipts")
	fs.Float64Var(&cfg.MaxRate, "max-rate", 0, "submits per second above which ESME_RTHROTTLED is answered (0: no cap)")
	fs.IntVar(&cfg.DropEvery, "drop-every", 0, "drop a connection after every N submits it carried (0: never)")
	fs.BoolVar(&cfg.HexIDs, "hex-ids", false, "hexadecimal message ids (default decimal)")
	fs.BoolVar(&cfg.ReceiptIDsOtherBase, "receipt-ids-other-base", false, "write receipt ids in the other base than submit responses, as some carriers do")
	fs.IntVar(&cfg.MaxBinds, "max-binds", 0, "refuse a bind (ESME_RBINDFAIL) beyond this many bound sessions per system_id, as carriers do (0: no limit)")
	submitsLog := fs.String("submits-log", "", "append each submit_sm's short_message to this file, one a line (tests count what reached the carrier, and twice)")
	fs.StringVar(&control, "control", "127.0.0.1:2776", "loopback HTTP address for POST /inject and GET /stats (\"\" for none)")
	fs.StringVar(&logCfg.Format, "log-format", "text", "log format: text or json")
	fs.StringVar(&logCfg.Level, "log-level", "info", "log level")
	cpuProfile := cpuProfileFlag(fs)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if cfg.Window < 1 || cfg.Window > 1000 {
		return usagef("smsc: --window must be 1 to 1000, not %d", cfg.Window)
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	log, err := logging.New(os.Stderr, logCfg)
	if err != nil {
		return usageError{err}
	}
	cfg.Log = log
	if *submitsLog != "" {
		f, err := os.OpenFile(*submitsLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("smsc: --submits-log: %w", err)
		}
		defer f.Close()
		var mu sync.Mutex
		cfg.OnMessage = func(p *codec.SubmitSM) {
			line := bytes.ReplaceAll(p.ShortMessage, []byte("\n"), []byte(" "))
			mu.Lock()
			f.Write(append(line, '\n'))
			mu.Unlock()
		}
	}
	srv, err := smsc.Start(cfg)
	if err != nil {
		return err
	}
	var ctl *http.Server
	if control != "" {
		host, _, err := net.SplitHostPort(control)
		if err != nil {
			return usagef("smsc: --control %q: %v", control, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return usagef("smsc: --control must be a loopback address, not %q", control)
		}
		l, err := net.Listen("tcp", control)
		if err != nil {
			return fmt.Errorf("smsc: control endpoint: %w", err)
		}
		ctl = &http.Server{Handler: srv.ControlHandler(), ReadHeaderTimeout: 5 * time.Second}
		go ctl.Serve(l)
		control = l.Addr().String()
	}
	fmt.Fprintf(stdout, "omnigate SMSC simulator listening on %s (SMPP 3.4)", srv.Addr())
	if ctl != nil {
		fmt.Fprintf(stdout, "; control on http://%s", control)
	}
	fmt.Fprintln(stdout)
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if ctl != nil {
		errs = append(errs, ctl.Shutdown(stopCtx))
	}
	errs = append(errs, srv.Stop(stopCtx))
	return errors.Join(errs...)
}
