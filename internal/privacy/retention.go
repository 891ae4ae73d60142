package privacy

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Day is a retention period's unit.
const Day = 24 * time.Hour

// Kinds of data the schedule purges, with their default periods (PRIV-1).
// Error logs with IP addresses (realtime errors) are purged after 14 days
// by the realtime server itself and are not part of this schedule.
var DefaultRetention = map[string]int{
	store.RetainTraffic:   183,  // SMS/voice traffic: 6 months
	store.RetainInbound:   183,  // inbound messages: 6 months
	store.RetainReceipts:  183,  // receipts and status events: 6 months
	store.RetainLookups:   183,  // HLR lookups and verifications: traffic data, 6 months
	store.RetainMarketing: 365,  // marketing data (contacts, conversations untouched): 12 months
	store.RetainDecisions: 730,  // compliance decisions: 2 years (the longest traffic period PRIV-1 allows)
	store.RetainWebhooks:  30,   // webhook delivery logs: 30 days
	store.RetainConsent:   1826, // consent proof and rights-request confirmations: 5 years
	store.RetainBilling:   3653, // billing: 10 years
}

// Kinds lists the schedule's kinds in a stable order.
func Kinds() []string {
	out := make([]string, 0, len(DefaultRetention))
	for k := range DefaultRetention {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseRetention reads "kind=days,kind=days" (the config form).
func ParseRetention(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("retention %q: write kind=days", part)
		}
		days, err := ValidateRetention(strings.TrimSpace(k), strings.TrimSpace(v))
		if err != nil {
			return nil, err
		}
		out[strings.TrimSpace(k)] = days
	}
	return out, nil
}

// ValidateRetention checks a kind and a period in days (0: keep forever).
func ValidateRetention(kind, days string) (int, error) {
	if _, ok := DefaultRetention[kind]; !ok {
		return 0, fmt.Errorf("%w: retention kind %q: use one of %s", ErrInvalid, kind, strings.Join(Kinds(), ", "))
	}
	d, err := strconv.Atoi(days)
	if err != nil || d < 0 || d > 36500 {
		return 0, fmt.Errorf("%w: retention of %s: %q is not a number of days from 0 (keep forever) to 36500", ErrInvalid, kind, days)
	}
	return d, nil
}

// Retention runs the schedule.
type Retention struct {
	Store store.Store
	// Config are the configured periods over the defaults; the operator's
	// settings in the store override both.
	Config map[string]int
	// Node names this process in the runs it records.
	Node string
	// Batch bounds the rows one statement removes (default 1000) and
	// Batches the statements per kind and pass (default 50): a pass never
	// holds the database long, and what is left goes in the next.
	Batch, Batches int
	// Every is how often a pass runs, over all nodes together (default an
	// hour): the node that claims the pass holds it that long.
	Every time.Duration
	Now   func() time.Time
}

// Periods are the periods in force, per kind, in days.
func (r *Retention) Periods(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for k, v := range DefaultRetention {
		out[k] = v
	}
	for k, v := range r.Config {
		out[k] = v
	}
	set, err := r.Store.RetentionSettings(ctx)
	if err != nil {
		return nil, err
	}
	for k, v := range set {
		if _, ok := out[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

// leaseName is the maintenance lease one node holds per pass.
const leaseName = "retention"

// Run makes the periodic pass if this node gets its lease (held for
// Every), records it and returns it; nil when another node, or this one,
// made it within Every.
func (r *Retention) Run(ctx context.Context) (*store.RetentionRun, error) {
	return r.run(ctx, leaseName, r.Every)
}

// RunNow makes a pass now, whenever the last periodic one was, unless
// another operator's pass is running (nil then).
func (r *Retention) RunNow(ctx context.Context) (*store.RetentionRun, error) {
	return r.run(ctx, leaseName+".now", 5*time.Minute)
}

func (r *Retention) run(ctx context.Context, lease string, every time.Duration) (*store.RetentionRun, error) {
	start := time.Now()
	now := start.UTC()
	if r.Now != nil {
		now = r.Now().UTC()
	}
	if every <= 0 {
		every = time.Hour
	}
	ok, err := r.Store.ClaimLease(ctx, lease, r.Node, now, now.Add(every))
	if err != nil || !ok {
		return nil, err
	}
	periods, err := r.Periods(ctx)
	if err != nil {
		return nil, err
	}
	batch, batches := r.Batch, r.Batches
	if batch <= 0 {
		batch = 1000
	}
	if batches <= 0 {
		batches = 50
	}
	run := &store.RetentionRun{Node: r.Node, StartedAt: now, Counts: map[string]int{}}
	var errs []string
	for _, kind := range Kinds() {
		days := periods[kind]
		if days <= 0 {
			continue
		}
		before := now.Add(-time.Duration(days) * Day)
		for i := 0; i < batches; i++ {
			n, err := r.Store.PurgeRetention(ctx, kind, before, batch)
			run.Counts[kind] += n
			if err != nil {
				errs = append(errs, err.Error())
				break
			}
			if n < batch {
				break
			}
		}
	}
	run.Error = strings.Join(errs, "; ")
	run.FinishedAt = now.Add(time.Since(start))
	if err := r.Store.RecordRetentionRun(ctx, run); err != nil {
		return run, err
	}
	return run, nil
}
