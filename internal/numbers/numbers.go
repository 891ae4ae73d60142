// Package numbers manages phone numbers as a product (docs/numbers.md): the
// operator's inventory, numbers accounts buy from it (charged through the
// ledger when bought and at each renewal), and the platform's rules about
// them (obligations NUM-2…4): a number idle for three months is reclaimed
// after seven days' notice, a renewal that cannot be charged releases the
// number after a grace period. The maintenance loop calls Maintain; the
// MessageBird door's /v1/phone-numbers and the CLI call the rest.
//
// Which account receives a number's inbound traffic stays where it was:
// the numbers table (store.Inbound.NumberOwner). Assigning by an operator
// (omnigate number add, numbers assign) and buying both write it; an
// operator's assignment is not billed.
package numbers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/csvrows"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// Defaults of Config.
const (
	DefaultIdleAfter    = 90 * 24 * time.Hour // NUM-4: three months
	DefaultNoticePeriod = 7 * 24 * time.Hour  // NUM-4: at least seven days' notice
	DefaultUnpaidGrace  = 7 * 24 * time.Hour
	MaxLimit            = 100
	DefaultLimit        = 20
)

// Features and types a number may have.
var (
	Features = []string{"sms", "voice", "whatsapp"}
	Types    = []string{"mobile", "landline", "toll_free", "shortcode"}
)

// Config tunes the Service; zero values mean the defaults.
type Config struct {
	// Now is the clock (tests move it); default time.Now.
	Now func() time.Time
	// IdleAfter: a number without traffic this long gets the notice.
	IdleAfter time.Duration
	// NoticePeriod: after the notice, a still idle number is reclaimed.
	NoticePeriod time.Duration
	// UnpaidGrace: a renewal still unpaid this long releases the number.
	UnpaidGrace time.Duration
	// Notify wakes the notice workers after a notice is queued.
	Notify func()
}

// Service is the numbers product.
type Service struct {
	cfg   Config
	store store.Store
	log   *slog.Logger
}

// New makes the service.
func New(cfg Config, st store.Store, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = DefaultIdleAfter
	}
	if cfg.NoticePeriod <= 0 {
		cfg.NoticePeriod = DefaultNoticePeriod
	}
	if cfg.UnpaidGrace <= 0 {
		cfg.UnpaidGrace = DefaultUnpaidGrace
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, store: st, log: log}
}

// SetNow replaces the clock (tests).
func (s *Service) SetNow(now func() time.Time) { s.cfg.Now = now }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// InvalidError is bad input: Param names the parameter.
type InvalidError struct{ Param, Msg string }

func (e *InvalidError) Error() string { return e.Msg }

