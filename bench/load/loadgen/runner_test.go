package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeGateway answers like omnigate or Kannel and sends status reports
// after a delay, except for every dropEvery-th recipient (never
// delivered) and every rejectEvery-th request (answered 422).
type fakeGateway struct {
	t           *testing.T
	kannel      bool
	delay       time.Duration
	dropEvery   int64
	rejectEvery int64
	stall       func(n int64) time.Duration // pause before answering request n

	requests atomic.Int64
	recips   atomic.Int64
	reports  sync.WaitGroup
	mu       sync.Mutex
	statuses map[string]map[string]string // message id → recipient → status
}

func newFake(t *testing.T, kannel bool) (*fakeGateway, *httptest.Server) {
	f := &fakeGateway{t: t, kannel: kannel, delay: 5 * time.Millisecond, statuses: map[string]map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		srv.Close()
		f.reports.Wait() // every report goroutine has ended
	})
	return f, srv
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !f.kannel && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/messages/") {
		f.readBack(w, strings.TrimPrefix(r.URL.Path, "/messages/"))
		return
	}
	if !f.kannel && r.Method == http.MethodGet && r.URL.Path == "/messages" {
		fmt.Fprint(w, `{"totalCount":7}`)
		return
	}
	n := f.requests.Add(1)
	if f.stall != nil {
		time.Sleep(f.stall(n))
	}
	if f.rejectEvery > 0 && n%f.rejectEvery == 0 {
		if f.kannel {
			http.Error(w, "Authorization failed for sendsms", http.StatusForbidden)
		} else {
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"errors":[{"code":10,"description":"no","parameter":"body"}]}`)
		}
		return
	}
	var recipients []string
	var report func(rcpt string) string
	id := fmt.Sprintf("m%d", n)
	if f.kannel {
		q := r.URL.Query()
		recipients = strings.Fields(q.Get("to"))
		dlr := q.Get("dlr-url")
		if q.Get("dlr-mask") != "3" || q.Get("username") != "u" {
			f.t.Errorf("kannel request without dlr-mask 3 or user: %s", r.URL.RawQuery)
		}
		report = func(rcpt string) string {
			return strings.NewReplacer("%p", url.QueryEscape(rcpt), "%d", "1").Replace(dlr)
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "0: Accepted for delivery")
	} else {
		if r.Header.Get("Authorization") != "AccessKey k" {
			f.t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		var body struct {
			Recipients []string `json:"recipients"`
			ReportURL  string   `json:"reportUrl"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("decoding the request: %v", err)
		}
		recipients = body.Recipients
		report = func(rcpt string) string {
			return body.ReportURL + "&id=" + id + "&recipient=" + rcpt + "&status=delivered"
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
	}
	f.mu.Lock()
	f.statuses[id] = map[string]string{}
	f.mu.Unlock()
	for _, rcpt := range recipients {
		k := f.recips.Add(1)
		status := "delivered"
		if f.dropEvery > 0 && k%f.dropEvery == 0 {
			status = "sent" // never reported
		}
		f.mu.Lock()
		f.statuses[id][rcpt] = status
		f.mu.Unlock()
		if status != "delivered" {
			continue
		}
		target := report(rcpt)
		f.reports.Add(1)
		go func() {
			defer f.reports.Done()
			time.Sleep(f.delay)
			resp, err := http.Get(target)
			if err != nil {
				return // the receiver is gone: the run ended
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				f.t.Errorf("report %s answered %d", target, resp.StatusCode)
			}
		}()
	}
}

func (f *fakeGateway) readBack(w http.ResponseWriter, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []string
	for rcpt, st := range f.statuses[id] {
		items = append(items, fmt.Sprintf(`{"recipient":%s,"status":%q}`, rcpt, st))
	}
	fmt.Fprintf(w, `{"id":%q,"recipients":{"items":[%s]}}`, id, strings.Join(items, ","))
}

