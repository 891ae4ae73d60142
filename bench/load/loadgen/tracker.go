package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxTracked bounds the recipients a run tracks; a run that would
// track more stops sending (and says so) rather than grow without bound.
const DefaultMaxTracked = 2_000_000

// errTrackerFull stops a run that has as many recipients in flight as it
// may track.
var errTrackerFull = errors.New("too many recipients tracked (raise --max-tracked or shorten the run)")

type trackKey struct {
	rid       uint64
	recipient string
}

// entry is one recipient of one request.
type entry struct {
	sent     time.Time // the intended send time
	ref      string    // the system's message id, once accepted
	accepted bool
	outcome  Outcome // Delivered or Failed once a final report came; else Intermediate
}

// tracker matches status reports to the recipients that were sent, and
// counts what became of them. It is safe for concurrent use.
type tracker struct {
	mu         sync.Mutex
	start      time.Time
	max        int
	entries    map[trackKey]*entry
	e2e        *Histogram
	perSecond  []int // delivered, by second of the report since start
	accepted   int
	delivered  int
	failed     int
	duplicates int // final reports for a recipient that already had one
	unmatched  int // reports for nothing this run sent
	interim    int // intermediate reports
	last       time.Time
}

func newTracker(start time.Time, maxTracked, seconds int) *tracker {
	if maxTracked <= 0 {
		maxTracked = DefaultMaxTracked
	}
	return &tracker{start: start, max: maxTracked, entries: map[trackKey]*entry{},
		e2e: NewHistogram(0), perSecond: make([]int, seconds)}
}

// add registers the recipients of request rid before it is sent, so that
// a report overtaking the answer still finds them.
func (t *tracker) add(rid uint64, recipients []string, sent time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries)+len(recipients) > t.max {
		return errTrackerFull
	}
	for _, r := range recipients {
		t.entries[trackKey{rid, r}] = &entry{sent: sent}
	}
	return nil
}

// answered records the answer to request rid.
func (t *tracker) answered(rid uint64, recipients []string, a Answer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recipients {
		k := trackKey{rid, r}
		e := t.entries[k]
		if e == nil {
			continue
		}
		if !a.Accepted {
			// Not accepted: whatever was reported does not count.
			switch e.outcome {
			case Delivered:
				t.delivered--
			case Failed:
				t.failed--
			}
			delete(t.entries, k)
			continue
		}
		e.accepted, e.ref = true, a.Ref
		t.accepted++
	}
}

// report records a status report received at now.
func (t *tracker) report(r Report, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[trackKey{r.RID, r.Recipient}]
	switch {
	case e == nil:
		t.unmatched++
		return
	case r.Outcome == Intermediate:
		t.interim++
		return
	case e.outcome != Intermediate:
		t.duplicates++
		return
	}
	e.outcome = r.Outcome
	if r.Outcome == Failed {
		t.failed++
		return
	}
	t.delivered++
	t.e2e.Record(now.Sub(e.sent))
	t.last = now
	if s := int(now.Sub(t.start) / time.Second); s >= 0 && s < len(t.perSecond) {
		t.perSecond[s]++
	}
}

// outstanding counts accepted recipients without a final report.
func (t *tracker) outstanding() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.accepted - t.delivered - t.failed
}

// missing lists, by message reference, the accepted recipients without a
// final report (at most limit messages).
func (t *tracker) missing(limit int) (byRef map[string][]string, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	byRef = map[string][]string{}
	for k, e := range t.entries {
		if !e.accepted || e.outcome != Intermediate {
			continue
		}
		total++
		if _, ok := byRef[e.ref]; ok || len(byRef) < limit {
			byRef[e.ref] = append(byRef[e.ref], k.recipient)
		}
	}
	return byRef, total
}

// receiver is the HTTP server status reports are sent to.
type receiver struct {
	url  string
	stop func(ctx context.Context) error
}

// startReceiver serves status reports on addr (a loopback address;
// port 0 picks one) until stop, with the lean HTTP/1.1 of wire.go or,
// with std, net/http.
func startReceiver(addr string, target Target, t *tracker, std bool) (*receiver, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("report address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("report address %q: must be a loopback address", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for status reports: %w", err)
	}
	rc := &receiver{url: "http://" + l.Addr().String() + "/report"}
	handle := func(rawQuery string) int {
		r, ok := target.ParseReport(rawQuery)
		if !ok {
			return http.StatusBadRequest
		}
		t.report(r, time.Now())
		return http.StatusOK
	}
	if !std {
		rc.stop = serveWire(l, handle).stop
		return rc, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/report", func(w http.ResponseWriter, req *http.Request) {
		if status := handle(req.URL.RawQuery); status != http.StatusOK {
			http.Error(w, "not a status report of this run", status)
			return
		}
		w.Write([]byte("ok"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	rc.stop = func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if err != nil {
			srv.Close()
		}
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			return errors.Join(err, serr)
		}
		return err
	}
	return rc, nil
}
