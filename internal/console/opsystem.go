package console

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// Operations are what the operator pages read beyond the store: this
// node's live connectors, its send counters, the import runner, and the
// dispatcher's wake-up for a released message. Each may be nil: the page
// then shows what the store knows.
type Operations struct {
	// Live is this node's connector manager (connectors.Manager).
	Live LiveConnectors
	// Sent counts the submissions each connector made since the process
	// started (the omnigate_recipient_status_total counter, status sent).
	Sent func() map[string]float64
	// Imports runs the imports started from the console.
	Imports *imports.Runner
	// Released wakes the dispatcher for a message released from review.
	Released func()
}

// LiveConnectors is what the node's connector manager says of its
// connectors right now.
type LiveConnectors interface {
	// Running lists the running connectors with their connections up.
	Running() map[string]int
}

// UseOperations gives the operator pages the node's live state.
func (c *Console) UseOperations(o Operations) { c.ops = o }

func init() {
	pageNames = append(pageNames, "op_connectors", "op_queue")
}

// registerOpSystem adds the connectors and queue pages.
func (c *Console) registerOpSystem(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/operator/connectors", c.signed(users.OperateRouting, c.opConnectors))
	mux.HandleFunc("GET /console/operator/queue", c.signed(users.OperateQueue, c.opQueue))
}

// connectorRow is one connector with its live state.
type connectorRow struct {
	C         store.ConnectorConfig
	Running   bool
	Up        int      // connections up on this node
	Slots     int      // bind slots with a lease row
	Held      int      // slots whose lease runs (any node)
	Holders   []string // "node ×n"
	Sent      float64  // submissions on this node since it started
	Rate      string   // submissions per second over the last sample, "" before two samples
	Suspended bool
	Sampled   bool
}

type connectorsData struct {
	Connectors []connectorRow
	Routes     []routeRow
	Now        time.Time
}

type routeRow struct {
	R           store.Route
	Destination string
	Connectors  string
}

// rates keeps the previous sample of the send counters, so that a page
// view shows the rate since the one before (at least rateWindow apart).
type rates struct {
	mu   sync.Mutex
	at   time.Time
	prev map[string]float64
	last map[string]float64 // per second, from the last two samples
}

const rateWindow = 5 * time.Second

var sendRates rates

func (r *rates) sample(now time.Time, cur map[string]float64) map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.prev == nil {
		r.at, r.prev = now, cur
		return nil
	}
	if el := now.Sub(r.at); el >= rateWindow {
		r.last = make(map[string]float64, len(cur))
		for k, v := range cur {
			r.last[k] = max(0, v-r.prev[k]) / el.Seconds()
		}
		r.at, r.prev = now, cur
	}
	return r.last
}

func (c *Console) opConnectors(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	cs, err := c.st.ListConnectors(ctx)
	if c.storeFailed(q, err) {
		return
	}
	slots, err := c.st.BindSlots(ctx)
	if c.storeFailed(q, err) {
		return
	}
	routes, err := c.st.ListRoutes(ctx)
	if c.storeFailed(q, err) {
		return
	}
	now := time.Now()
	var running map[string]int
	if c.ops.Live != nil {
		running = c.ops.Live.Running()
	}
	var sent, rate map[string]float64
	if c.ops.Sent != nil {
		sent = c.ops.Sent()
		rate = sendRates.sample(now, sent)
	}
	bySlot := map[string][]store.BindSlot{}
	for _, s := range slots {
		bySlot[s.Connector] = append(bySlot[s.Connector], s)
	}
	d := &connectorsData{Now: now}
	for _, cc := range cs {
		row := connectorRow{C: cc, Suspended: cc.Suspended != "", Sent: sent[cc.Name], Sampled: sent != nil}
		row.Up, row.Running = running[cc.Name]
		if r, ok := rate[cc.Name]; ok {
			row.Rate = q.loc.Rate(r)
		}
		holders := map[string]int{}
		for _, s := range bySlot[cc.Name] {
			row.Slots++
			if s.Holder != "" && s.ExpiresAt.After(now) {
				row.Held++
				holders[s.Holder]++
			}
		}
		for n, k := range holders {
			row.Holders = append(row.Holders, n+" ×"+q.loc.Num(k))
		}
		sort.Strings(row.Holders)
		d.Connectors = append(d.Connectors, row)
	}
	for _, r := range routes {
		dest := r.Prefix + r.Country + r.Domain
		if dest == "" {
			dest = "*"
		}
		d.Routes = append(d.Routes, routeRow{R: r, Destination: dest, Connectors: strings.Join(r.Connectors, " → ")})
	}
	c.render(q.w, http.StatusOK, "op_connectors", q.page("title.op_connectors", d))
}

// Rate formats a rate per second with one decimal.
func (l *Locale) Rate(v float64) string {
	return l.T("unit.per_second", l.p.Sprintf("%.1f", v))
}

// queueRow is one kind of job.
type queueRow struct {
	Kind   string
	Depth  int64
	More   bool // more than Depth (the page counts at most queueCounted)
	Oldest time.Duration
}

// queueCounted is how many jobs of a kind the Queue page counts: a
// backlog of a million stays a page that answers at once (the
// omnigate_queue_depth gauge counts them all).
const queueCounted = 10_000

// opQueue shows the job queue: jobs per kind and how late the oldest due
// one is (what the omnigate_queue_* gauges export).
func (c *Console) opQueue(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	qs, err := c.st.QueueStatsUpTo(ctx, queueCounted+1)
	if c.storeFailed(q, err) {
		return
	}
	var rows []queueRow
	var total int64
	more := false
	for k, n := range qs.Depth {
		r := queueRow{Kind: k, Depth: n, Oldest: qs.OldestDue[k]}
		if n > queueCounted {
			r.Depth, r.More, more = queueCounted, true, true
		}
		rows = append(rows, r)
		total += r.Depth
	}
	for k, d := range qs.OldestDue {
		if _, ok := qs.Depth[k]; !ok {
			rows = append(rows, queueRow{Kind: k, Oldest: d})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Kind < rows[j].Kind })
	c.render(q.w, http.StatusOK, "op_queue", q.page("title.op_queue", map[string]any{"Rows": rows, "Total": total, "More": more}))
}

// Age formats how long ago something became due: seconds, minutes or
// hours.
func (l *Locale) Age(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Minute:
		return l.T("age.seconds", int(d.Seconds()))
	case d < time.Hour:
		return l.T("age.minutes", int(d.Minutes()), int(d.Seconds())%60)
	}
	return l.T("left.hours", int(d.Hours()), int(d.Minutes())%60)
}
