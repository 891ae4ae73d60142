package domains

import (
	"encoding/json"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Status words of a sending domain.
const (
	StatusPending   = "pending"   // records not (or no longer) found
	StatusVerified  = "verified"  // may send
	StatusSuspended = "suspended" // an operator stopped it
)

// View is a sending domain as the CLI and the APIs show it: never the
// private key, always the records to publish.
type View struct {
	Domain     string          `json:"domain"`
	Selector   string          `json:"selector"`
	Algorithm  string          `json:"algorithm"`
	Status     string          `json:"status"`
	Created    time.Time       `json:"createdDatetime"`
	Verified   *time.Time      `json:"verifiedDatetime"`
	Suspension *Suspension     `json:"suspension"`
	DailyCap   int             `json:"dailyCap"`
	SentToday  *int            `json:"sentToday,omitempty"` // capped domains only
	Records    []Record        `json:"records"`
	LastCheck  json.RawMessage `json:"lastCheck"`
}

// Suspension says who stopped a domain, when and why.
type Suspension struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"datetime"`
}

// Status is the domain's status word.
func Status(d *store.EmailDomain) string {
	switch {
	case d.Suspended():
		return StatusSuspended
	case d.Verified():
		return StatusVerified
	}
	return StatusPending
}

// Show makes the view of d; sentToday < 0 leaves the day's count out.
func Show(d *store.EmailDomain, cfg Config, sentToday int) View {
	v := View{Domain: d.Domain, Selector: d.Selector, Algorithm: d.Algorithm, Status: Status(d), Created: d.CreatedAt,
		DailyCap: d.DailyCap, Records: Records(d, cfg), LastCheck: d.LastCheck}
	if d.Verified() {
		t := d.VerifiedAt
		v.Verified = &t
	}
	if d.Suspended() {
		v.Suspension = &Suspension{Reason: d.SuspendedReason, By: d.SuspendedBy, At: d.SuspendedAt}
	}
	if sentToday >= 0 {
		v.SentToday = &sentToday
	}
	if v.LastCheck == nil {
		v.LastCheck = json.RawMessage("null")
	}
	return v
}
