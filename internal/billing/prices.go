// Package billing prices and charges messages and keeps accounts' money
// straight: price lists (a default list and per-account overrides, per
// channel, country and number prefix, per segment), the operator's
// top-ups, refunds and adjustments, usage limits, alerts at 80 % and 100 %
// (delivered by package notice), automatic top-ups through a payment
// provider, and monthly statements.
//
// Money is integer micro-units of the account's currency throughout; the
// balance is the running sum of the account's ledger, changed only in the
// same transaction as a ledger entry. Messages are charged in the
// transaction that accepts them (store.Billing.AcceptCharged).
package billing

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/currency"

	"github.com/omnigate/omnigate/internal/csvrows"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// ErrNoPrice means a price list exists for the account's currency and
// channel but has no price for the destination: the message cannot be
// charged, so it is refused.
var ErrNoPrice = errors.New("no price for this destination")

// ValidCurrency reports whether code is an ISO 4217 currency.
func ValidCurrency(code string) bool {
	_, err := currency.ParseISO(code)
	return err == nil && len(code) == 3 && strings.ToUpper(code) == code
}

// Pricer finds prices, from a copy of the price table kept in memory and
// reloaded periodically (and at once after an import on this node).
type Pricer struct {
	store store.Billing
	ttl   time.Duration

	mu     sync.RWMutex
	prices []store.Price
	loaded time.Time
}

// NewPricer reads prices from st; ttl 0 means 30 seconds.
func NewPricer(st store.Billing, ttl time.Duration) *Pricer {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &Pricer{store: st, ttl: ttl}
}

// Invalidate makes the next lookup reload the price table.
func (p *Pricer) Invalidate() {
	p.mu.Lock()
	p.loaded = time.Time{}
	p.mu.Unlock()
}

func (p *Pricer) table(ctx context.Context) ([]store.Price, error) {
	p.mu.RLock()
	fresh := time.Since(p.loaded) < p.ttl
	prices := p.prices
	p.mu.RUnlock()
	if fresh {
		return prices, nil
	}
	prices, err := p.store.Prices(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.prices, p.loaded = prices, time.Now()
	p.mu.Unlock()
	return prices, nil
}

// Quote is the price of one unit to one destination.
type Quote struct {
	Price    int64 // micro-units per unit (SMS segment, email, chat message)
	Currency string
	Found    bool // a price list entry matched; false: no list for this currency and channel (free)
	Entry    store.Price
}

// Lookup prices one unit on a channel to an address, in a currency: the
// account's own list first, then the default list; within a list the most
// specific destination (destination.Best: the longest prefix, then the
// country, then the catch-all). With no list at all for the currency and
// channel the price is 0 (billing not configured); with a list but no
// matching entry it is ErrNoPrice.
func (p *Pricer) Lookup(ctx context.Context, accountID, channel, currency, country, address string) (Quote, error) {
	return p.LookupUnit(ctx, accountID, channel, "", currency, country, address)
}

// LookupUnit is Lookup for one unit of a channel that prices several (a
// WhatsApp conversation's category). A list exists when the channel has
// rows in the currency, whatever their unit.
func (p *Pricer) LookupUnit(ctx context.Context, accountID, channel, unit, currency, country, address string) (Quote, error) {
	prices, err := p.table(ctx)
	if err != nil {
		return Quote{}, err
	}
	q := Quote{Currency: currency}
	to := destination.Address{Address: address, Country: country}
	anyList := false
	for _, list := range []string{accountID, ""} {
		best := destination.Best(prices, pricePattern, func(pr *store.Price) bool {
			ok := pr.AccountID == list && pr.Channel == channel && pr.Currency == currency
			anyList = anyList || ok
			return ok && pr.Unit == unit
		}, to)
		if best >= 0 {
			q.Price, q.Found, q.Entry = prices[best].Price, true, prices[best]
			return q, nil
		}
	}
	if anyList {
		return q, ErrNoPrice
	}
	return q, nil
}

// pricePattern is the destination a price is for: its prefix column holds
// a number prefix, or an email domain for channels whose addresses are
// email addresses.
func pricePattern(pr *store.Price) destination.Pattern {
	if isDomain(pr.Prefix) {
		return destination.Pattern{Domain: pr.Prefix, Country: pr.Country}
	}
	return destination.Pattern{Prefix: pr.Prefix, Country: pr.Country}
}

// isDomain tells an email domain from a number prefix in a price's prefix
// column.
func isDomain(prefix string) bool { return prefix != "" && strings.Trim(prefix, "0123456789") != "" }

// parseDomain checks an email domain in a price row: "example.com" or
// "@example.com", letters, digits and hyphens in dot-separated labels.
func parseDomain(s string) (string, bool) {
	d := strings.ToLower(strings.TrimPrefix(s, "@"))
	if len(d) > 253 || !strings.Contains(d, ".") {
		return "", false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return "", false
		}
	}
	return d, true
}

