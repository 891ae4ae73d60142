package compliance

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/csvrows"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// ParseWindow reads "HH:MM-HH:MM".
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	start, err1 := time.Parse("15:04", strings.TrimSpace(from))
	end, err2 := time.Parse("15:04", strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil || start.Equal(end) {
		return Window{}, fmt.Errorf("window %q: write it as 08:00-21:00", s)
	}
	return Window{Start: start.Hour()*60 + start.Minute(), End: end.Hour()*60 + end.Minute()}, nil
}

// ImportError lists the bad rows of an import; nothing was imported.
type ImportError struct{ Rows []string }

func (e *ImportError) Error() string {
	return "the file has errors, nothing imported:\n" + strings.Join(e.Rows, "\n")
}

// DNDScope checks a registry's scope: "all" (the default: every message)
// or "marketing" (marketing and restricted categories only).
func DNDScope(s string) (string, error) {
	switch s {
	case "", store.DNDAll:
		return store.DNDAll, nil
	case store.DNDMarketing:
		return store.DNDMarketing, nil
	}
	return "", fmt.Errorf("scope %q: use all (every message) or marketing", s)
}

// ParseDNDCSV reads a registry file: one number or prefix per row, in
// international digits, optionally with the date it was listed
// (YYYY-MM-DD); a header row is allowed. Bad rows are reported with their
// line numbers and nothing is returned. It holds the whole file: large
// registries go through the imports package, which streams DNDRow.
func ParseDNDCSV(r io.Reader, registry string, now time.Time) ([]store.DNDEntry, error) {
	var out []store.DNDEntry
	bad := csvrows.Rows(r, func(line int, rec []string) error {
		e, ok, err := DNDRow(line, rec, registry, now)
		if ok {
			out = append(out, e)
		}
		return err
	})
	if len(bad) > 0 {
		return nil, &ImportError{Rows: bad}
	}
	if len(out) == 0 {
		return nil, errors.New("the file has no numbers")
	}
	return out, nil
}

// DNDRow reads one row of a registry file (see ParseDNDCSV): ok is false
// for a blank row or the header row (line 1 not in digits).
func DNDRow(line int, rec []string, registry string, now time.Time) (e store.DNDEntry, ok bool, err error) {
	if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
		return e, false, nil
	}
	num := strings.TrimPrefix(strings.TrimSpace(rec[0]), "+")
	if line == 1 && strings.Trim(num, "0123456789") != "" {
		return e, false, nil // a header row
	}
	if num == "" || strings.Trim(num, "0123456789") != "" || len(num) > 15 || len(num) < 2 {
		return e, false, fmt.Errorf("%q is not a number or prefix in international digits", rec[0])
	}
	e = store.DNDEntry{Registry: registry, Prefix: num, ListedAt: now, ImportedAt: now}
	if len(rec) > 1 && strings.TrimSpace(rec[1]) != "" {
		d, err := time.Parse("2006-01-02", strings.TrimSpace(rec[1]))
		if err != nil {
			return store.DNDEntry{}, false, fmt.Errorf("date %q: write it as YYYY-MM-DD", rec[1])
		}
		e.ListedAt = d
	}
	return e, true, nil
}

