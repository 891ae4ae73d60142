package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// AcceptCharged stores and charges messages in one transaction.
func (s *Store) AcceptCharged(ctx context.Context, items []*store.Accept) error {
	if len(items) == 0 {
		return nil
	}
	for _, it := range items {
		if it.Message != nil {
			if err := s.ensureScopes(ctx, it.Message.AccountID); err != nil {
				return err
			}
		}
	}
	return s.acceptTx(ctx, "accepting messages", len(items), func(ctx context.Context, tx *sql.Tx) error {
		// Charge each account's messages of the batch together: one balance
		// update and one counter update per limit, where they all fit. When
		// they do not, charge them one by one to find which do.
		var ledger []any
		groups := byAccount(items)
		if err := s.claimFallbackItems(ctx, tx, items); err != nil { // fallbacks whose claim is lost get Err
			return err
		}
		for _, group := range groups {
			if group = unrefused(group); len(group) == 0 {
				continue
			}
			if err := s.openConversations(ctx, tx, group); err != nil {
				return err
			}
			rows, handled, err := s.chargeGroup(ctx, tx, group)
			if err != nil {
				return err
			}
			if handled {
				ledger = append(ledger, rows...)
				continue
			}
			// One by one, each opening its conversations just before its
			// charge and closing them again if it is refused, so that no
			// later message rides on a conversation nobody paid for.
			for _, it := range group {
				if err := s.dropConversations(ctx, tx, it); err != nil {
					return err
				}
			}
			for _, it := range group {
				if err := s.openConversations(ctx, tx, []*store.Accept{it}); err != nil {
					return err
				}
				if err := s.charge(ctx, tx, it); err != nil {
					return err
				}
				if it.Err != nil {
					if err := s.dropConversations(ctx, tx, it); err != nil {
						return err
					}
				}
			}
		}
		if err := s.insertLedger.exec(ctx, tx, &s.d, ledger); err != nil {
			return fmt.Errorf("writing ledger: %w", err)
		}

		ok := make([]*message.Message, 0, len(items))
		var jobs []any
		var held []*store.Accept
		var leased map[string]*store.Accept
		for _, it := range items {
			if it.Err != nil {
				continue
			}
			ok = append(ok, it.Message)
			jobs = append(jobs, billingJobs(it)...)
			if it.Hold != nil {
				held = append(held, it)
			} else if it.Lease != nil && it.Message.Direction != message.MO {
				if leased == nil {
					leased = map[string]*store.Accept{}
				}
				leased[it.Message.ID] = it
			}
		}
		if err := s.writeMessages(ctx, tx, ok, leased); err != nil {
			return err
		}
		if err := s.insertLeasedJobs(ctx, tx, leased); err != nil {
			return err
		}
		if err := s.holdMessages(ctx, tx, held); err != nil {
			return err
		}
		if err := s.insertFallbacks(ctx, tx, items); err != nil {
			return err
		}
		if err := s.settleFallbackItems(ctx, tx, items); err != nil {
			return err
		}
		if len(jobs) > 0 {
			if err := s.insertJobs.exec(ctx, tx, &s.d, jobs); err != nil {
				return fmt.Errorf("enqueueing billing jobs: %w", err)
			}
		}
		return nil
	})
}

// byAccount groups items by account, keeping their order.
func byAccount(items []*store.Accept) [][]*store.Accept {
	index := map[string]int{}
	var groups [][]*store.Accept
	for _, it := range items {
		it.Err, it.Alerts, it.TopUp = nil, nil, nil
		i, ok := index[it.Message.AccountID]
		if !ok {
			i = len(groups)
			index[it.Message.AccountID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], it)
	}
	return groups
}

// sameLimits reports whether every item carries the same usage limits.
func sameLimits(group []*store.Accept) bool {
	for _, it := range group[1:] {
		if len(it.Limits) != len(group[0].Limits) {
			return false
		}
		for i := range it.Limits {
			if it.Limits[i] != group[0].Limits[i] {
				return false
			}
		}
	}
	return true
}

// usageOf is what an item counts against a limit.
func usageOf(l store.UsageLimit, it *store.Accept) int64 {
	switch {
	case l.Metric == store.MetricSpend:
		return it.Charge
	case l.Channel != "" && l.Channel != it.Message.Channel:
		return 0
	}
	return it.Units
}

