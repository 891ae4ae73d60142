// Command bruteforce measures how fast an attacker can guess credentials
// against a running omnigate, on loopback: access keys (the REST API), the
// admin token and Pusher HTTP API signatures, each attacked two ways:
//
//   - "one address": -concurrency workers from one address (127.0.0.2,
//     .3, .4 for the three doors: an address's failures count for every
//     door together) send wrong credentials as fast as the server answers;
//   - "one prefix": the same workers spread over -addresses addresses
//     (127.0.2.x, 127.0.3.x, 127.0.4.x) all aim at one credential prefix —
//     the first 12 characters of the real key or token, or the real Pusher
//     app.
//
// Linux routes all of 127.0.0.0/8 to loopback, so each worker can bind its
// own source address. An attempt answered 401/404 had its credential
// checked (a guess made); 429 was refused before. The figure is checked
// guesses per second. Meanwhile a legitimate client (127.0.0.250, which
// authenticated before the attack) sends -legit-rate requests a second with
// the real credential; its successes and latency show whether the attack
// locks it out.
//
//	go run ./bench/bruteforce -url http://127.0.0.1:8080 -key live_… \
//	    -admin-token … -app-id … -app-key … -app-secret …
//
// bench/brute-force.sh starts a server and runs this against it, with the
// limits on and off.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/bench/load/loadgen"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/realtime"
)

type config struct {
	url                    string
	key, adminToken        string
	appID, appKey, secret  string
	duration               time.Duration
	concurrency, addresses int
	legitRate              int
	doors                  string
	pause                  time.Duration // between attacks
	label                  string
	jsonOut                string
}

