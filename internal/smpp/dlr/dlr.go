// Package dlr reads SMPP delivery receipts — the text an SMSC puts in a
// deliver_sm's short_message ("id:… sub:… dlvrd:… submit date:… done
// date:… stat:DELIVRD err:… text:…") and the receipted_message_id /
// message_state TLVs — and words their states.
//
// Carriers deviate from the SMPP appendix: field order, case, separators,
// missing fields, ids in hex where the submit_sm_resp gave decimal. Parse is
// tolerant of all of that; what it cannot read it reports as an error rather
// than guessing.
package dlr

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// State is a receipt's message state, named as in SMPP 3.4 §5.2.28.
type State int

// Message states; the values are message_state TLV values.
const (
	StateUnknownValue State = 0
	Enroute           State = 1
	Delivered         State = 2
	Expired           State = 3
	Deleted           State = 4
	Undeliverable     State = 5
	Accepted          State = 6
	Unknown           State = 7
	Rejected          State = 8
)

// stateNames are the receipt text's stat values.
var stateNames = map[string]State{
	"ENROUTE": Enroute, "DELIVRD": Delivered, "DELIVERED": Delivered, "EXPIRED": Expired, "DELETED": Deleted,
	"UNDELIV": Undeliverable, "UNDELIVERABLE": Undeliverable, "ACCEPTD": Accepted, "ACCEPTED": Accepted,
	"UNKNOWN": Unknown, "REJECTD": Rejected, "REJECTED": Rejected,
}

// String is the receipt text form (DELIVRD …).
func (s State) String() string {
	switch s {
	case Enroute:
		return "ENROUTE"
	case Delivered:
		return "DELIVRD"
	case Expired:
		return "EXPIRED"
	case Deleted:
		return "DELETED"
	case Undeliverable:
		return "UNDELIV"
	case Accepted:
		return "ACCEPTD"
	case Unknown:
		return "UNKNOWN"
	case Rejected:
		return "REJECTD"
	}
	return "STATE(" + strconv.Itoa(int(s)) + ")"
}

// Final reports whether no later receipt should follow.
func (s State) Final() bool {
	switch s {
	case Delivered, Expired, Deleted, Undeliverable, Unknown, Rejected:
		return true
	}
	return false
}

// Reason words a state for the recipient's status report ("successfully
// delivered", "undeliverable" …).
func (s State) Reason() string {
	switch s {
	case Delivered:
		return "successfully delivered"
	case Expired:
		return "expired"
	case Deleted:
		return "deleted by the carrier"
	case Undeliverable:
		return "undeliverable"
	case Rejected:
		return "rejected by the carrier"
	case Unknown:
		return "unknown delivery outcome"
	}
	return "pending DLR"
}

// Receipt is what one delivery receipt says.
type Receipt struct {
	ID        string // the SMSC's message id, as the receipt wrote it
	State     State
	Err       int       // the carrier's error code (err: or network_error_code); 0: none
	Submitted time.Time // zero if absent or unreadable
	Done      time.Time
	Delivered int // dlvrd: count, -1 if absent
	Text      string
}

// ErrNotReceipt means the text carries no id or no state.
var ErrNotReceipt = errors.New("dlr: not a delivery receipt")

// Parse reads receipt text. Field names are matched without regard to
// case; unknown fields are ignored; "text:" ends the fields (the rest is the
// start of the original message and may contain anything).
func Parse(s string) (Receipt, error) {
	r := Receipt{Delivered: -1}
	fields := split(s)
	var haveState bool
	for _, f := range fields {
		v := f.value
		switch f.name {
		case "id":
			r.ID = v
		case "stat":
			st, ok := stateNames[strings.ToUpper(v)]
			if !ok {
				return r, errors.New("dlr: unknown stat " + strconv.Quote(v))
			}
			r.State, haveState = st, true
		case "err":
			if n, err := strconv.ParseInt(v, 10, 32); err == nil {
				r.Err = int(n)
			} else if n, err := strconv.ParseInt(v, 16, 32); err == nil {
				r.Err = int(n)
			}
		case "dlvrd":
			if n, err := strconv.Atoi(v); err == nil {
				r.Delivered = n
			}
		case "submit date":
			r.Submitted = parseDate(v)
		case "done date":
			r.Done = parseDate(v)
		case "text":
			r.Text = v
		}
	}
	if r.ID == "" || !haveState {
		return r, ErrNotReceipt
	}
	return r, nil
}

type field struct{ name, value string }

// knownNames are the field names looked for, longest first so that
// "submit date" wins over "submit".
var knownNames = []string{"submit date", "done date", "submit_date", "done_date", "dlvrd", "stat", "text", "sub", "err", "id"}

// split finds "name:value" pairs. A value is the word after the colon;
// "text:" takes the rest of the receipt.
func split(s string) []field {
	type hit struct {
		at, end int
		name    string
	}
	var hits []hit
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i-1] != ' ' && s[i-1] != '\t' && s[i-1] != ',' && s[i-1] != ';' && s[i-1] != '\n' {
			continue // names start a word
		}
		for _, n := range knownNames {
			if hasNamePrefix(s[i:], n) {
				hits = append(hits, hit{at: i, end: i + len(n) + 1, name: strings.ReplaceAll(n, "_", " ")})
				i += len(n)
				break
			}
		}
	}
	var out []field
	for k, h := range hits {
		end := len(s)
		if h.name != "text" && k+1 < len(hits) {
			end = hits[k+1].at
		}
		v := s[h.end:end]
		if h.name != "text" {
			// A value is one word: what follows it, up to the next known
			// name, is a field this parser does not know.
			v = strings.TrimLeft(v, " \t")
			if i := strings.IndexAny(v, " \t\r\n,;"); i >= 0 {
				v = v[:i]
			}
		}
		out = append(out, field{name: h.name, value: v})
		if h.name == "text" {
			break
		}
	}
	return out
}

// hasNamePrefix reports whether s starts with name (ASCII, any case) and a
// colon. It compares bytes so that offsets stay those of s.
func hasNamePrefix(s, name string) bool {
	if len(s) <= len(name) || s[len(name)] != ':' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// parseDate reads YYMMDDhhmm or YYMMDDhhmmss as UTC.
func parseDate(v string) time.Time {
	for _, layout := range []string{"0601021504", "060102150405"} {
		if len(v) == len(layout) {
			if t, err := time.Parse(layout, v); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// IDForms returns the forms an SMSC message id may take in receipts: as
// given (lower case, leading zeros dropped), and converted between hex and
// decimal when it reads as either. A connector stores ids in the first
// form and looks receipts up by all of them.
func IDForms(id string) []string {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return nil
	}
	norm := strings.TrimLeft(id, "0")
	if norm == "" {
		norm = "0"
	}
	forms := []string{norm}
	add := func(s string) {
		for _, f := range forms {
			if f == s {
				return
			}
		}
		forms = append(forms, s)
	}
	if len(norm) > 64 {
		return forms // longer than any SMPP message id: compare as is
	}
	if n, ok := new(big.Int).SetString(norm, 10); ok {
		add(n.Text(16))
	}
	if n, ok := new(big.Int).SetString(norm, 16); ok {
		add(n.Text(10))
	}
	return forms
}

// NormalizeID is the form ids are stored in: the first of IDForms.
func NormalizeID(id string) string {
	if f := IDForms(id); len(f) > 0 {
		return f[0]
	}
	return ""
}