func invalid(param, format string, args ...any) error {
	return &InvalidError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// ErrNotAvailable: the number is not in the inventory or is taken.
var ErrNotAvailable = errors.New("the number is not available")

// Digits normalises a number as typed ("+31 6-1234") to its digits; ok is
// false if anything else is left.
func Digits(s string) (string, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
	if s == "" || len(s) > 15 || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	return s, true
}

// Country checks an ISO 3166-1 alpha-2 code, upper-casing it.
func Country(param, c string) (string, error) {
	c = strings.ToUpper(strings.TrimSpace(c))
	if len(c) != 2 || !phone.KnownCountry(c) {
		return "", invalid(param, "%s must be an ISO 3166-1 alpha-2 country code such as NL", param)
	}
	return c, nil
}

// Search lists available numbers by the filter; Country is required.
func (s *Service) Search(ctx context.Context, f store.StockFilter) ([]store.StockNumber, error) {
	var err error
	if f.Country, err = Country("countryCode", f.Country); err != nil {
		return nil, err
	}
	if f.Type != "" && !slices.Contains(Types, f.Type) {
		return nil, invalid("type", "type must be one of %s", strings.Join(Types, ", "))
	}
	for _, ft := range f.Features {
		if !slices.Contains(Features, ft) {
			return nil, invalid("features", "features must be among %s", strings.Join(Features, ", "))
		}
	}
	if f.Pattern != "" {
		if len(f.Pattern) > 15 || strings.Trim(f.Pattern, "0123456789") != "" {
			return nil, invalid("number", "number must be digits")
		}
	}
	switch f.Match {
	case "", "start", "end", "anywhere":
	default:
		return nil, invalid("search_pattern", "search_pattern must be start, end or anywhere")
	}
	if f.Match == "start" && f.Pattern != "" {
		// MessageBird's start is the national number's: after the
		// country's calling code.
		f.Pattern = strconv.Itoa(phone.CallingCode(f.Country)) + f.Pattern
	}
	if f.Limit == 0 {
		f.Limit = DefaultLimit
	}
	if f.Limit < 0 || f.Limit > MaxLimit {
		return nil, invalid("limit", "limit must be between 1 and %d", MaxLimit)
	}
	f.Available = true
	return s.store.SearchStock(ctx, f)
}

// Purchase buys an available number for the account: it charges the
// first interval (monthly price × months) and sets the renewal.
// store.ErrInsufficientBalance changes nothing.
func (s *Service) Purchase(ctx context.Context, accountID, number, country string, months int) (*store.OwnedNumber, error) {
	n, ok := Digits(number)
	if !ok {
		return nil, invalid("number", "number must be a phone number in international format")
	}
	cc, err := Country("countryCode", country)
	if err != nil {
		return nil, err
	}
	if months == 0 {
		months = 1
	}
	if months != 1 && months != 12 {
		return nil, invalid("billingIntervalMonths", "billingIntervalMonths must be 1 or 12")
	}
	stock, err := s.store.SearchStock(ctx, store.StockFilter{Country: cc, Pattern: n, Match: "end"})
	if err != nil {
		return nil, err
	}
	var item *store.StockNumber
	for i := range stock {
		if stock[i].Number == n {
			item = &stock[i]
		}
	}
	if item == nil || item.AccountID != "" {
		return nil, ErrNotAvailable
	}
	now := s.now()
	err = s.store.PurchaseNumber(ctx, store.NumberPurchase{Number: n, AccountID: accountID, IntervalMonths: months,
		Price: item.MonthlyPrice * int64(months), RenewalAt: now.AddDate(0, months, 0), At: now})
	if errors.Is(err, store.ErrConflict) {
		return nil, ErrNotAvailable
	}
	if err != nil {
		return nil, err
	}
	return s.store.OwnedNumber(ctx, accountID, n)
}

// Get is one of the account's numbers; store.ErrNotFound if not its.
func (s *Service) Get(ctx context.Context, accountID, number string) (*store.OwnedNumber, error) {
	n, ok := Digits(number)
	if !ok {
		return nil, store.ErrNotFound
	}
	return s.store.OwnedNumber(ctx, accountID, n)
}

// List lists the account's numbers.
func (s *Service) List(ctx context.Context, accountID string) ([]store.OwnedNumber, error) {
	return s.store.OwnedNumbers(ctx, accountID)
}

// MaxTags bounds a number's tags.
const MaxTags = 20

// Update sets a number's tags and inbound URL (nil: unchanged).
func (s *Service) Update(ctx context.Context, accountID, number string, u store.NumberUpdate) (*store.OwnedNumber, error) {
	n, ok := Digits(number)
	if !ok {
		return nil, store.ErrNotFound
	}
	if u.Tags != nil {
		if len(*u.Tags) > MaxTags {
			return nil, invalid("tags", "at most %d tags", MaxTags)
		}
		for _, t := range *u.Tags {
			if t == "" || len(t) > 64 || strings.ContainsAny(t, ",\r\n") {
				return nil, invalid("tags", "a tag is 1 to 64 characters without commas")
			}
		}
	}
	if u.InboundURL != nil && *u.InboundURL != "" {
		p, err := url.Parse(*u.InboundURL)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || len(*u.InboundURL) > 2048 {
			return nil, invalid("inboundUrl", "inboundUrl must be an absolute http or https URL")
		}
	}
	if err := s.store.UpdateNumber(ctx, accountID, n, u); err != nil {
		return nil, err
	}
	return s.store.OwnedNumber(ctx, accountID, n)
}

// Cancel gives up an account's number at once (no refund of the period
// paid): it returns to the inventory.
func (s *Service) Cancel(ctx context.Context, accountID, number string) error {
	n, ok := Digits(number)
	if !ok {
		return store.ErrNotFound
	}
	return s.store.ReleaseNumber(ctx, accountID, n, store.NumberEvent{Event: store.NumberCancelled, Actor: "api", CreatedAt: s.now()}, time.Time{})
}

// Assign gives a number to an account by an operator (not billed); it
// need not be in the inventory. store.ErrConflict: another account's.
func (s *Service) Assign(ctx context.Context, accountID, number string) error {
	n, ok := Digits(number)
	if !ok {
		return invalid("number", "number must be digits")
	}
	return s.store.AddNumber(ctx, store.Number{Number: n, AccountID: accountID, CreatedAt: s.now()})
}

// Release takes a number back by an operator.
func (s *Service) Release(ctx context.Context, number, reason string) error {
	n, ok := Digits(number)
	if !ok {
		return store.ErrNotFound
	}
	return s.store.ReleaseNumber(ctx, "", n, store.NumberEvent{Event: store.NumberReleased, Detail: reason, Actor: "operator", CreatedAt: s.now()}, time.Time{})
}

// ReleaseAccount releases every number of an account (closing it, NUM-3),
// returning them.
func (s *Service) ReleaseAccount(ctx context.Context, accountID, reason string) ([]string, error) {
	owned, err := s.store.OwnedNumbers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range owned {
		err := s.store.ReleaseNumber(ctx, accountID, o.Number.Number, store.NumberEvent{Event: store.NumberReleased, Detail: reason, Actor: "operator", CreatedAt: s.now()}, time.Time{})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
		out = append(out, o.Number.Number)
	}
	return out, nil
}

// ImportError lists the bad rows of an inventory file; nothing was
// imported.
type ImportError struct{ Rows []string }

func (e *ImportError) Error() string {
	return "number file has errors, nothing imported:\n" + strings.Join(e.Rows, "\n")
}

// CSVColumns are the inventory file's columns.
const CSVColumns = "number,country,type,features,monthly_price[,region,locality]"

// ParseCSV reads an inventory file: a header row, then one number per row.
// features are separated by spaces, "|" or ";" (or commas inside quotes);
// monthly_price is a decimal amount ("1.50"). Every bad row is reported.
func ParseCSV(r io.Reader, now time.Time) ([]store.StockNumber, error) {
	var out []store.StockNumber
	seen := map[string]int{}
	bad, err := csvrows.Each(r, CSVColumns, CSVRequired,
		func(line int, get func(string) string) error {
			n, err := Row(get, now)
			if err != nil {
				return err
			}
			if first, dup := seen[n.Number]; dup {
				return ListedTwice(n.Number, first)
			}
			seen[n.Number] = line
			out = append(out, n)
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		return nil, &ImportError{Rows: bad}
	}
	if len(out) == 0 {
		return nil, errors.New(NoRows)
	}
	return out, nil
}

// CSVRequired are the columns an inventory file must have.
var CSVRequired = []string{"number", "country", "type", "features", "monthly_price"}

// NoRows is why an inventory file without rows is refused.
const NoRows = "the number file has no rows"

// ListedTwice is why a row listing the number of line first again is
// refused.
func ListedTwice(number string, first int) error {
	return fmt.Errorf("number %s is on line %d already", number, first)
}

// Row reads one row of an inventory file (its fields by column name),
// added at now.
func Row(get func(string) string, now time.Time) (store.StockNumber, error) {
	n := store.StockNumber{Type: strings.ToLower(get("type")), Region: get("region"), Locality: get("locality"), CreatedAt: now}
	if !slices.Contains(Types, n.Type) {
		return n, fmt.Errorf("type %q: use one of %s", n.Type, strings.Join(Types, ", "))
	}
	var err error
	if n.Country, err = Country("country", get("country")); err != nil {
		return n, fmt.Errorf("country %q is not an ISO 3166 code such as NL", get("country"))
	}
	num, ok := Digits(get("number"))
	if !ok {
		return n, fmt.Errorf("number %q must be digits in international format", get("number"))
	}
	n.Number = num
	if n.Type == "shortcode" {
		if len(num) < 3 || len(num) > 8 {
			return n, fmt.Errorf("short code %q must be 3 to 8 digits", num)
		}
	} else {
		p, err := phone.Parse(num)
		if err != nil {
			return n, fmt.Errorf("number %q is not a possible phone number", get("number"))
		}
		if p.Country != n.Country {
			return n, fmt.Errorf("number %s is in %s, not %s", num, p.Country, n.Country)
		}
	}
	for _, f := range strings.FieldsFunc(strings.ToLower(get("features")), func(r rune) bool { return r == ' ' || r == '|' || r == ';' || r == ',' }) {
		if !slices.Contains(Features, f) {
			return n, fmt.Errorf("feature %q: use %s", f, strings.Join(Features, ", "))
		}
		if !slices.Contains(n.Features, f) {
			n.Features = append(n.Features, f)
		}
	}
	if len(n.Features) == 0 {
		return n, errors.New("features: name at least one of " + strings.Join(Features, ", "))
	}
	slices.Sort(n.Features)
	price, err := message.ParseMicros(get("monthly_price"))
	if err != nil {
		return n, fmt.Errorf("monthly_price: %v", err)
	}
	if price < 0 {
		return n, fmt.Errorf("monthly_price %q is negative", get("monthly_price"))
	}
	n.MonthlyPrice = price
	if len(n.Region) > 100 || len(n.Locality) > 100 {
		return n, errors.New("region and locality are at most 100 characters")
	}
	return n, nil
}

// Maintain renews due numbers and reclaims idle ones; the maintenance loop
// calls it. It returns how many numbers changed hands (released).
func (s *Service) Maintain(ctx context.Context) (released int, err error) {
	owned, err := s.store.OwnedNumbers(ctx, "")
	if err != nil {
		return 0, err
	}
	now := s.now()
	var errs []error
	notified := false
	for i := range owned {
		o := &owned[i]
		r, n, err := s.renew(ctx, o, now)
		errs = append(errs, err)
		released += r
		notified = notified || n
		if r > 0 {
			continue
		}
		r, n, err = s.reclaim(ctx, o, now)
		errs = append(errs, err)
		released += r
		notified = notified || n
	}
	if notified {
		s.cfg.Notify()
	}
	return released, errors.Join(errs...)
}

// renew charges a due renewal; without balance the account is told once,
// and after UnpaidGrace the number is released. A suspended account's due
// renewal is not charged: the number is disconnected (NUM-3 allows it
// without notice; the account is told all the same).
func (s *Service) renew(ctx context.Context, o *store.OwnedNumber, now time.Time) (released int, notified bool, err error) {
	if o.IntervalMonths <= 0 || o.RenewalAt.IsZero() || now.Before(o.RenewalAt) {
		return 0, false, nil
	}
	if p, err := s.store.GetPolicy(ctx, o.AccountID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, false, err
	} else if p != nil && p.Suspended != "" {
		return s.disconnect(ctx, o, now, p.Suspended)
	}
	price := o.Stock.MonthlyPrice * int64(o.IntervalMonths)
	err = s.store.RenewNumber(ctx, o, price, o.RenewalAt.AddDate(0, o.IntervalMonths, 0), now)
	switch {
	case err == nil:
		s.log.Info("numbers: renewed", "number", o.Number.Number, "account", o.AccountID, "price", price)
		return 0, false, nil
	case errors.Is(err, store.ErrConflict):
		return 0, false, nil // another node did it
	case !errors.Is(err, store.ErrInsufficientBalance):
		return 0, false, err
	}
	if o.UnpaidAt.IsZero() {
		nt := notice.Notice{Type: "number.renewal_failed", Subject: "Your number " + o.Number.Number + " could not be renewed",
			Text: fmt.Sprintf("The renewal of %s (%s) could not be charged: the balance is too low. Top up before %s or the number is released.",
				o.Number.Number, message.FormatMicros(price), now.Add(s.cfg.UnpaidGrace).Format(time.RFC3339)),
			Data: map[string]any{"number": o.Number.Number, "price": message.FormatMicros(price), "releaseAt": now.Add(s.cfg.UnpaidGrace).Format(time.RFC3339)}}
		err := s.store.MarkNumberUnpaid(ctx, o, now, notice.Job(o.AccountID, nt, time.Now().UTC()))
		if errors.Is(err, store.ErrConflict) {
			return 0, false, nil
		}
		return 0, err == nil, err
	}
	if now.Sub(o.UnpaidAt) < s.cfg.UnpaidGrace {
		return 0, false, nil
	}
	err = s.store.ReleaseNumber(ctx, o.AccountID, o.Number.Number, store.NumberEvent{Event: store.NumberUnpaidReleased,
		Detail: "renewal unpaid since " + o.UnpaidAt.Format(time.RFC3339), Actor: "renewal", CreatedAt: now}, time.Time{})
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s.log.Warn("numbers: released, renewal unpaid", "number", o.Number.Number, "account", o.AccountID)
	return 1, s.tell(ctx, o.AccountID, notice.Notice{Type: "number.released", Subject: "Your number " + o.Number.Number + " was released",
		Text: "The renewal of " + o.Number.Number + " stayed unpaid, so the number went back to the inventory.",
		Data: map[string]any{"number": o.Number.Number, "reason": "renewal unpaid"}}), nil
}

// disconnect releases the number of a suspended account whose renewal fell
// due, uncharged (NUM-3).
func (s *Service) disconnect(ctx context.Context, o *store.OwnedNumber, now time.Time, reason string) (released int, notified bool, err error) {
	err = s.store.ReleaseNumber(ctx, o.AccountID, o.Number.Number, store.NumberEvent{Event: store.NumberSuspendedReleased,
		Detail: "renewal due while the account is suspended: " + reason, Actor: "renewal", CreatedAt: now}, time.Time{})
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil // released meanwhile (another node)
	}
	if err != nil {
		return 0, false, err
	}
	s.log.Warn("numbers: released, renewal due while the account is suspended", "number", o.Number.Number, "account", o.AccountID)
	return 1, s.tell(ctx, o.AccountID, notice.Notice{Type: "number.released", Subject: "Your number " + o.Number.Number + " was released",
		Text: "The renewal of " + o.Number.Number + " fell due while your account is suspended, so it was not charged and the number went back to the inventory.",
		Data: map[string]any{"number": o.Number.Number, "reason": "account suspended"}}), nil
}

// lastTraffic is the latest of the assignment, inbound seen and outbound
// sent from the number.
func (s *Service) lastTraffic(ctx context.Context, o *store.OwnedNumber, since time.Time) (time.Time, error) {
	last := o.CreatedAt
	if o.LastTrafficAt.After(last) {
		last = o.LastTrafficAt
	}
	out, err := s.store.LastOutbound(ctx, o.AccountID, o.Number.Number, since)
	if err != nil {
		return last, err
	}
	if out.After(last) {
		last = out
		if err := s.store.TouchNumber(ctx, o.Number.Number, out); err != nil {
			return last, err
		}
	}
	return last, nil
}

// reclaim gives notice on a number idle for IdleAfter, and takes back a
// number still idle NoticePeriod after the notice (NUM-4).
func (s *Service) reclaim(ctx context.Context, o *store.OwnedNumber, now time.Time) (released int, notified bool, err error) {
	idleSince := now.Add(-s.cfg.IdleAfter)
	if o.IdleNoticeAt.IsZero() {
		if o.CreatedAt.After(idleSince) || o.LastTrafficAt.After(idleSince) {
			return 0, false, nil
		}
		last, err := s.lastTraffic(ctx, o, idleSince)
		if err != nil || last.After(idleSince) {
			return 0, false, err
		}
		o.LastTrafficAt = last
		at := now.Add(s.cfg.NoticePeriod)
		nt := notice.Notice{Type: "number.idle", Subject: "Your number " + o.Number.Number + " will be reclaimed",
			Text: fmt.Sprintf("%s has carried no traffic since %s. Unless it is used before %s, it returns to the inventory.",
				o.Number.Number, last.Format(time.RFC3339), at.Format(time.RFC3339)),
			Data: map[string]any{"number": o.Number.Number, "lastTraffic": last.Format(time.RFC3339), "reclaimAt": at.Format(time.RFC3339)}}
		err = s.store.MarkNumberIdle(ctx, o, now, notice.Job(o.AccountID, nt, time.Now().UTC()))
		if errors.Is(err, store.ErrConflict) {
			return 0, false, nil
		}
		if err == nil {
			s.log.Info("numbers: idle notice", "number", o.Number.Number, "account", o.AccountID)
		}
		return 0, err == nil, err
	}
	if now.Before(o.IdleNoticeAt.Add(s.cfg.NoticePeriod)) {
		return 0, false, nil
	}
	last, err := s.lastTraffic(ctx, o, o.IdleNoticeAt)
	if err != nil || last.After(o.IdleNoticeAt) {
		return 0, false, err // used again: TouchNumber withdrew the notice
	}
	err = s.store.ReleaseNumber(ctx, o.AccountID, o.Number.Number, store.NumberEvent{Event: store.NumberReclaimed,
		Detail: "no traffic since " + last.Format(time.RFC3339) + ", notice " + o.IdleNoticeAt.Format(time.RFC3339), Actor: "reclamation", CreatedAt: now}, o.IdleNoticeAt)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil // used meanwhile, or released
	}
	if err != nil {
		return 0, false, err
	}
	s.log.Info("numbers: reclaimed", "number", o.Number.Number, "account", o.AccountID)
	return 1, s.tell(ctx, o.AccountID, notice.Notice{Type: "number.reclaimed", Subject: "Your number " + o.Number.Number + " was reclaimed",
		Text: o.Number.Number + " carried no traffic for three months and after the notice, so it went back to the inventory.",
		Data: map[string]any{"number": o.Number.Number, "reason": "idle"}}), nil
}

// tell queues a notice; jobs run on the wall clock, not the service's.
func (s *Service) tell(ctx context.Context, accountID string, nt notice.Notice) bool {
	if err := s.store.EnqueueJob(ctx, notice.Job(accountID, nt, time.Now().UTC())); err != nil {
		s.log.Warn("numbers: queueing a notice", "account", accountID, "err", err)
		return false
	}
	return true
}