// result is one attack on one door.
type result struct {
	Label       string  `json:"label"`
	Door        string  `json:"door"`
	Attack      string  `json:"attack"`
	Seconds     float64 `json:"seconds"`
	Attempts    int64   `json:"attempts"`
	Checked     int64   `json:"checked"` // 401/404: the credential was checked
	Refused     int64   `json:"refused"` // 429
	Other       int64   `json:"other"`   // anything else, transport errors included
	CheckedPerS float64 `json:"checked_per_s"`
	// Checked guesses per second in the second half of the attack, after
	// any burst.
	SteadyPerS float64 `json:"steady_checked_per_s"`
	LegitOK    int64   `json:"legit_ok"`
	LegitAll   int64   `json:"legit_all"`
	LegitP50ms float64 `json:"legit_p50_ms"`
	LegitP99ms float64 `json:"legit_p99_ms"`
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:8080", "omnigate's API (loopback only)")
	flag.StringVar(&c.key, "key", "", "a real live access key (its prefix is attacked; the legitimate client uses it)")
	flag.StringVar(&c.adminToken, "admin-token", "", "the real admin token (empty: the admin door is skipped)")
	flag.StringVar(&c.appID, "app-id", "", "a real Pusher app's id (empty: the pusher door is skipped)")
	flag.StringVar(&c.appKey, "app-key", "", "the app's key")
	flag.StringVar(&c.secret, "app-secret", "", "the app's secret (the legitimate client signs with it)")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each attack")
	flag.IntVar(&c.concurrency, "concurrency", 16, "attacking workers")
	flag.IntVar(&c.addresses, "addresses", 64, "source addresses of the one-prefix attack")
	flag.IntVar(&c.legitRate, "legit-rate", 20, "requests per second of the legitimate client")
	flag.StringVar(&c.doors, "doors", "api,admin,pusher", "doors to attack")
	flag.DurationVar(&c.pause, "pause", 2*time.Second, "pause between attacks")
	flag.StringVar(&c.label, "label", "", "a name for this run in the output (e.g. before, after)")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.Parse()
	results, err := run(c)
	if err == nil {
		printTable(os.Stdout, results)
		if c.jsonOut != "" {
			b, _ := json.MarshalIndent(results, "", "  ")
			err = os.WriteFile(c.jsonOut, b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bruteforce:", err)
		os.Exit(1)
	}
}

// run attacks every door of c, one attack after the other.
func run(c config) ([]result, error) {
	u, err := url.Parse(c.url)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return nil, fmt.Errorf("-url %q: only a server on 127.0.0.1 is attacked", c.url)
	}
	if c.key == "" {
		return nil, fmt.Errorf("-key is required")
	}
	var results []result
	for i, door := range strings.Split(c.doors, ",") {
		d, err := newDoor(c, strings.TrimSpace(door))
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		for _, attack := range []string{"one address", "one prefix"} {
			r, err := attackDoor(c, d, attack, 2+i)
			if err != nil {
				return nil, err
			}
			results = append(results, r)
			time.Sleep(c.pause)
		}
	}
	return results, nil
}

// door is what an attack on one way in needs: a wrong request (a guess),
// and the legitimate request.
type door struct {
	name   string
	guess  func(prefix string) *http.Request // prefix "": a random credential
	legit  func() *http.Request
	prefix string // the real credential's prefix, aimed at by "one prefix"
}

func newDoor(c config, name string) (*door, error) {
	get := func(path, auth string) *http.Request {
		req, _ := http.NewRequest("GET", c.url+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return req
	}
	random := func(prefix string, n int) string {
		s := prefix + ids.Secret(n)
		return s[:max(n, len(prefix))]
	}
	switch name {
	case "api":
		return &door{name: name, prefix: c.key[:12],
			guess: func(p string) *http.Request { return get("/balance", "AccessKey "+random(orDefault(p, "live_"), 35)) },
			legit: func() *http.Request { return get("/balance", "AccessKey "+c.key) }}, nil
	case "admin":
		if c.adminToken == "" {
			return nil, nil
		}
		return &door{name: name, prefix: c.adminToken[:12],
			guess: func(p string) *http.Request { return get("/admin/accounts/x/settings", "Bearer "+random(p, 64)) },
			legit: func() *http.Request { return get("/admin/accounts/x/settings", "Bearer "+c.adminToken) }}, nil
	case "pusher":
		if c.appID == "" {
			return nil, nil
		}
		signed := func(secret string) *http.Request {
			path := "/apps/" + c.appID + "/channels"
			q := realtime.SignRequest(c.appKey, secret, "GET", path, url.Values{}, nil, time.Now())
			return get(path+"?"+q.Encode(), "")
		}
		// Pusher's "prefix" is the app: both attacks aim at it, the first
		// from one address, the second from many.
		return &door{name: name, prefix: c.appID,
			guess: func(string) *http.Request { return signed(ids.Secret(40)) },
			legit: func() *http.Request { return signed(c.secret) }}, nil
	}
	return nil, fmt.Errorf("unknown door %q (api, admin, pusher)", name)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// client is an HTTP client whose connections come from ip.
func client(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

func status(c *http.Client, req *http.Request) int {
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// attackDoor runs one attack for c.duration with the legitimate client
// alongside, from addresses of its own (127.0.block.x; block 2, 3, 4 …).
func attackDoor(c config, d *door, attack string, block int) (result, error) {
	legitClient := client("127.0.0.250")
	if s := status(legitClient, d.legit()); s != 200 && s != 404 {
		return result{}, fmt.Errorf("%s: the legitimate request answered %d before the attack", d.name, s)
	}
	r := result{Label: c.label, Door: d.name, Attack: attack}
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	start := time.Now()
	half := start.Add(c.duration / 2)
	var checked, refused, other, steady atomic.Int64
	// One client per source address, shared by the workers using it.
	sources := []*http.Client{client(fmt.Sprintf("127.0.0.%d", block))}
	prefix := ""
	if attack == "one prefix" {
		sources, prefix = nil, d.prefix
		for i := 1; i <= c.addresses; i++ {
			sources = append(sources, client(fmt.Sprintf("127.0.%d.%d", block, i)))
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < c.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				cl := sources[(w+n*c.concurrency)%len(sources)] // move through the addresses
				switch s := status(cl, d.guess(prefix).WithContext(ctx)); {
				case ctx.Err() != nil:
					return
				case s == 401 || s == 404:
					checked.Add(1)
					if time.Now().After(half) {
						steady.Add(1)
					}
				case s == 429:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		}(w)
	}
	hist := loadgen.NewHistogram(0)
	var legitOK, legitAll int64
	tick := time.NewTicker(time.Second / time.Duration(max(1, c.legitRate)))
	for loop := true; loop; {
		select {
		case <-ctx.Done():
			loop = false
		case <-tick.C:
			t0 := time.Now()
			s := status(legitClient, d.legit())
			legitAll++
			if s == 200 || s == 404 {
				legitOK++
				hist.Record(time.Since(t0))
			}
		}
	}
	tick.Stop()
	wg.Wait()
	r.Seconds = time.Since(start).Seconds()
	r.Checked, r.Refused, r.Other = checked.Load(), refused.Load(), other.Load()
	r.Attempts = r.Checked + r.Refused + r.Other
	r.CheckedPerS = float64(r.Checked) / r.Seconds
	r.SteadyPerS = float64(steady.Load()) / (r.Seconds / 2)
	r.LegitOK, r.LegitAll = legitOK, legitAll
	if hist.Count() > 0 {
		r.LegitP50ms = float64(hist.Percentile(50)) / 1e6
		r.LegitP99ms = float64(hist.Percentile(99)) / 1e6
	}
	return r, nil
}

func printTable(w io.Writer, rs []result) {
	fmt.Fprintln(w, "| run | door | attack | attempts | checked (401) | refused (429) | other | checked/s | steady checked/s | legitimate ok | legitimate p50 / p99 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %d | %.1f | %.2f | %d/%d | %.1f / %.1f ms |\n", r.Label, r.Door, r.Attack,
			r.Attempts, r.Checked, r.Refused, r.Other, r.CheckedPerS, r.SteadyPerS, r.LegitOK, r.LegitAll, r.LegitP50ms, r.LegitP99ms)
	}
}