func TestRunTracksDeliveryAndLossOnOmnigate(t *testing.T) {
	f, srv := newFake(t, false)
	f.dropEvery, f.rejectEvery = 10, 25
	mix, _ := ParseMix("gsm=1,arabic=1,long=1")
	res, err := Run(context.Background(), Config{
		Target: &Omnigate{BaseURL: srv.URL, Key: "k"}, Rate: 200, Duration: time.Second,
		Concurrency: 8, Recipients: 2, Mix: mix, TrackDelivery: true, Verify: true, Grace: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests.Sent != 200 {
		t.Errorf("sent %d requests, want 200 (200/s for 1 s)", res.Requests.Sent)
	}
	if res.Requests.Errors != 8 || res.Errors["HTTP 422 code 10"] != 8 {
		t.Errorf("errors %d %v, want 8 × HTTP 422 code 10", res.Requests.Errors, res.Errors)
	}
	rc := res.Recipients
	if rc.Accepted != 2*192 {
		t.Errorf("accepted %d recipients, want %d", rc.Accepted, 2*192)
	}
	dropped := int(f.recips.Load() / 10)
	if rc.Lost != dropped || rc.Delivered != rc.Accepted-dropped {
		t.Errorf("delivered %d, lost %d; the fake dropped %d of %d", rc.Delivered, rc.Lost, dropped, rc.Accepted)
	}
	if res.API == nil || res.API.Unreported != dropped || res.API.Statuses["sent"] != dropped || res.API.AccountDeliveredMessages != 7 {
		t.Errorf("API check %+v, want %d unreported, all read back as sent", res.API, dropped)
	}
	if res.EndToEnd == nil || res.EndToEnd.Count != uint64(rc.Delivered) || res.EndToEnd.P50 < 5 {
		t.Errorf("end to end %+v: want one value per delivered recipient, at least the 5 ms report delay", res.EndToEnd)
	}
	if res.DrainSeconds < 1.5 {
		t.Errorf("drained in %.2fs: with lost recipients the run must wait the whole grace", res.DrainSeconds)
	}
	if got := res.Problems(); len(got) != 2 {
		t.Errorf("problems %q, want failed requests and lost recipients", got)
	}
}

func TestRunOnKannelStopsWaitingWhenAllAreDelivered(t *testing.T) {
	_, srv := newFake(t, true)
	start := time.Now()
	res, err := Run(context.Background(), Config{
		Target: &Kannel{BaseURL: srv.URL, Username: "u", Password: "p"}, Requests: 150,
		Concurrency: 4, Recipients: 3, TrackDelivery: true, Grace: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v: the run must end as soon as every report came", time.Since(start))
	}
	rc := res.Recipients
	if res.Requests.Sent != 150 || rc.Accepted != 450 || rc.Delivered != 450 || rc.Lost != 0 || rc.UnmatchedReports != 0 {
		t.Errorf("requests %+v recipients %+v", res.Requests, rc)
	}
	if len(res.Problems()) != 0 {
		t.Errorf("problems %q", res.Problems())
	}
	if res.Throughput.Delivered <= 0 || res.Throughput.Accepted <= 0 {
		t.Errorf("throughput %+v", res.Throughput)
	}
}

// An open-loop run measures latency from each request's due time: a
// server that stalls once for 500 ms delays every request due meanwhile,
// and their latency must show it (a closed-loop client would record one
// slow request).
func TestOpenLoopCountsQueueingDelay(t *testing.T) {
	f, srv := newFake(t, false)
	f.stall = func(n int64) time.Duration {
		if n == 20 {
			return 500 * time.Millisecond
		}
		return 0
	}
	res, err := Run(context.Background(), Config{
		Target: &Omnigate{BaseURL: srv.URL, Key: "k"}, Rate: 100, Duration: 1500 * time.Millisecond, Concurrency: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	// About 50 requests were due during the stall, waiting 500 ms down
	// to 10 ms: the p90 is far above a normal answer's few milliseconds.
	if p := res.RequestLatency.P90; p < 100 {
		t.Errorf("p90 %.1f ms: the stall's queueing delay was not counted", p)
	}
	if res.Requests.Sent != 150 {
		t.Errorf("sent %d, want 150: open loop catches up after a stall", res.Requests.Sent)
	}
}

func TestRunRefusesRemoteTargetsAndBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"remote":        {Target: &Omnigate{BaseURL: "http://192.0.2.1:8080"}, Duration: time.Second},
		"no target":     {Duration: time.Second},
		"no end":        {Target: &Omnigate{BaseURL: "http://127.0.0.1:1"}},
		"50 recipients": {Target: &Omnigate{BaseURL: "http://127.0.0.1:1"}, Duration: time.Second, Recipients: 51},
	} {
		_, err := Run(context.Background(), cfg)
		var ce ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v, want a ConfigError", name, err)
		}
	}
}

func TestTransportErrorsAreCountedByKind(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	res, err := Run(context.Background(), Config{
		Target: &Kannel{BaseURL: addr, Username: "u"}, Requests: 5, Concurrency: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests.Errors != 5 || res.Errors["transport: connection refused"] != 5 {
		t.Errorf("errors %v", res.Errors)
	}
}
