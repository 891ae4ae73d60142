package compliance

import (
	"fmt"
	"strconv"
	"sync"
	"time"
	_ "time/tzdata" // time zones without the system's database

	"github.com/nyaruka/phonenumbers"
)

// Window is the part of the local day when marketing may arrive, in
// minutes after local midnight: [Start, End).
type Window struct{ Start, End int }

// String writes the window as ParseWindow reads it: "08:00-21:00".
func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
}

// DefaultWindow is 08:00 to 21:00.
var DefaultWindow = Window{Start: 8 * 60, End: 21 * 60}

// zones caches the time zones of number prefixes and the loaded locations.
type zones struct {
	mu   sync.Mutex
	locs map[string]*time.Location
}

// forRecipient returns the time zones a recipient's local time is judged
// in: its own zone where known (a contact's); for a phone number, the
// number's zones; otherwise its country's; failing all, UTC.
func (z *zones) forRecipient(r Recipient, number bool) []*time.Location {
	if r.TimeZone != "" {
		if loc := z.load([]string{r.TimeZone}); len(loc) > 0 {
			return loc
		}
	}
	if number {
		return z.of(r.Address)
	}
	if code := phonenumbers.GetCountryCodeForRegion(r.Country); r.Country != "" && code != 0 {
		return z.of(strconv.Itoa(code))
	}
	return []*time.Location{time.UTC}
}

// of returns the time zones of a number (international digits). A number
// whose zones are unknown gets the zones of its country's calling code, and
// failing that UTC.
func (z *zones) of(msisdn string) []*time.Location {
	names, err := phonenumbers.GetTimezonesForPrefix("+" + msisdn)
	if err != nil || len(names) == 0 || (len(names) == 1 && names[0] == phonenumbers.UNKNOWN_TIMEZONE) {
		return []*time.Location{time.UTC}
	}
	if out := z.load(names); len(out) > 0 {
		return out
	}
	return []*time.Location{time.UTC}
}

// load returns the locations of zone names, loaded once each; names that
// do not load are left out.
func (z *zones) load(names []string) []*time.Location {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.locs == nil {
		z.locs = map[string]*time.Location{}
	}
	var out []*time.Location
	for _, n := range names {
		loc, ok := z.locs[n]
		if !ok {
			var err error
			if loc, err = time.LoadLocation(n); err != nil {
				continue
			}
			z.locs[n] = loc
		}
		out = append(out, loc)
	}
	return out
}

// inWindow reports whether t falls inside the window in every zone.
func inWindow(t time.Time, w Window, locs []*time.Location) bool {
	for _, loc := range locs {
		l := t.In(loc)
		m := l.Hour()*60 + l.Minute()
		if w.Start <= w.End {
			if m < w.Start || m >= w.End {
				return false
			}
		} else if m < w.Start && m >= w.End { // a window across midnight
			return false
		}
	}
	return true
}

// windowGroup is recipients sharing a window and time zones.
type windowGroup struct {
	w    Window
	locs []*time.Location
}

// nextAllowedAll is the first time at or after t inside every group's
// window in all its zones, found minute by minute through the next two days
// (so daylight-saving changes are handled by the time zone data itself).
// Zero if there is none.
func nextAllowedAll(t time.Time, groups []windowGroup) time.Time {
	t = t.Truncate(time.Minute)
	for i := 0; i < 2*24*60; i++ {
		c := t.Add(time.Duration(i) * time.Minute)
		ok := true
		for _, g := range groups {
			if !inWindow(c, g.w, g.locs) {
				ok = false
				break
			}
		}
		if ok {
			return c
		}
	}
	return time.Time{}
}
