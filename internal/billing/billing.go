package billing

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/ttlcache"
)

// Config tunes billing. Zero values mean the documented defaults.
type Config struct {
	// Disabled turns charging off: messages cost nothing and limits are
	// not counted (benchmarks, free internal deployments).
	Disabled bool
	// CacheTTL is how long prices and limits are cached; default 10 s.
	CacheTTL time.Duration
	// Channels are the channels that can be priced, each with the unit one
	// price is for (the channel registry's); default: sms per segment.
	Channels map[string]string
}

// Service is billing's operations.
type Service struct {
	cfg      Config
	store    store.Store
	pricer   *Pricer
	accounts *store.AccountCache
	provider PaymentProvider
	log      *slog.Logger
	limits   *ttlcache.Cache[string, []store.UsageLimit] // by account
}

// New makes the billing service; provider settles top-ups (nil: invoice).
func New(cfg Config, st store.Store, accounts *store.AccountCache, provider PaymentProvider, log *slog.Logger) *Service {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 10 * time.Second
	}
	if len(cfg.Channels) == 0 {
		cfg.Channels = map[string]string{message.ChannelSMS: "segment"}
	}
	if provider == nil {
		provider = InvoiceProvider{}
	}
	s := &Service{cfg: cfg, store: st, pricer: NewPricer(st, cfg.CacheTTL), accounts: accounts, provider: provider, log: log}
	s.limits = ttlcache.New(cfg.CacheTTL, 10000, s.readLimits)
	return s
}

// Pricer is the service's price lookup.
func (s *Service) Pricer() *Pricer { return s.pricer }

