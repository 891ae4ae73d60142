// Command load is the load of interop/cluster/run.sh: through one address
// (HAProxy before several omnigate nodes) it sends SMS at a steady rate,
// keeps Pusher clients connected and subscribed (reconnecting and
// resubscribing when a node drops them), and triggers events, recording
// the outcome of every request and every event. The script names the
// phases by appending "NAME" lines to the --phases file; the load stops
// when the --stop file exists. It then waits for every accepted message to
// reach the carrier (the simulator's --submits-log) and prints one row per
// phase: requests, failures, accepted, delivered, lost and duplicates for
// SMS, and realtime events expected by connected clients, received and
// lost. Bodies and event data carry a sequence number, so every outcome is
// counted exactly, not estimated.
//
// It exits 1 when a phase broke its rule (see -rules).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

type config struct {
	url, key                 string
	appID, appKey, appSecret string
	rate, eventRate          float64
	clients, channels        int
	phases, stop, submits    string
	settle, wait             time.Duration
	out                      string
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "", "the load balancer's URL")
	flag.StringVar(&c.key, "key", "", "an account's live access key")
	flag.StringVar(&c.appID, "app-id", "", "realtime app id")
	flag.StringVar(&c.appKey, "app-key", "", "realtime app key")
	flag.StringVar(&c.appSecret, "app-secret", "", "realtime app secret")
	flag.Float64Var(&c.rate, "rate", 40, "SMS requests per second")
	flag.Float64Var(&c.eventRate, "event-rate", 10, "realtime triggers per second")
	flag.IntVar(&c.clients, "clients", 12, "realtime clients")
	flag.IntVar(&c.channels, "channels", 3, "channels the clients subscribe to (client i: channel i mod N)")
	flag.StringVar(&c.phases, "phases", "", "file the script appends phase names to")
	flag.StringVar(&c.stop, "stop", "", "the load stops when this file exists")
	flag.StringVar(&c.submits, "submits", "", "the simulator's --submits-log")
	flag.DurationVar(&c.settle, "settle", time.Second, "an event is expected by a client subscribed before its trigger and still connected this long after the answer")
	flag.DurationVar(&c.wait, "wait", 60*time.Second, "how long to wait for accepted messages to reach the carrier after the load")
	flag.StringVar(&c.out, "json", "", "write the table as JSON here too")
	rules := flag.String("rules", "", "per phase, what must be zero: NAME=failures+lost+rtlost,NAME=lost …")
	flag.Parse()
	if c.url == "" || c.key == "" || c.phases == "" || c.stop == "" || c.submits == "" {
		fmt.Fprintln(os.Stderr, "load: --url, --key, --phases, --stop and --submits are required")
		os.Exit(2)
	}
	os.Exit(run(c, *rules))
}

// phaseClock says which phase a moment is in.
type phaseClock struct {
	file string
	mu   sync.Mutex
	cur  string
	seen int
}

func (p *phaseClock) now() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

func (p *phaseClock) poll() {
	b, err := os.ReadFile(p.file)
	if err != nil {
		return
	}
	lines := strings.Fields(string(b))
	p.mu.Lock()
	if len(lines) > p.seen {
		p.seen = len(lines)
		p.cur = lines[len(lines)-1]
	}
	p.mu.Unlock()
}

type smsOutcome struct {
	phase  string
	status int // 0: connection error
}

type event struct {
	phase      string
	channel    int
	start, end time.Time
	ok         bool
}

type client struct {
	channel int
	mu      sync.Mutex
	// spans of being subscribed: [from, to); to zero while open
	spans [][2]time.Time
	got   map[int]bool
}

type row struct {
	Phase                                         string
	Requests, Failures, Accepted, Delivered, Lost int
	Duplicates                                    int
	Events, EventFailures, Expected, Received     int
	RTLost                                        int
	Statuses                                      map[int]int
}

