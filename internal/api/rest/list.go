package rest

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// List limits.
const (
	defaultLimit = 20
	maxLimit     = 200
)

// Paging reads a list's limit (1–200, default 20) and offset (default
// 0), as every MessageBird list takes them.
func Paging(q url.Values) (limit, offset int, p *Problem) {
	limit = defaultLimit
	intParam := func(name string, lo, hi int, dst *int) *Problem {
		s := q.Get(name)
		if s == "" || name == "limit" && s == "0" {
			// The Ruby SDK sends limit=0 when none is asked for.
			return nil
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return Invalid(name, fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi))
		}
		*dst = v
		return nil
	}
	if p := intParam("limit", 1, maxLimit, &limit); p != nil {
		return 0, 0, p
	}
	if p := intParam("offset", 0, 1<<31-1, &offset); p != nil {
		return 0, 0, p
	}
	return limit, offset, nil
}

// ListFilter reads the list parameters: limit and offset, and the filters
// of MessageBird's GET /messages, which every list checks. Their text has
// passed CheckRequest (Style.Handle) already.
func ListFilter(q url.Values) (store.MessageFilter, *Problem) {
	var f store.MessageFilter
	var p *Problem
	if f.Limit, f.Offset, p = Paging(q); p != nil {
		return f, p
	}
	f.Originator = q.Get("originator")
	f.Reference = q.Get("reference")
	switch d := q.Get("direction"); d {
	case "", "mt", "mo":
		f.Direction = message.Direction(d)
	default:
		return f, Invalid("direction", "direction must be mt or mo")
	}
	switch t := q.Get("type"); t {
	case "", "sms", "binary", "flash":
		f.Type = message.Type(t)
	default:
		return f, Invalid("type", "type must be sms, binary or flash")
	}
	if s := q.Get("status"); s != "" {
		if !message.Status(s).Valid() {
			return f, Invalid("status", "status must be one of scheduled, sent, buffered, delivered, expired, delivery_failed")
		}
		f.Status = message.Status(s)
	}
	if s := q.Get("recipient"); s != "" {
		n, err := phone.Parse(s)
		if err != nil {
			return f, Invalid("recipient", "recipient must be a phone number in international format")
		}
		f.Recipient = n.MSISDN
	}
	for name, dst := range map[string]*time.Time{"from": &f.From, "until": &f.Until} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, Invalid(name, name+" must be an RFC 3339 time")
			}
			*dst = t
		}
	}
	return f, nil
}

// PageLinks builds first/previous/next/last links for a list at path.
func PageLinks(base, path string, offset, limit, total int) map[string]*string {
	link := func(off int) *string {
		s := base + path + "?offset=" + strconv.Itoa(off) + "&limit=" + strconv.Itoa(limit)
		return &s
	}
	last := 0
	if total > 0 {
		last = (total - 1) / limit * limit
	}
	links := map[string]*string{"first": link(0), "previous": nil, "next": nil, "last": link(last)}
	if offset > 0 {
		links["previous"] = link(max(offset-limit, 0))
	}
	if offset+limit < total {
		links["next"] = link(offset + limit)
	}
	return links
}

// TimeText is a time on the wire, or null for the zero time.
func TimeText(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(message.TimeLayout)
	return &s
}