// Channels lists the channels that can be priced, sorted.
func (s *Service) Channels() []string {
	out := make([]string, 0, len(s.cfg.Channels))
	for c := range s.cfg.Channels {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Unit is what one price of a channel is for ("segment", "email" …).
func (s *Service) Unit(channel string) string { return s.cfg.Channels[channel] }

// NoPriceError names a destination without a price.
type NoPriceError struct {
	Recipient, Country string
	Unit               string // "" or what is not priced ("marketing conversation")
}

func (e *NoPriceError) Error() string {
	if e.Unit != "" {
		return fmt.Sprintf("no price for a %s with %s (country %s) on this account's price list", e.Unit, e.Recipient, e.Country)
	}
	return fmt.Sprintf("no price for %s (country %s) on this account's price list", e.Recipient, e.Country)
}

func (e *NoPriceError) Unwrap() error { return ErrNoPrice }

// Charge prices a prepared message — each recipient's price is the price
// of one unit of its channel (an SMS segment, an email …) to its address,
// times its units (PartCount) — and returns it ready for
// store.Billing.AcceptCharged with the account's usage limits. Recipients
// already final (refused by compliance) are neither priced nor counted.
func (s *Service) Charge(ctx context.Context, m *message.Message) (*store.Accept, error) {
	it := &store.Accept{Message: m}
	for _, r := range m.Recipients {
		if !r.Status.Final() {
			it.Units += int64(max(r.PartCount, 1))
		}
	}
	if s.cfg.Disabled {
		return it, nil
	}
	acct, err := s.accounts.Get(ctx, m.AccountID)
	if err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	it.Currency = acct.Currency
	for i := range m.Recipients {
		r := &m.Recipients[i]
		if r.Status.Final() {
			continue
		}
		if s.cfg.Channels[m.Channel] == UnitConversation {
			c, err := s.conversation(ctx, m, i, acct.Currency)
			if err != nil {
				return nil, err
			}
			// The conversation's price; the store charges it if the message
			// opens the conversation, and makes it 0 if it is open already.
			r.Price, r.PriceCurrency = c.Price, acct.Currency
			it.Conversations = append(it.Conversations, c)
			continue
		}
		q, err := s.pricer.Lookup(ctx, m.AccountID, m.Channel, acct.Currency, r.Country, r.Address)
		if errors.Is(err, ErrNoPrice) {
			return nil, &NoPriceError{Recipient: r.Address, Country: r.Country}
		}
		if err != nil {
			return nil, fmt.Errorf("pricing: %w", err)
		}
		r.Price, r.PriceCurrency = q.Price*int64(max(r.PartCount, 1)), acct.Currency
		it.Charge += r.Price
	}
	if it.Limits, err = s.limits.Get(ctx, m.AccountID); err != nil {
		return nil, err
	}
	return it, nil
}

// conversation prices the conversation recipient i of m opens or
// continues: its category's price to the recipient's country. With a
// price list for the channel, a category without a price is refused,
// except service, which is free unless priced.
func (s *Service) conversation(ctx context.Context, m *message.Message, i int, currency string) (*store.ConversationCharge, error) {
	r := &m.Recipients[i]
	category := Category(m)
	q, err := s.pricer.LookupUnit(ctx, m.AccountID, m.Channel, category, currency, r.Country, r.Address)
	switch {
	case errors.Is(err, ErrNoPrice) && category == CategoryService:
		q.Price = 0
	case errors.Is(err, ErrNoPrice):
		return nil, &NoPriceError{Recipient: r.Address, Country: r.Country, Unit: category + " conversation"}
	case err != nil:
		return nil, fmt.Errorf("pricing: %w", err)
	}
	return &store.ConversationCharge{Recipient: i, Channel: m.Channel, Sender: m.Originator, Address: strings.TrimPrefix(r.Address, "+"),
		Category: category, Country: r.Country, Price: q.Price, OpenedAt: m.SendAt(), Window: ConversationWindow}, nil
}

func (s *Service) readLimits(ctx context.Context, accountID string) ([]store.UsageLimit, error) {
	limits, err := s.store.UsageLimits(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading usage limits: %w", err)
	}
	return limits, nil
}

// InvalidateLimits drops an account's cached limits after a change.
func (s *Service) InvalidateLimits(accountID string) { s.limits.Delete(accountID) }

// Movement is an operator's top-up, refund or adjustment.
type Movement struct {
	AccountID      string
	Kind           string // store.LedgerTopUp, LedgerRefund or LedgerAdjustment
	Amount         int64  // micro-units; positive for top-ups and refunds, signed for adjustments
	Reason         string
	Actor          string
	IdempotencyKey string
}

// Move records a movement in the ledger.
func (s *Service) Move(ctx context.Context, mv Movement) (*store.LedgerEntry, error) {
	switch mv.Kind {
	case store.LedgerTopUp, store.LedgerRefund:
		if mv.Amount <= 0 {
			return nil, fmt.Errorf("a %s needs a positive amount", mv.Kind)
		}
	case store.LedgerAdjustment:
		if mv.Amount == 0 {
			return nil, errors.New("an adjustment needs a non-zero amount")
		}
	default:
		return nil, fmt.Errorf("kind %q: use topup, refund or adjustment", mv.Kind)
	}
	if strings.TrimSpace(mv.Reason) == "" {
		return nil, errors.New("say why: a reason is required")
	}
	if len(mv.IdempotencyKey) > 200 {
		return nil, errors.New("the idempotency key is longer than 200 characters")
	}
	e := &store.LedgerEntry{AccountID: mv.AccountID, Kind: mv.Kind, Amount: mv.Amount, Reason: mv.Reason, Actor: mv.Actor,
		IdempotencyKey: mv.IdempotencyKey, CreatedAt: time.Now().UTC()}
	if err := s.store.AddLedgerEntry(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// AutoTopUp are an account's automatic top-up settings.
type AutoTopUp struct {
	Enabled   bool
	Threshold int64 // request a top-up when the balance falls below this
	Amount    int64 // of this much
}

// SetAutoTopUp switches automatic top-up on or off (at any time) and
// records who consented.
func (s *Service) SetAutoTopUp(ctx context.Context, accountID string, t AutoTopUp, actor string) (*store.Account, error) {
	if t.Enabled && (t.Amount <= 0 || t.Threshold < 0) {
		return nil, errors.New("automatic top-up needs a positive amount and a threshold of zero or more")
	}
	a, err := s.store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	a.TopUpEnabled, a.TopUpThreshold, a.TopUpAmount = t.Enabled, t.Threshold, t.Amount
	state := "off"
	if t.Enabled {
		state = "on"
	}
	a.TopUpConsent = fmt.Sprintf("switched %s by %s at %s", state, actor, time.Now().UTC().Format(time.RFC3339))
	if err := s.store.SetBilling(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// RequestTopUp asks the payment provider for a top-up of an account. A
// repeated idempotency key answers store.ErrConflict.
func (s *Service) RequestTopUp(ctx context.Context, accountID string, amount int64, key, actor string) (*store.TopUp, error) {
	if amount <= 0 {
		return nil, errors.New("a top-up needs a positive amount")
	}
	a, err := s.store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	t := &store.TopUp{ID: ids.New(), AccountID: accountID, Amount: amount, Currency: a.Currency, Status: store.TopUpPending,
		Provider: s.provider.Name(), IdempotencyKey: key, RequestedBy: actor, CreatedAt: time.Now().UTC()}
	if err := s.store.CreateTopUp(ctx, t); err != nil {
		return nil, err
	}
	if err := s.provider.RequestTopUp(ctx, t); err != nil {
		return t, fmt.Errorf("asking %s for the top-up: %w", s.provider.Name(), err)
	}
	return t, nil
}

// Statement is an account's usage for a month.
type Statement struct {
	AccountID string
	Month     string // YYYY-MM
	Currency  string
	Lines     []store.StatementLine
	Totals    StatementTotals
}

// StatementTotals sums a statement.
type StatementTotals struct {
	Messages, Recipients, Segments, Amount int64
}

// MonthlyStatement builds an account's statement for "YYYY-MM".
func (s *Service) MonthlyStatement(ctx context.Context, accountID, month string) (*Statement, error) {
	start, err := time.Parse("2006-01", month)
	if err != nil {
		return nil, fmt.Errorf("month %q: write it as YYYY-MM", month)
	}
	a, err := s.store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	lines, messages, err := s.store.Statement(ctx, accountID, start, start.AddDate(0, 1, 0))
	if err != nil {
		return nil, err
	}
	st := &Statement{AccountID: accountID, Month: month, Currency: a.Currency, Lines: lines}
	st.Totals.Messages = messages
	for _, l := range lines {
		st.Totals.Recipients += l.Recipients
		st.Totals.Segments += l.Segments
		st.Totals.Amount += l.Amount
	}
	return st, nil
}

// WriteStatementCSV writes a statement as CSV: one row per day, channel and
// country, then a total row.
func WriteStatementCSV(w io.Writer, st *Statement) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"day", "channel", "country", "messages", "recipients", "segments", "amount", "currency"})
	for _, l := range st.Lines {
		cw.Write([]string{l.Day.Format("2006-01-02"), l.Channel, l.Country, strconv.FormatInt(l.Messages, 10),
			strconv.FormatInt(l.Recipients, 10), strconv.FormatInt(l.Segments, 10), message.FormatMicros(l.Amount), st.Currency})
	}
	cw.Write([]string{"total", "", "", strconv.FormatInt(st.Totals.Messages, 10), strconv.FormatInt(st.Totals.Recipients, 10),
		strconv.FormatInt(st.Totals.Segments, 10), message.FormatMicros(st.Totals.Amount), st.Currency})
	cw.Flush()
	return cw.Error()
}