func run(c config, rules string) int {
	clock := &phaseClock{file: c.phases, cur: "start"}
	clock.poll()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	var mu sync.Mutex
	sms := map[int]*smsOutcome{}
	var events []*event
	var wg sync.WaitGroup

	clients := make([]*client, c.clients)
	for i := range clients {
		clients[i] = &client{channel: i % c.channels, got: map[int]bool{}}
		wg.Add(1)
		go func() { defer wg.Done(); clients[i].run(ctx, c) }()
	}
	time.Sleep(time.Second) // clients subscribed before the first event

	stopped := make(chan struct{})
	go func() {
		for {
			clock.poll()
			if _, err := os.Stat(c.stop); err == nil {
				close(stopped)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	var reqs sync.WaitGroup
	tick := func(rate float64, f func(seq int)) {
		defer wg.Done()
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		for seq := 0; ; seq++ {
			select {
			case <-stopped:
				return
			case <-t.C:
			}
			reqs.Add(1)
			go func() { defer reqs.Done(); f(seq) }()
		}
	}
	wg.Add(2)
	go tick(c.rate, func(seq int) {
		o := &smsOutcome{phase: clock.now()}
		body := fmt.Sprintf(`{"originator":"Load","recipients":["31612345678"],"body":"cl %d"}`, seq)
		req, _ := http.NewRequest("POST", c.url+"/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "AccessKey "+c.key)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			o.status = resp.StatusCode
		}
		mu.Lock()
		sms[seq] = o
		mu.Unlock()
	})
	go tick(c.eventRate, func(seq int) {
		e := &event{phase: clock.now(), channel: seq % c.channels, start: time.Now()}
		e.ok = trigger(hc, c, e.channel, seq) == nil
		e.end = time.Now()
		mu.Lock()
		for len(events) <= seq {
			events = append(events, nil)
		}
		events[seq] = e
		mu.Unlock()
	})
	<-stopped
	reqs.Wait()
	time.Sleep(c.settle + 500*time.Millisecond)
	cancel()

	// Every accepted message must reach the carrier.
	accepted := map[int]bool{}
	for seq, o := range sms {
		if o.status == http.StatusCreated {
			accepted[seq] = true
		}
	}
	var counts map[int]int
	deadline := time.Now().Add(c.wait)
	for {
		counts = readSubmits(c.submits)
		missing := 0
		for seq := range accepted {
			if counts[seq] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	wg.Wait()

	rows := map[string]*row{}
	var order []string
	get := func(p string) *row {
		r, ok := rows[p]
		if !ok {
			r = &row{Phase: p, Statuses: map[int]int{}}
			rows[p] = r
			order = append(order, p)
		}
		return r
	}
	// Phases in the order the script named them.
	get("start")
	if b, err := os.ReadFile(c.phases); err == nil {
		for _, p := range strings.Fields(string(b)) {
			get(p)
		}
	}
	seqs := make([]int, 0, len(sms))
	for seq := range sms {
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	for _, seq := range seqs {
		o := sms[seq]
		r := get(o.phase)
		r.Requests++
		r.Statuses[o.status]++
		n := counts[seq]
		if o.status != http.StatusCreated {
			r.Failures++
			if n > 0 { // refused, yet sent: a duplicate of nothing the client knows
				r.Duplicates += n
			}
			continue
		}
		r.Accepted++
		if n == 0 {
			r.Lost++
			continue
		}
		r.Delivered++
		r.Duplicates += n - 1
	}
	for seq, e := range events {
		if e == nil {
			continue
		}
		r := get(e.phase)
		r.Events++
		if !e.ok {
			r.EventFailures++
			continue
		}
		for _, cl := range clients {
			if cl.channel != e.channel || !cl.expects(e.start, e.end.Add(c.settle)) {
				continue
			}
			r.Expected++
			if cl.received(seq) {
				r.Received++
			} else {
				r.RTLost++
			}
		}
	}
	fmt.Printf("| phase | SMS requests | failures | accepted | delivered | lost | duplicates | events | event failures | expected by connected clients | received | lost events |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var total row
	total.Phase = "total"
	var out []*row
	for _, p := range order {
		r := rows[p]
		if r.Requests == 0 && r.Events == 0 {
			continue
		}
		out = append(out, r)
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n", r.Phase, r.Requests, r.Failures, r.Accepted, r.Delivered, r.Lost, r.Duplicates,
			r.Events, r.EventFailures, r.Expected, r.Received, r.RTLost)
		total.Requests += r.Requests
		total.Failures += r.Failures
		total.Accepted += r.Accepted
		total.Delivered += r.Delivered
		total.Lost += r.Lost
		total.Duplicates += r.Duplicates
		total.Events += r.Events
		total.EventFailures += r.EventFailures
		total.Expected += r.Expected
		total.Received += r.Received
		total.RTLost += r.RTLost
	}
	fmt.Printf("| **%s** | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n", total.Phase, total.Requests, total.Failures, total.Accepted, total.Delivered, total.Lost, total.Duplicates,
		total.Events, total.EventFailures, total.Expected, total.Received, total.RTLost)
	for _, r := range out {
		if r.Failures > 0 {
			fmt.Printf("%s: SMS answers by status (0: no answer): %v\n", r.Phase, r.Statuses)
		}
	}
	if c.out != "" {
		b, _ := json.MarshalIndent(out, "", "  ")
		os.WriteFile(c.out, b, 0o644)
	}
	return check(rows, rules, total)
}

// check applies the rules; lost accepted messages fail every phase.
func check(rows map[string]*row, rules string, total row) int {
	rc := 0
	if total.Lost > 0 {
		fmt.Printf("FAIL: %d accepted messages never reached the carrier\n", total.Lost)
		rc = 1
	}
	for _, rule := range strings.Split(rules, ",") {
		name, what, ok := strings.Cut(strings.TrimSpace(rule), "=")
		if !ok {
			continue
		}
		r := rows[name]
		if r == nil {
			fmt.Printf("FAIL: no phase %s\n", name)
			rc = 1
			continue
		}
		for _, w := range strings.Split(what, "+") {
			v := map[string]int{"failures": r.Failures, "lost": r.Lost, "rtlost": r.RTLost, "eventfailures": r.EventFailures}[w]
			if v != 0 {
				fmt.Printf("FAIL: phase %s: %s = %d, want 0\n", name, w, v)
				rc = 1
			}
		}
		if r.Accepted == 0 || (r.Events > 0 && r.Received == 0) {
			fmt.Printf("FAIL: phase %s: nothing accepted or received: the phase proves nothing\n", name)
			rc = 1
		}
	}
	return rc
}

// readSubmits counts the submits of each sequence number ("cl N").
func readSubmits(path string) map[int]int {
	out := map[int]int{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "cl "); ok {
			if n, err := strconv.Atoi(s); err == nil {
				out[n]++
			}
		}
	}
	return out
}

// trigger publishes event "e" with the sequence number on channel c<ch>,
// signed as the Pusher HTTP API wants.
func trigger(hc *http.Client, c config, ch, seq int) error {
	body, _ := json.Marshal(map[string]any{"name": "e", "channel": "c" + strconv.Itoa(ch), "data": strconv.Itoa(seq)})
	path := "/apps/" + c.appID + "/events"
	sum := md5.Sum(body)
	q := url.Values{}
	q.Set("auth_key", c.appKey)
	q.Set("auth_timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	q.Set("auth_version", "1.0")
	q.Set("body_md5", hex.EncodeToString(sum[:]))
	keys := []string{"auth_key", "auth_timestamp", "auth_version", "body_md5"}
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+q.Get(k))
	}
	mac := hmac.New(sha256.New, []byte(c.appSecret))
	mac.Write([]byte("POST\n" + path + "\n" + strings.Join(parts, "&")))
	q.Set("auth_signature", hex.EncodeToString(mac.Sum(nil)))
	req, _ := http.NewRequest("POST", c.url+path+"?"+q.Encode(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("trigger: %s", resp.Status)
	}
	return nil
}

// run keeps the client connected and subscribed until ctx ends.
func (cl *client) run(ctx context.Context, c config) {
	ws := strings.Replace(c.url, "http", "ws", 1) + "/app/" + c.appKey + "?protocol=7&client=cluster-load&version=1"
	for ctx.Err() == nil {
		cl.session(ctx, ws)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (cl *client) session(ctx context.Context, ws string) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, _, err := websocket.Dial(dctx, ws, nil)
	cancel()
	if err != nil {
		return
	}
	defer conn.CloseNow()
	subscribed := false
	defer func() {
		if subscribed {
			cl.mu.Lock()
			cl.spans[len(cl.spans)-1][1] = time.Now()
			cl.mu.Unlock()
		}
	}()
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var m struct {
			Event, Channel, Data string
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Event {
		case "pusher:connection_established":
			sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": "c" + strconv.Itoa(cl.channel)}})
			if conn.Write(ctx, websocket.MessageText, sub) != nil {
				return
			}
		case "pusher_internal:subscription_succeeded":
			cl.mu.Lock()
			cl.spans = append(cl.spans, [2]time.Time{time.Now()})
			cl.mu.Unlock()
			subscribed = true
		case "pusher:ping":
			if conn.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:pong","data":{}}`)) != nil {
				return
			}
		case "e":
			if n, err := strconv.Atoi(m.Data); err == nil {
				cl.mu.Lock()
				cl.got[n] = true
				cl.mu.Unlock()
			}
		}
	}
}

// expects says whether the client was subscribed from before start until
// after until on one connection.
func (cl *client) expects(start, until time.Time) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, s := range cl.spans {
		if s[0].Before(start) && (s[1].IsZero() || s[1].After(until)) {
			return true
		}
	}
	return false
}

func (cl *client) received(seq int) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.got[seq]
}