// ParseConsentsCSV reads a consent import: a header row naming the columns
// recipient, purpose, action (opt_in or opt_out) and optionally legal_age
// (true/false), categories (separated by ";"), date (RFC 3339) and
// evidence (free text); then one row per consent. An email opt-in needs
// its evidence (CheckEvidence). Every bad row is reported
// with its line number and nothing is returned.
func ParseConsentsCSV(r io.Reader, accountID, actor string, now time.Time) ([]*store.Consent, error) {
	var out []*store.Consent
	bad, err := csvrows.Each(r, ConsentColumns, ConsentRequired,
		func(_ int, get func(string) string) error {
			c, err := ConsentRow(get, accountID, actor, now)
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, &ImportError{Rows: bad}
	}
	if len(out) == 0 {
		return nil, errors.New(NoConsents)
	}
	return out, nil
}

// The columns of a consent file: those it may have (for messages) and
// those it must.
const ConsentColumns = "recipient,purpose,action[,legal_age,categories,date,evidence]"

var ConsentRequired = []string{"recipient", "purpose", "action"}

// NoConsents is why a consent file without rows is refused.
const NoConsents = "the file has no consents"

// ConsentRow reads one row of a consent file (its fields by column name)
// as an entry of accountID's ledger, imported by actor at now.
func ConsentRow(get func(string) string, accountID, actor string, now time.Time) (*store.Consent, error) {
	c, err := ParseConsent(get("recipient"), get("purpose"), get("action"), get("legal_age"), strings.Split(get("categories"), ";"), get("date"), now)
	if err != nil {
		return nil, err
	}
	c.AccountID, c.Source, c.Actor = accountID, store.SourceImport, actor
	if ev := get("evidence"); ev != "" {
		c.Evidence = map[string]string{"text": ev}
	}
	if err := CheckEvidence(c); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseConsent validates one consent's fields: a phone number (normalised)
// or an email address, a purpose, an action, restricted categories.
func ParseConsent(recipient, purpose, action, legalAge string, categories []string, date string, now time.Time) (*store.Consent, error) {
	c := &store.Consent{Purpose: purpose, Action: action, CreatedAt: now}
	switch {
	case strings.Contains(recipient, "@"):
		if at := strings.IndexByte(recipient, '@'); at < 1 || at == len(recipient)-1 || strings.ContainsAny(recipient, " ,<>") {
			return nil, fmt.Errorf("recipient %q is not an email address", recipient)
		}
		c.Recipient = strings.ToLower(recipient)
	default:
		n, err := phone.Parse(recipient)
		if err != nil {
			return nil, fmt.Errorf("recipient %q is not a valid phone number in international format", recipient)
		}
		c.Recipient = n.MSISDN
	}
	if purpose != Marketing && purpose != Transactional {
		return nil, fmt.Errorf("purpose %q: use marketing or transactional", purpose)
	}
	if action != store.OptIn && action != store.OptOut {
		return nil, fmt.Errorf("action %q: use opt_in or opt_out", action)
	}
	switch strings.ToLower(legalAge) {
	case "", "false", "no", "0":
	case "true", "yes", "1":
		c.LegalAge = true
	default:
		return nil, fmt.Errorf("legal_age %q: use true or false", legalAge)
	}
	for _, cat := range categories {
		if cat = strings.TrimSpace(cat); cat == "" {
			continue
		}
		if !ValidCategory(cat) {
			return nil, fmt.Errorf("category %q: use %s", cat, strings.Join(Categories, ", "))
		}
		c.Categories = append(c.Categories, cat)
	}
	if date != "" {
		t, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return nil, fmt.Errorf("date %q: write it as RFC 3339, e.g. 2026-11-25T10:00:00Z", date)
		}
		if t.After(now) {
			return nil, fmt.Errorf("date %q is in the future", date)
		}
		c.CreatedAt = t.UTC()
	}
	return c, nil
}

// ParseCountryWindows reads windows that differ by country:
// "FR=08:00-20:00;IN=09:00-21:00" (ISO 3166-1 alpha-2 codes).
func ParseCountryWindows(s string) (map[string]Window, error) {
	out := map[string]Window{}
	for _, item := range strings.Split(s, ";") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		cc, w, ok := strings.Cut(item, "=")
		cc = strings.ToUpper(strings.TrimSpace(cc))
		if !ok || !phone.KnownCountry(cc) {
			return nil, fmt.Errorf("%q: write each country as CC=08:00-21:00 with an ISO country code", item)
		}
		win, err := ParseWindow(w)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cc, err)
		}
		out[cc] = win
	}
	return out, nil
}

// FormatCountryWindows writes windows as ParseCountryWindows reads them.
func FormatCountryWindows(m map[string]Window) string {
	ccs := make([]string, 0, len(m))
	for cc := range m {
		ccs = append(ccs, cc)
	}
	sort.Strings(ccs)
	for i, cc := range ccs {
		ccs[i] = cc + "=" + m[cc].String()
	}
	return strings.Join(ccs, ";")
}

// ContentRuleActions are what an account may make a content rule do.
var ContentRuleActions = []string{"reject", "hold", "off"}

// ApplyContentRules applies an account's overrides —
// "content.iban=reject;content.link_shortener=off" — to rules.
func ApplyContentRules(rules []ContentRule, overrides string) ([]ContentRule, error) {
	out := append([]ContentRule(nil), rules...)
	for _, item := range strings.Split(overrides, ";") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, action, _ := strings.Cut(item, "=")
		name, action = strings.TrimSpace(name), strings.TrimSpace(action)
		i := slices.IndexFunc(out, func(r ContentRule) bool { return r.Name == name })
		if i < 0 {
			names := make([]string, len(rules))
			for j, r := range rules {
				names[j] = r.Name
			}
			return nil, fmt.Errorf("no content rule %q (there are %s)", name, strings.Join(names, ", "))
		}
		switch action {
		case "reject":
			out[i].Outcome = Reject
		case "hold":
			out[i].Outcome = Hold
		case "off":
			out = slices.Delete(out, i, i+1)
		default:
			return nil, fmt.Errorf("%s=%q: the action is reject, hold or off", name, action)
		}
	}
	return out, nil
}

// CheckEvidence refuses an email opt-in recorded without evidence of where
// and how the address opted in: bought, rented or harvested lists have none
// (EMAIL-1, EMAIL-5). Phone numbers' opt-ins keep evidence optional.
func CheckEvidence(c *store.Consent) error {
	if c.Action != store.OptIn || !strings.Contains(c.Recipient, "@") {
		return nil
	}
	for _, v := range c.Evidence {
		if strings.TrimSpace(v) != "" {
			return nil
		}
	}
	return invalid("evidence", "an email opt-in needs evidence of how %s opted in (a form, an IP, a reference): lists bought, rented or imported without it are not accepted", c.Recipient)
}
