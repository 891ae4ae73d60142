package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what a run measured. It is written as JSON by --json.
type Result struct {
	Label   string    `json:"label"`
	Target  string    `json:"target"`
	Started time.Time `json:"started"`
	Config  RunConfig `json:"config"`
	// Stopped says why the run ended before its plan, if it did.
	Stopped string `json:"stopped,omitempty"`

	Requests   RequestCounts   `json:"requests"`
	Recipients RecipientCounts `json:"recipients"`
	Throughput Throughput      `json:"throughput"`
	// Latency of requests, from the time each was due (open loop) or sent
	// (closed loop) to its answer.
	RequestLatency Summary `json:"request_latency"`
	// EndToEnd is from the time a request was due to its recipient's
	// delivered report; absent without delivery tracking.
	EndToEnd *Summary       `json:"end_to_end,omitempty"`
	Errors   map[string]int `json:"errors"`
	Series   []Point        `json:"series"`
	API      *APICheck      `json:"api_check,omitempty"`
	// LoadSeconds is from the start to the last answer; DrainSeconds from
	// then until the last report came or the grace period ended.
	LoadSeconds  float64 `json:"load_seconds"`
	DrainSeconds float64 `json:"drain_seconds"`
}

// RunConfig is the part of Config a result records.
type RunConfig struct {
	Rate          float64 `json:"rate"` // requests/s; 0: closed loop
	Concurrency   int     `json:"concurrency"`
	Duration      string  `json:"duration"`
	Requests      int     `json:"requests,omitempty"`
	Recipients    int     `json:"recipients_per_request"`
	Mix           string  `json:"mix"`
	TrackDelivery bool    `json:"track_delivery"`
	Grace         string  `json:"grace"`
	Seed          uint64  `json:"seed"`
}

// RequestCounts count requests by how they were answered.
type RequestCounts struct {
	Sent     int `json:"sent"`
	Accepted int `json:"accepted"`
	Errors   int `json:"errors"`
}

// RecipientCounts count recipients (one per number per request).
type RecipientCounts struct {
	Accepted int `json:"accepted"`
	Segments int `json:"segments"` // SMS parts of the accepted recipients
	// Delivered had a delivered report within the grace period.
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	// Lost were accepted and are not known to be delivered at the end:
	// no delivered report, and not delivered by the API check either.
	Lost                int `json:"lost"`
	DuplicateReports    int `json:"duplicate_reports"`
	UnmatchedReports    int `json:"unmatched_reports"`
	IntermediateReports int `json:"intermediate_reports"`
}

// Throughput is in per-second rates.
type Throughput struct {
	// Offered is the target request rate (0: closed loop).
	Offered float64 `json:"offered_requests_per_second"`
	// Requests answered per second over the load.
	Requests float64 `json:"requests_per_second"`
	// Accepted recipients per second over the load (start to last answer).
	Accepted float64 `json:"accepted_per_second"`
	// Delivered recipients per second, end to end: from the start to the
	// last delivered report.
	Delivered float64 `json:"delivered_per_second"`
}

