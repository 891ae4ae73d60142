// Command load sends SMS load to omnigate's REST API or to Kannel's smsbox
// send-SMS interface and measures throughput, latency percentiles, errors
// and, through status reports received on a local URL, end-to-end delivery
// and lost messages. See bench/README.md.
//
//	go run ./bench/load --url http://127.0.0.1:8080 --key live_… --rate 500 --duration 20s
//	go run ./bench/load --target kannel --url http://127.0.0.1:13013 --user bench --password … --concurrency 64
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/omnigate/omnigate/bench/load/loadgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `Usage: load [flags]

Sends SMS load to omnigate (POST /messages) or Kannel (GET /cgi-bin/sendsms)
on a loopback address and prints what it measured.

  --rate N > 0   open loop: request i is due at i/N seconds and its latency is
                 measured from then (no coordinated omission)
  --rate 0       closed loop: --concurrency workers send back to back

With --track (the default) the tool asks for status reports at its own
loopback URL and waits up to --grace for every accepted recipient's final
report: end-to-end latency and lost recipients come from them.

Exit status: 0 done, 1 the run failed (or --strict found errors or lost
recipients), 2 bad flags.

Flags:
`

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	var (
		target      = fs.String("target", "omnigate", "system under test: omnigate (REST JSON) or kannel (sendsms GET)")
		baseURL     = fs.String("url", "", "base URL (default http://127.0.0.1:8080 for omnigate, http://127.0.0.1:13013 for kannel)")
		key         = fs.String("key", os.Getenv("OMNIGATE_KEY"), "omnigate: live access key [OMNIGATE_KEY]")
		user        = fs.String("user", "", "kannel: sendsms-user username")
		password    = fs.String("password", "", "kannel: sendsms-user password")
		originator  = fs.String("originator", "Bench", "sender of the messages")
		label       = fs.String("label", "", "name of the run in results (default the target)")
		rate        = fs.Float64("rate", 0, "requests per second, open loop (0: closed loop)")
		concurrency = fs.Int("concurrency", loadgen.DefaultConcurrency, "requests in flight at most")
		duration    = fs.Duration("duration", 10*time.Second, "how long to send (0 with --requests: until that many are sent)")
		requests    = fs.Int("requests", 0, "stop after this many requests (0: no cap)")
		recipients  = fs.Int("recipients", 1, "recipients per request (1–50)")
		mix         = fs.String("mix", loadgen.DefaultMix, "weights of message kinds: gsm (one part), arabic (UCS-2, one part), long (GSM, two parts)")
		timeout     = fs.Duration("timeout", loadgen.DefaultTimeout, "timeout of one request")
		track       = fs.Bool("track", true, "track delivery through status reports sent to a local receiver")
		reportAddr  = fs.String("report-addr", loadgen.DefaultReportAddr, "loopback address of the status-report receiver")
		grace       = fs.Duration("grace", loadgen.DefaultGrace, "how long to wait for status reports after sending")
		verify      = fs.Bool("verify", true, "omnigate: read back through the API the messages whose reports did not come")
		jsonPath    = fs.String("json", "", "write the result as JSON to this file")
		svgPath     = fs.String("svg", "", "write a latency and throughput chart (SVG) to this file")
		seed        = fs.Uint64("seed", 0, "seed for messages and numbers (0: random)")
		maxTracked  = fs.Int("max-tracked", loadgen.DefaultMaxTracked, "most recipients tracked at once")
		quiet       = fs.Bool("quiet", false, "no progress lines on stderr")
		strict      = fs.Bool("strict", false, "exit 1 when any request failed, nothing was accepted, or (with --track) a recipient was lost")
		allowRemote = fs.Bool("allow-remote", false, "allow a target that is not on a loopback address")
		stdHTTP     = fs.Bool("std-http", false, "send requests and take reports with Go's net/http instead of the lean HTTP/1.1 client and server (which cost less CPU per message)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "load: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	m, err := loadgen.ParseMix(*mix)
	if err != nil {
		fmt.Fprintf(stderr, "load: --mix: %v\n", err)
		return 2
	}
	var t loadgen.Target
	switch *target {
	case "omnigate":
		if *key == "" {
			fmt.Fprintln(stderr, "load: --key (or OMNIGATE_KEY) is required for omnigate")
			return 2
		}
		t = &loadgen.Omnigate{BaseURL: orDefault(*baseURL, "http://127.0.0.1:8080"), Key: *key, Originator: *originator}
	case "kannel":
		if *user == "" {
			fmt.Fprintln(stderr, "load: --user and --password are required for kannel")
			return 2
		}
		t = &loadgen.Kannel{BaseURL: orDefault(*baseURL, "http://127.0.0.1:13013"), Username: *user, Password: *password, Originator: *originator}
	default:
		fmt.Fprintf(stderr, "load: --target %q: want omnigate or kannel\n", *target)
		return 2
	}
	cfg := loadgen.Config{
		Label: *label, Target: t, Rate: *rate, Concurrency: *concurrency, Duration: *duration,
		Requests: *requests, Recipients: *recipients, Mix: m, Timeout: *timeout,
		TrackDelivery: *track, ReportAddr: *reportAddr, Grace: *grace, Verify: *verify, StdHTTP: *stdHTTP,
		MaxTracked: *maxTracked, AllowRemote: *allowRemote, Seed: *seed,
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		var ce loadgen.ConfigError
		if errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	res.PrintTable(stdout)
	code := 0
	if *jsonPath != "" {
		if err := res.WriteJSON(*jsonPath); err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			code = 1
		}
	}
	if *svgPath != "" {
		if err := res.WriteSVG(*svgPath); err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			code = 1
		}
	}
	if *strict {
		if problems := res.Problems(); len(problems) > 0 {
			for _, p := range problems {
				fmt.Fprintf(stderr, "load: --strict: %s\n", p)
			}
			code = 1
		}
	}
	return code
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