// chargeGroup charges one account's items together and returns their
// ledger rows. handled is false, with nothing changed, when the total does
// not fit the balance or a blocking limit (then each item is charged alone).
func (s *Store) chargeGroup(ctx context.Context, tx *sql.Tx, group []*store.Accept) (rows []any, handled bool, err error) {
	if !sameLimits(group) {
		return nil, false, nil
	}
	accountID, now := group[0].Message.AccountID, group[0].Message.CreatedAt
	var total int64
	for _, it := range group {
		total += it.Charge
	}
	var balance, threshold, amount int64
	var currency string
	var topUp bool
	if total > 0 {
		err := s.txQueryRow(ctx, tx, `UPDATE accounts SET balance = balance - ?
			WHERE id = ? AND balance - ? >= `+balanceFloor+`
			RETURNING balance, currency, topup_enabled, topup_threshold, topup_amount`, total, accountID, total).
			Scan(&balance, &currency, &topUp, &threshold, &amount)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("charging: %w", err)
		}
	}
	type counted struct {
		l    store.UsageLimit
		n    int64
		used int64
	}
	var done []counted
	for _, l := range group[0].Limits {
		var n int64
		for _, it := range group {
			n += usageOf(l, it)
		}
		if n == 0 {
			continue
		}
		used, ok, err := s.countUsage(ctx, tx, accountID, l, now, n)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			// Undo and let the items be charged one by one.
			for _, c := range done {
				if _, err := s.txExec(ctx, tx, `UPDATE usage_counters SET used = used - ?
					WHERE account_id = ? AND metric = ? AND channel = ? AND period = ? AND period_start = ?`,
					c.n, accountID, c.l.Metric, c.l.Channel, c.l.Period, micros(c.l.PeriodStart(now))); err != nil {
					return nil, false, fmt.Errorf("undoing usage: %w", err)
				}
			}
			if total > 0 {
				if _, err := s.txExec(ctx, tx, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, total, accountID); err != nil {
					return nil, false, fmt.Errorf("undoing charge: %w", err)
				}
			}
			return nil, false, nil
		}
		done = append(done, counted{l, n, used})
	}
	// Alerts go to the item that crossed each threshold.
	for _, c := range done {
		running := c.used - c.n
		for _, it := range group {
			before := running
			running += usageOf(c.l, it)
			for _, pct := range []int{80, 100} {
				if before*100 < int64(pct)*c.l.Limit && running*100 >= int64(pct)*c.l.Limit {
					res, err := s.txExec(ctx, tx, `INSERT INTO usage_alerts (account_id, metric, channel, period, period_start, threshold, created_at)
						VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
						accountID, c.l.Metric, c.l.Channel, c.l.Period, micros(c.l.PeriodStart(now)), pct, micros(it.Message.CreatedAt))
					if err != nil {
						return nil, false, fmt.Errorf("recording alert: %w", err)
					}
					if n, _ := res.RowsAffected(); n > 0 {
						it.Alerts = append(it.Alerts, store.Alert{Limit: c.l, PeriodStart: c.l.PeriodStart(now), Threshold: pct, Used: running})
					}
				}
			}
		}
	}
	if total == 0 {
		return nil, true, nil
	}
	// Each charge's balance after it: the final balance plus what later
	// items of the batch took.
	after := balance + total
	for _, it := range group {
		if it.Charge == 0 {
			continue
		}
		after -= it.Charge
		rows = append(rows, it.Message.AccountID, store.LedgerCharge, -it.Charge, currency, after, it.Message.ID, chargeReason(it), "api", "", micros(it.Message.CreatedAt))
	}
	if topUp && amount > 0 && balance < threshold {
		last := group[len(group)-1]
		t, err := s.requestAutoTopUp(ctx, tx, accountID, amount, currency, last.Message.CreatedAt)
		if err != nil {
			return nil, false, err
		}
		last.TopUp = t
	}
	return rows, true, nil
}

// requestAutoTopUp records an automatic top-up unless one is pending
// already (then it returns nil).
func (s *Store) requestAutoTopUp(ctx context.Context, tx *sql.Tx, accountID string, amount int64, currency string, at time.Time) (*store.TopUp, error) {
	t := &store.TopUp{ID: ids.New(), AccountID: accountID, Amount: amount, Currency: currency, Status: store.TopUpPending,
		Provider: "auto", Automatic: true, RequestedBy: "auto-topup", CreatedAt: at}
	res, err := s.txExec(ctx, tx, `INSERT INTO topups (id, account_id, amount, currency, status, provider, automatic, idempotency_key, requested_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		t.ID, t.AccountID, t.Amount, t.Currency, t.Status, t.Provider, t.Automatic, "", t.RequestedBy, micros(t.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("requesting top-up: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil // one is pending already
	}
	return t, nil
}

// billingJobs are the alert and top-up jobs an accepted item asks for.
func billingJobs(it *store.Accept) []any {
	var out []any
	now := micros(it.Message.CreatedAt)
	for _, a := range it.Alerts {
		payload := fmt.Sprintf(`{"metric":%q,"channel":%q,"period":%q,"periodStart":%q,"threshold":%d,"used":%d,"limit":%d,"policy":%q}`,
			a.Limit.Metric, a.Limit.Channel, a.Limit.Period, a.PeriodStart.Format(time.RFC3339), a.Threshold, a.Used, a.Limit.Limit, a.Limit.Policy)
		out = append(out, store.JobAlert, it.Message.AccountID, "", []byte(payload), 0, now, "", now)
	}
	if it.TopUp != nil {
		out = append(out, store.JobTopUp, it.Message.AccountID, "", []byte(fmt.Sprintf(`{"topup":%q}`, it.TopUp.ID)), 0, now, "", now)
	}
	return out
}

// ledgerColumns are written by bulk inserts of charges.
const ledgerColumns = `account_id, kind, amount, currency, balance_after, reference, reason, actor, idempotency_key, created_at`

// balanceFloor is the SQL for the lowest balance an account may reach.
const balanceFloor = `(CASE WHEN payment = 'postpaid' THEN -credit_limit ELSE 0 END)`

// charge deducts an item's price, counts its usage against the account's
// limits and notes alerts and automatic top-ups. A refusal is the item's
// Err (nothing of it stays written); a returned error aborts the batch.
func (s *Store) charge(ctx context.Context, tx *sql.Tx, it *store.Accept) error {
	m := it.Message
	var balance int64
	var currency string
	var topUp bool
	var threshold, amount int64
	if it.Charge > 0 {
		err := s.txQueryRow(ctx, tx, `UPDATE accounts SET balance = balance - ?
			WHERE id = ? AND balance - ? >= `+balanceFloor+`
			RETURNING balance, currency, topup_enabled, topup_threshold, topup_amount`, it.Charge, m.AccountID, it.Charge).
			Scan(&balance, &currency, &topUp, &threshold, &amount)
		if errors.Is(err, sql.ErrNoRows) {
			it.Err = store.ErrInsufficientBalance
			return nil
		}
		if err != nil {
			return fmt.Errorf("charging: %w", err)
		}
	}
	// Count usage; a blocking limit that would be exceeded undoes the
	// charge and what was already counted.
	type counted struct {
		l store.UsageLimit
		n int64
	}
	var done []counted
	undo := func() error {
		for _, c := range done {
			if _, err := s.txExec(ctx, tx, `UPDATE usage_counters SET used = used - ?
				WHERE account_id = ? AND metric = ? AND channel = ? AND period = ? AND period_start = ?`,
				c.n, m.AccountID, c.l.Metric, c.l.Channel, c.l.Period, micros(c.l.PeriodStart(m.CreatedAt))); err != nil {
				return fmt.Errorf("undoing usage: %w", err)
			}
		}
		if it.Charge > 0 {
			if _, err := s.txExec(ctx, tx, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, it.Charge, m.AccountID); err != nil {
				return fmt.Errorf("undoing charge: %w", err)
			}
		}
		return nil
	}
	for _, l := range it.Limits {
		n := usageOf(l, it)
		if n == 0 {
			continue
		}
		used, ok, err := s.countUsage(ctx, tx, m.AccountID, l, m.CreatedAt, n)
		if err != nil {
			return err
		}
		if !ok {
			it.Err = &store.LimitError{Limit: l}
			return undo()
		}
		done = append(done, counted{l, n})
		for _, pct := range []int{80, 100} {
			if (used-n)*100 < int64(pct)*l.Limit && used*100 >= int64(pct)*l.Limit {
				res, err := s.txExec(ctx, tx, `INSERT INTO usage_alerts (account_id, metric, channel, period, period_start, threshold, created_at)
					VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
					m.AccountID, l.Metric, l.Channel, l.Period, micros(l.PeriodStart(m.CreatedAt)), pct, micros(m.CreatedAt))
				if err != nil {
					return fmt.Errorf("recording alert: %w", err)
				}
				if n, _ := res.RowsAffected(); n > 0 {
					it.Alerts = append(it.Alerts, store.Alert{Limit: l, PeriodStart: l.PeriodStart(m.CreatedAt), Threshold: pct, Used: used})
				}
			}
		}
	}
	if it.Charge == 0 {
		return nil
	}
	if err := s.writeLedger(ctx, tx, &store.LedgerEntry{AccountID: m.AccountID, Kind: store.LedgerCharge, Amount: -it.Charge,
		Currency: currency, BalanceAfter: balance, Reference: m.ID, Reason: chargeReason(it), Actor: "api", CreatedAt: m.CreatedAt}); err != nil {
		return err
	}
	if topUp && amount > 0 && balance < threshold {
		// The first charge below the threshold asks; later ones find it pending.
		t, err := s.requestAutoTopUp(ctx, tx, m.AccountID, amount, currency, m.CreatedAt)
		if err != nil {
			return err
		}
		it.TopUp = t
	}
	return nil
}

// countUsage adds n to a counter; with the block policy only if the result
// stays within the limit (ok false otherwise, nothing added).
func (s *Store) countUsage(ctx context.Context, tx *sql.Tx, accountID string, l store.UsageLimit, at time.Time, n int64) (used int64, ok bool, err error) {
	start := micros(l.PeriodStart(at))
	q := `INSERT INTO usage_counters (account_id, metric, channel, period, period_start, used) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, metric, channel, period, period_start) DO UPDATE SET used = usage_counters.used + excluded.used`
	args := []any{accountID, l.Metric, l.Channel, l.Period, start, n}
	if l.Policy == store.PolicyBlock {
		if n > l.Limit {
			return 0, false, nil
		}
		q += ` WHERE usage_counters.used + excluded.used <= ?`
		args = append(args, l.Limit)
	}
	err = s.txQueryRow(ctx, tx, q+` RETURNING used`, args...).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("counting usage: %w", err)
	}
	return used, true, nil
}

func (s *Store) writeLedger(ctx context.Context, tx *sql.Tx, e *store.LedgerEntry) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	err := tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO ledger (account_id, kind, amount, currency, balance_after, reference, reason, actor, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		e.AccountID, e.Kind, e.Amount, e.Currency, e.BalanceAfter, e.Reference, e.Reason, e.Actor, e.IdempotencyKey, micros(e.CreatedAt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("writing ledger: %w", err)
	}
	return nil
}

// AddLedgerEntry records a movement and moves the balance with it.
func (s *Store) AddLedgerEntry(ctx context.Context, e *store.LedgerEntry) error {
	return s.inTx(ctx, "recording ledger entry", func(tx *sql.Tx) error {
		return s.addLedger(ctx, tx, e)
	})
}

func (s *Store) addLedger(ctx context.Context, tx *sql.Tx, e *store.LedgerEntry) error {
	if e.IdempotencyKey != "" {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM ledger WHERE account_id = ? AND idempotency_key = ?`),
			e.AccountID, e.IdempotencyKey).Scan(&n); err != nil {
			return fmt.Errorf("checking idempotency key: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
	}
	q := `UPDATE accounts SET balance = balance + ? WHERE id = ?`
	args := []any{e.Amount, e.AccountID}
	if e.Amount < 0 {
		q += ` AND balance + ? >= ` + balanceFloor
		args = append(args, e.Amount)
	}
	err := tx.QueryRowContext(ctx, s.d.rebind(q+` RETURNING balance, currency`), args...).Scan(&e.BalanceAfter, &e.Currency)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), e.AccountID).Scan(&n)
		if n == 0 {
			return store.ErrNotFound
		}
		return store.ErrInsufficientBalance
	}
	if err != nil {
		return fmt.Errorf("moving balance: %w", err)
	}
	return s.writeLedger(ctx, tx, e)
}

// Ledger lists an account's movements, newest first.
func (s *Store) Ledger(ctx context.Context, accountID string, limit, offset int) ([]store.LedgerEntry, error) {
	return s.ledger(ctx, `WHERE account_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`, accountID, limit, offset)
}

// LedgerBefore reads the ledger_account_id index (034) from the entry
// before downwards.
func (s *Store) LedgerBefore(ctx context.Context, accountID string, before int64, limit int) ([]store.LedgerEntry, error) {
	if before <= 0 {
		return s.ledger(ctx, `WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
	}
	return s.ledger(ctx, `WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, accountID, before, limit)
}

func (s *Store) ledger(ctx context.Context, where string, args ...any) ([]store.LedgerEntry, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, account_id, kind, amount, currency, balance_after, reference, reason, actor, idempotency_key, created_at
		FROM ledger `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("reading ledger: %w", err)
	}
	defer rows.Close()
	var out []store.LedgerEntry
	for rows.Next() {
		var e store.LedgerEntry
		var created int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.Kind, &e.Amount, &e.Currency, &e.BalanceAfter, &e.Reference, &e.Reason, &e.Actor, &e.IdempotencyKey, &created); err != nil {
			return nil, fmt.Errorf("reading ledger: %w", err)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LedgerSum recomputes an account's balance from its ledger.
func (s *Store) LedgerSum(ctx context.Context, accountID string) (int64, error) {
	var sum int64
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE account_id = ?`), accountID).Scan(&sum); err != nil {
		return 0, fmt.Errorf("summing ledger: %w", err)
	}
	return sum, nil
}

// UpsertPrices stores prices, all or none.
func (s *Store) UpsertPrices(ctx context.Context, ps []store.Price) error {
	return s.inTx(ctx, "storing prices", func(tx *sql.Tx) error {
		for _, p := range ps {
			_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO prices (account_id, channel, unit, country, prefix, currency, price, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (account_id, channel, unit, country, prefix, currency) DO UPDATE SET price = excluded.price, updated_at = excluded.updated_at`),
				p.AccountID, p.Channel, p.Unit, p.Country, p.Prefix, p.Currency, p.Price, micros(p.UpdatedAt))
			if err != nil {
				return fmt.Errorf("storing prices: %w", err)
			}
		}
		return nil
	})
}

// Prices lists every price.
func (s *Store) Prices(ctx context.Context) ([]store.Price, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT account_id, channel, unit, country, prefix, currency, price, updated_at FROM prices ORDER BY account_id, channel, unit, country, prefix`)
	if err != nil {
		return nil, fmt.Errorf("reading prices: %w", err)
	}
	defer rows.Close()
	var out []store.Price
	for rows.Next() {
		var p store.Price
		var updated int64
		if err := rows.Scan(&p.AccountID, &p.Channel, &p.Unit, &p.Country, &p.Prefix, &p.Currency, &p.Price, &updated); err != nil {
			return nil, fmt.Errorf("reading prices: %w", err)
		}
		p.UpdatedAt = fromMicros(updated)
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetUsageLimit creates or changes a limit.
func (s *Store) SetUsageLimit(ctx context.Context, l store.UsageLimit) error {
	_, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO usage_limits (account_id, metric, channel, period, limit_value, policy) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, metric, channel, period) DO UPDATE SET limit_value = excluded.limit_value, policy = excluded.policy`),
		l.AccountID, l.Metric, l.Channel, l.Period, l.Limit, l.Policy)
	if err != nil {
		return fmt.Errorf("setting usage limit: %w", err)
	}
	return nil
}

// DeleteUsageLimit removes a limit.
func (s *Store) DeleteUsageLimit(ctx context.Context, l store.UsageLimit) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM usage_limits WHERE account_id = ? AND metric = ? AND channel = ? AND period = ?`),
		l.AccountID, l.Metric, l.Channel, l.Period)
	if err != nil {
		return fmt.Errorf("deleting usage limit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// UsageLimits lists an account's limits.
func (s *Store) UsageLimits(ctx context.Context, accountID string) ([]store.UsageLimit, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT account_id, metric, channel, period, limit_value, policy FROM usage_limits
		WHERE account_id = ? ORDER BY metric, channel, period`), accountID)
	if err != nil {
		return nil, fmt.Errorf("reading usage limits: %w", err)
	}
	defer rows.Close()
	var out []store.UsageLimit
	for rows.Next() {
		var l store.UsageLimit
		if err := rows.Scan(&l.AccountID, &l.Metric, &l.Channel, &l.Period, &l.Limit, &l.Policy); err != nil {
			return nil, fmt.Errorf("reading usage limits: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Usage reports each limit with its current use.
func (s *Store) Usage(ctx context.Context, accountID string, now time.Time) ([]store.Usage, error) {
	limits, err := s.UsageLimits(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]store.Usage, len(limits))
	for i, l := range limits {
		u := store.Usage{UsageLimit: l, PeriodStart: l.PeriodStart(now)}
		err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT used FROM usage_counters
			WHERE account_id = ? AND metric = ? AND channel = ? AND period = ? AND period_start = ?`),
			accountID, l.Metric, l.Channel, l.Period, micros(u.PeriodStart)).Scan(&u.Used)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("reading usage: %w", err)
		}
		out[i] = u
	}
	return out, nil
}

// SetBilling changes an account's billing settings.
func (s *Store) SetBilling(ctx context.Context, a *store.Account) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE accounts SET payment = ?, credit_limit = ?, alert_url = ?, alert_emails = ?,
		topup_enabled = ?, topup_threshold = ?, topup_amount = ?, topup_consent = ? WHERE id = ?`),
		a.Payment, a.CreditLimit, a.AlertURL, strings.Join(a.AlertEmails, ","), a.TopUpEnabled, a.TopUpThreshold, a.TopUpAmount, a.TopUpConsent, a.ID)
	if err != nil {
		return fmt.Errorf("setting billing: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

const topUpColumns = `id, account_id, amount, currency, status, provider, automatic, idempotency_key, requested_by, created_at, settled_at`

func scanTopUp(row interface{ Scan(...any) error }) (*store.TopUp, error) {
	var t store.TopUp
	var created, settled int64
	if err := row.Scan(&t.ID, &t.AccountID, &t.Amount, &t.Currency, &t.Status, &t.Provider, &t.Automatic, &t.IdempotencyKey, &t.RequestedBy, &created, &settled); err != nil {
		return nil, err
	}
	t.CreatedAt, t.SettledAt = fromMicros(created), fromMicros(settled)
	return &t, nil
}

// CreateTopUp records a top-up request.
func (s *Store) CreateTopUp(ctx context.Context, t *store.TopUp) error {
	return s.inTx(ctx, "requesting top-up", func(tx *sql.Tx) error {
		if t.IdempotencyKey != "" {
			var n int
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM topups WHERE account_id = ? AND idempotency_key = ?`),
				t.AccountID, t.IdempotencyKey).Scan(&n); err != nil {
				return fmt.Errorf("requesting top-up: %w", err)
			}
			if n > 0 {
				return store.ErrConflict
			}
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO topups (`+topUpColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, t.AccountID, t.Amount, t.Currency, t.Status, t.Provider, t.Automatic, t.IdempotencyKey, t.RequestedBy, micros(t.CreatedAt), micros(t.SettledAt))
		if err != nil {
			return fmt.Errorf("requesting top-up: %w", err)
		}
		return nil
	})
}

// SettleTopUp confirms or cancels a pending top-up.
func (s *Store) SettleTopUp(ctx context.Context, id, status, actor string) (*store.TopUp, error) {
	if status != store.TopUpConfirmed && status != store.TopUpCancelled {
		return nil, fmt.Errorf("settling top-up: status %q", status)
	}
	var t *store.TopUp
	err := s.inTx(ctx, "settling top-up", func(tx *sql.Tx) error {
		var err error
		t, err = scanTopUp(tx.QueryRowContext(ctx, s.d.rebind(`UPDATE topups SET status = ?, settled_at = ? WHERE id = ? AND status = ?
			RETURNING `+topUpColumns), status, micros(time.Now()), id, store.TopUpPending))
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM topups WHERE id = ?`), id).Scan(&n)
			if n == 0 {
				return store.ErrNotFound
			}
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("settling top-up: %w", err)
		}
		if status != store.TopUpConfirmed {
			return nil
		}
		return s.addLedger(ctx, tx, &store.LedgerEntry{AccountID: t.AccountID, Kind: store.LedgerTopUp, Amount: t.Amount,
			Reference: t.ID, Reason: "top-up confirmed", Actor: actor, IdempotencyKey: "topup:" + t.ID})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// TopUps lists an account's top-ups, newest first.
func (s *Store) TopUps(ctx context.Context, accountID string) ([]store.TopUp, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+topUpColumns+` FROM topups WHERE account_id = ? ORDER BY created_at DESC, id DESC`), accountID)
	if err != nil {
		return nil, fmt.Errorf("listing top-ups: %w", err)
	}
	defer rows.Close()
	var out []store.TopUp
	for rows.Next() {
		t, err := scanTopUp(rows)
		if err != nil {
			return nil, fmt.Errorf("listing top-ups: %w", err)
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// microsPerDay buckets microsecond times into UTC days.
const microsPerDay = int64(24 * time.Hour / time.Microsecond)