// Point is one second of the run.
type Point struct {
	T         int     `json:"t"` // seconds since the start
	Accepted  int     `json:"accepted"`
	Delivered int     `json:"delivered"`
	Errors    int     `json:"errors"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
}

// APICheck is what the target's API said of the recipients whose reports
// did not come.
type APICheck struct {
	Unreported          int            `json:"unreported"`           // accepted recipients without a final report
	Messages            int            `json:"messages_checked"`     // read back (at most 200)
	Recipients          int            `json:"recipients_checked"`   // their unreported recipients
	DeliveredUnreported int            `json:"delivered_unreported"` // delivered, but the report did not come
	Statuses            map[string]int `json:"statuses"`
	Errors              int            `json:"errors"`
	LastError           string         `json:"last_error,omitempty"`
	// AccountDeliveredMessages is GET /messages?status=delivered's
	// totalCount: every message of the account, not only this run's.
	AccountDeliveredMessages int `json:"account_delivered_messages"`
}

// fill computes the result from the run's state.
func (r *run) fill(res *Result, loadEnd, drainEnd time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg := r.cfg
	res.Label, res.Target, res.Started = cfg.Label, cfg.Target.Name(), r.start.UTC()
	res.Config = RunConfig{Rate: cfg.Rate, Concurrency: cfg.Concurrency, Duration: cfg.Duration.String(),
		Requests: cfg.Requests, Recipients: cfg.Recipients, Mix: cfg.Mix.String(),
		TrackDelivery: cfg.TrackDelivery, Seed: cfg.Seed}
	if cfg.TrackDelivery {
		res.Config.Grace = cfg.Grace.String()
	}
	res.Stopped = r.stopReason
	res.Requests = RequestCounts{Sent: r.sent, Accepted: r.ok, Errors: r.errTotal}
	res.Recipients.Accepted, res.Recipients.Segments = r.recipients, r.segments
	res.RequestLatency = r.requests.Summary()
	res.Errors = maps.Clone(r.errs)
	last := r.lastAnswer
	if last.IsZero() {
		last = loadEnd
	}
	loadSecs := last.Sub(r.start).Seconds()
	res.LoadSeconds = round(loadSecs, 3)
	res.Throughput.Offered = cfg.Rate
	if loadSecs > 0 {
		res.Throughput.Requests = round(float64(r.sent)/loadSecs, 1)
		res.Throughput.Accepted = round(float64(r.recipients)/loadSecs, 1)
	}
	var delivered []int
	if t := r.tracker; t != nil {
		t.mu.Lock()
		res.Recipients.Delivered, res.Recipients.Failed = t.delivered, t.failed
		res.Recipients.DuplicateReports, res.Recipients.UnmatchedReports = t.duplicates, t.unmatched
		res.Recipients.IntermediateReports = t.interim
		res.Recipients.Lost = t.accepted - t.delivered
		e2e := t.e2e.Summary()
		res.EndToEnd = &e2e
		if !t.last.IsZero() {
			res.Throughput.Delivered = round(float64(t.delivered)/t.last.Sub(r.start).Seconds(), 1)
		}
		delivered = slices.Clone(t.perSecond)
		t.mu.Unlock()
		res.DrainSeconds = round(drainEnd.Sub(last).Seconds(), 3)
		if res.API != nil {
			res.Recipients.Lost -= res.API.DeliveredUnreported
		}
	}
	res.Series = r.series(delivered)
}

// series is the time line, up to the last second with anything in it.
func (r *run) series(delivered []int) []Point {
	lastUsed := -1
	for i := range r.perSecond {
		s := r.perSecond[i]
		if s.latency != nil || s.errors > 0 || (i < len(delivered) && delivered[i] > 0) {
			lastUsed = i
		}
	}
	points := make([]Point, 0, lastUsed+1)
	for i := 0; i <= lastUsed; i++ {
		s := r.perSecond[i]
		p := Point{T: i, Accepted: s.accepted, Errors: s.errors}
		if i < len(delivered) {
			p.Delivered = delivered[i]
		}
		if s.latency != nil {
			p.P50, p.P99 = ms(s.latency.Percentile(50)), ms(s.latency.Percentile(99))
		}
		points = append(points, p)
	}
	return points
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// WriteJSON writes the result, indented, to path.
func (res *Result) WriteJSON(path string) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the result: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	return nil
}

// ReadResult reads a result written by WriteJSON.
func ReadResult(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading a result: %w", err)
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("decoding the result %s: %w", path, err)
	}
	return &res, nil
}

// PrintTable writes the result as a table for people.
func (res *Result) PrintTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	mode := "closed loop"
	if res.Config.Rate > 0 {
		mode = fmt.Sprintf("open loop at %g requests/s", res.Config.Rate)
	}
	fmt.Fprintf(tw, "%s (%s): %s, concurrency %d, %d recipient(s)/request, mix %s\n",
		res.Label, res.Target, mode, res.Config.Concurrency, res.Config.Recipients, res.Config.Mix)
	if res.Stopped != "" {
		fmt.Fprintf(tw, "stopped early:\t%s\n", res.Stopped)
	}
	fmt.Fprintf(tw, "requests:\t%d sent, %d accepted, %d errors in %.1fs (%.0f/s)\n",
		res.Requests.Sent, res.Requests.Accepted, res.Requests.Errors, res.LoadSeconds, res.Throughput.Requests)
	fmt.Fprintf(tw, "recipients:\t%d accepted (%.0f/s), %d SMS parts\n",
		res.Recipients.Accepted, res.Throughput.Accepted, res.Recipients.Segments)
	if res.EndToEnd != nil {
		rc := res.Recipients
		fmt.Fprintf(tw, "delivered:\t%d (%.0f/s end to end), %d failed, %d lost, drained in %.1fs\n",
			rc.Delivered, res.Throughput.Delivered, rc.Failed, rc.Lost, res.DrainSeconds)
		if rc.DuplicateReports+rc.UnmatchedReports > 0 {
			fmt.Fprintf(tw, "reports:\t%d duplicate, %d unmatched\n", rc.DuplicateReports, rc.UnmatchedReports)
		}
	}
	fmt.Fprintf(tw, "\nlatency (ms)\tp50\tp90\tp99\tp99.9\tmax\tcount\n")
	row := func(name string, s Summary) {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\n", name, s.P50, s.P90, s.P99, s.P999, s.Max, s.Count)
	}
	row("request", res.RequestLatency)
	if res.EndToEnd != nil {
		row("end to end", *res.EndToEnd)
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(tw, "\nerrors\tcount\n")
		kinds := slices.Sorted(maps.Keys(res.Errors))
		for _, k := range kinds {
			fmt.Fprintf(tw, "%s\t%d\n", k, res.Errors[k])
		}
	}
	if a := res.API; a != nil && a.Unreported > 0 {
		var st []string
		for _, k := range slices.Sorted(maps.Keys(a.Statuses)) {
			st = append(st, fmt.Sprintf("%s %d", k, a.Statuses[k]))
		}
		fmt.Fprintf(tw, "\nAPI check:\t%d recipients without a final report; %d of them read back: %s\n",
			a.Unreported, a.Recipients, strings.Join(st, ", "))
		if a.LastError != "" {
			fmt.Fprintf(tw, "API errors:\t%d, last: %s\n", a.Errors, a.LastError)
		}
	}
	tw.Flush()
}

// Problems lists what makes a run a failure for --strict: errors, nothing
// accepted, lost recipients, failed deliveries, an early stop. Timings are
// never judged.
func (res *Result) Problems() []string {
	var p []string
	if res.Stopped != "" {
		p = append(p, "the run stopped early: "+res.Stopped)
	}
	if res.Requests.Accepted == 0 {
		p = append(p, "no request was accepted")
	}
	if res.Requests.Errors > 0 {
		p = append(p, fmt.Sprintf("%d requests failed", res.Requests.Errors))
	}
	if res.EndToEnd != nil {
		if res.Recipients.Lost > 0 {
			p = append(p, fmt.Sprintf("%d of %d accepted recipients were not delivered within the grace period",
				res.Recipients.Lost, res.Recipients.Accepted))
		}
		if res.Recipients.Failed > 0 {
			p = append(p, fmt.Sprintf("%d recipients were reported failed", res.Recipients.Failed))
		}
	}
	return p
}