// ImportError lists the bad rows of a price file.
type ImportError struct{ Rows []string }

func (e *ImportError) Error() string {
	return "price file has errors, nothing imported:\n" + strings.Join(e.Rows, "\n")
}

// ParsePricesCSV reads a price file: a header row naming the columns
// channel, country, prefix, currency and price, and unit for channels
// priced per conversation (WhatsApp: the category) (in any order; country and
// prefix may be empty for catch-all rows; prefix is a number prefix, or an
// email domain (matching it and its subdomains) for email; price is a
// decimal amount per unit of the channel, e.g. 0.075 per SMS segment or per
// email), then one row per price.
// channels are the channels that may be priced (the registry's). Every bad
// row is reported with its line number; no price is returned unless every
// row is good.
func ParsePricesCSV(r io.Reader, accountID string, now time.Time, channels []string) ([]store.Price, error) {
	var out []store.Price
	seen := map[string]int{}
	bad, err := csvrows.Each(r, PriceColumns, PriceRequired,
		func(line int, get func(string) string) error {
			p, err := PriceRow(get, accountID, now, channels)
			if err != nil {
				return err
			}
			key := p.Channel + "/" + p.Unit + "/" + p.Country + "/" + p.Prefix + "/" + p.Currency
			if first, dup := seen[key]; dup {
				return SameDestination(first)
			}
			seen[key] = line
			out = append(out, p)
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, &ImportError{Rows: bad}
	}
	if len(out) == 0 {
		return nil, errors.New(NoPrices)
	}
	return out, nil
}

// The columns of a price file: those it may have (for messages) and
// those it must.
const PriceColumns = "channel,country,prefix,currency,price"

var PriceRequired = []string{"channel", "country", "prefix", "currency", "price"}

// NoPrices is why a price file without rows is refused.
const NoPrices = "the price file has no rows"

// SameDestination is why a row pricing the destination of line first
// again is refused.
func SameDestination(first int) error { return fmt.Errorf("the same destination as line %d", first) }

// PriceRow reads one row of a price file (its fields by column name) as a
// price of accountID ("" for the default list), on one of channels.
func PriceRow(get func(string) string, accountID string, now time.Time, channels []string) (store.Price, error) {
	p := store.Price{AccountID: accountID, Channel: strings.ToLower(get("channel")), Unit: strings.ToLower(get("unit")),
		Country: strings.ToUpper(get("country")), Prefix: strings.TrimPrefix(get("prefix"), "+"), Currency: strings.ToUpper(get("currency")), UpdatedAt: now}
	if !slices.Contains(channels, p.Channel) {
		return p, fmt.Errorf("channel %q: use one of %s", p.Channel, strings.Join(channels, ", "))
	}
	switch {
	case PerConversation(p.Channel) && !slices.Contains(Categories, p.Unit):
		return p, fmt.Errorf("unit %q: a %s price is per conversation; set unit to one of %s", p.Unit, p.Channel, strings.Join(Categories, ", "))
	case !PerConversation(p.Channel) && p.Unit != "":
		return p, fmt.Errorf("unit %q: a %s price has no unit column (leave it empty)", p.Unit, p.Channel)
	}
	if p.Country != "" && !phone.KnownCountry(p.Country) {
		return p, fmt.Errorf("country %q is not an ISO 3166 code such as NL", p.Country)
	}
	if isDomain(p.Prefix) {
		d, ok := parseDomain(p.Prefix)
		if !ok {
			return p, fmt.Errorf("prefix %q must be digits (a number prefix) or an email domain such as example.com", p.Prefix)
		}
		p.Prefix = d
	} else if len(p.Prefix) > 15 {
		return p, fmt.Errorf("prefix %q must be digits", p.Prefix)
	}
	if !ValidCurrency(p.Currency) {
		return p, fmt.Errorf("currency %q is not an ISO 4217 code such as EUR", p.Currency)
	}
	v, err := message.ParseMicros(get("price"))
	if err != nil {
		return p, fmt.Errorf("price: %v", err)
	}
	if v < 0 {
		return p, fmt.Errorf("price %q is negative", get("price"))
	}
	p.Price = v
	return p, nil
}

// FormatPrices writes prices as a file ParsePricesCSV reads.
// The unit column is written when a price has a unit.
func FormatPrices(w io.Writer, ps []store.Price) error {
	cw := csv.NewWriter(w)
	units := slices.ContainsFunc(ps, func(p store.Price) bool { return p.Unit != "" })
	row := func(fields ...string) {
		if !units {
			fields = fields[:len(fields)-1]
		}
		cw.Write(fields)
	}
	row("channel", "country", "prefix", "currency", "price", "unit")
	for _, p := range ps {
		row(p.Channel, p.Country, p.Prefix, p.Currency, message.FormatMicros(p.Price), p.Unit)
	}
	cw.Flush()
	return cw.Error()
}
