package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// PutPlan implements store.Subscriptions.
func (s *Store) PutPlan(ctx context.Context, p *store.Plan) error {
	addons, err := json.Marshal(nonNilAddons(p.Addons))
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO plans (id, name, currency, monthly_fee, included_seats, seat_price, addons, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, currency = excluded.currency, monthly_fee = excluded.monthly_fee,
			included_seats = excluded.included_seats, seat_price = excluded.seat_price, addons = excluded.addons, updated_at = excluded.updated_at`),
		p.ID, p.Name, p.Currency, p.MonthlyFee, p.IncludedSeats, p.SeatPrice, string(addons), micros(p.CreatedAt), micros(p.UpdatedAt)); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

func nonNilAddons(a []store.Addon) []store.Addon {
	if a == nil {
		return []store.Addon{}
	}
	return a
}

const planColumns = `id, name, currency, monthly_fee, included_seats, seat_price, addons, created_at, updated_at`

func scanPlan(row interface{ Scan(...any) error }) (*store.Plan, error) {
	var p store.Plan
	var addons string
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Name, &p.Currency, &p.MonthlyFee, &p.IncludedSeats, &p.SeatPrice, &addons, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(addons), &p.Addons); err != nil {
		return nil, fmt.Errorf("plan %s: add-ons: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// GetPlan implements store.Subscriptions.
func (s *Store) GetPlan(ctx context.Context, id string) (*store.Plan, error) {
	p, err := scanPlan(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+planColumns+` FROM plans WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	return p, nil
}

// Plans implements store.Subscriptions.
func (s *Store) Plans(ctx context.Context) ([]store.Plan, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+planColumns+` FROM plans ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing plans: %w", err)
	}
	defer rows.Close()
	out := []store.Plan{}
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing plans: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

const subColumns = `account_id, plan_id, status, addons, trial_credit, trial_ends_at, period_start, period_end, created_at, updated_at`

func scanSub(row interface{ Scan(...any) error }) (*store.Subscription, error) {
	var sb store.Subscription
	var addons string
	var trialEnds, ps, pe, created, updated int64
	if err := row.Scan(&sb.AccountID, &sb.PlanID, &sb.Status, &addons, &sb.TrialCredit, &trialEnds, &ps, &pe, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(addons), &sb.Addons); err != nil {
		return nil, fmt.Errorf("subscription of %s: add-ons: %w", sb.AccountID, err)
	}
	sb.TrialEndsAt, sb.PeriodStart, sb.PeriodEnd = fromMicros(trialEnds), fromMicros(ps), fromMicros(pe)
	sb.CreatedAt, sb.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &sb, nil
}

func (s *Store) putSub(ctx context.Context, tx *sql.Tx, sb *store.Subscription) error {
	addons := sb.Addons
	if addons == nil {
		addons = []string{}
	}
	raw, _ := json.Marshal(addons)
	if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO subscriptions (`+subColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET plan_id = excluded.plan_id, status = excluded.status, addons = excluded.addons,
			trial_credit = excluded.trial_credit, trial_ends_at = excluded.trial_ends_at, period_start = excluded.period_start,
			period_end = excluded.period_end, updated_at = excluded.updated_at`),
		sb.AccountID, sb.PlanID, sb.Status, string(raw), sb.TrialCredit, micros(sb.TrialEndsAt), micros(sb.PeriodStart), micros(sb.PeriodEnd),
		micros(sb.CreatedAt), micros(sb.UpdatedAt)); err != nil {
		return fmt.Errorf("writing subscription: %w", err)
	}
	return nil
}

// PutSubscription implements store.Subscriptions.
func (s *Store) PutSubscription(ctx context.Context, sb *store.Subscription, credit int64, idemKey string, notices []*store.Job) error {
	return s.inTx(ctx, "writing subscription", func(tx *sql.Tx) error {
		if err := s.putSub(ctx, tx, sb); err != nil {
			return err
		}
		if credit != 0 {
			if err := s.addLedger(ctx, tx, &store.LedgerEntry{AccountID: sb.AccountID, Kind: store.LedgerAdjustment, Amount: credit,
				Reference: "trial", Reason: "trial credit", Actor: "subscriptions", IdempotencyKey: idemKey, CreatedAt: sb.UpdatedAt}); err != nil {
				return err
			}
		}
		return s.addJobs(ctx, tx, notices)
	})
}

// GetSubscription implements store.Subscriptions.
func (s *Store) GetSubscription(ctx context.Context, accountID string) (*store.Subscription, error) {
	sb, err := scanSub(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+subColumns+` FROM subscriptions WHERE account_id = ?`), accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading subscription: %w", err)
	}
	return sb, nil
}

// Subscriptions implements store.Subscriptions.
func (s *Store) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+subColumns+` FROM subscriptions ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("listing subscriptions: %w", err)
	}
	defer rows.Close()
	var out []store.Subscription
	for rows.Next() {
		sb, err := scanSub(rows)
		if err != nil {
			return nil, fmt.Errorf("listing subscriptions: %w", err)
		}
		out = append(out, *sb)
	}
	return out, rows.Err()
}

const invoiceColumns = `id, account_id, seq, number, plan_id, period_start, period_end, currency, total, lines, status, issued_at, due_at,
	paid_at, failed_at, disputed_at, attempts, retry_at, notified, ledger_id, note`

func scanInvoice(row interface{ Scan(...any) error }) (*store.Invoice, error) {
	var v store.Invoice
	var lines string
	var ps, pe, issued, due, paid, failed, disputed, retry int64
	if err := row.Scan(&v.ID, &v.AccountID, &v.Seq, &v.Number, &v.PlanID, &ps, &pe, &v.Currency, &v.Total, &lines, &v.Status, &issued, &due,
		&paid, &failed, &disputed, &v.Attempts, &retry, &v.Notified, &v.LedgerID, &v.Note); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(lines), &v.Lines); err != nil {
		return nil, fmt.Errorf("invoice %s: lines: %w", v.ID, err)
	}
	v.PeriodStart, v.PeriodEnd, v.IssuedAt, v.DueAt = fromMicros(ps), fromMicros(pe), fromMicros(issued), fromMicros(due)
	v.PaidAt, v.FailedAt, v.DisputedAt, v.RetryAt = fromMicros(paid), fromMicros(failed), fromMicros(disputed), fromMicros(retry)
	return &v, nil
}

// IssueInvoice implements store.Subscriptions.
func (s *Store) IssueInvoice(ctx context.Context, inv *store.Invoice, sub *store.Subscription, seats *store.Seats, notices func(*store.Invoice) []*store.Job) error {
	lines, err := json.Marshal(inv.Lines)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "issuing invoice", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM invoices WHERE account_id = ? AND period_start = ? AND status <> ?`),
			inv.AccountID, micros(inv.PeriodStart), store.InvoiceVoid).Scan(&n); err != nil {
			return fmt.Errorf("issuing invoice: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(MAX(seq), 0) + 1 FROM invoices WHERE account_id = ?`), inv.AccountID).Scan(&inv.Seq); err != nil {
			return fmt.Errorf("numbering invoice: %w", err)
		}
		inv.Number = InvoiceNumber(inv.AccountID, inv.Seq)
		inv.Status, inv.PaidAt, inv.FailedAt, inv.Attempts = store.InvoicePaid, inv.IssuedAt, time.Time{}, 1
		if inv.Total > 0 {
			if err := s.chargeInvoice(ctx, tx, inv, inv.IssuedAt); errors.Is(err, store.ErrInsufficientBalance) {
				inv.Status, inv.PaidAt, inv.FailedAt = store.InvoiceFailed, time.Time{}, inv.IssuedAt
			} else if err != nil {
				return err
			}
		}
		if notices != nil {
			inv.Notified = map[bool]string{true: "issued", false: "failed"}[inv.Status == store.InvoicePaid]
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO invoices (`+invoiceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			inv.ID, inv.AccountID, inv.Seq, inv.Number, inv.PlanID, micros(inv.PeriodStart), micros(inv.PeriodEnd), inv.Currency, inv.Total, string(lines),
			inv.Status, micros(inv.IssuedAt), micros(inv.DueAt), micros(inv.PaidAt), micros(inv.FailedAt), micros(inv.DisputedAt), inv.Attempts,
			micros(inv.RetryAt), inv.Notified, inv.LedgerID, inv.Note); err != nil {
			return fmt.Errorf("issuing invoice: %w", err)
		}
		if sub != nil {
			if err := s.putSub(ctx, tx, sub); err != nil {
				return err
			}
		}
		if seats != nil {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO account_seats (account_id, seats, term_start, term_end, seat_price) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (account_id) DO UPDATE SET seats = excluded.seats, term_start = excluded.term_start, term_end = excluded.term_end, seat_price = excluded.seat_price`),
				seats.AccountID, seats.Seats, micros(seats.TermStart), micros(seats.TermEnd), seats.SeatPrice); err != nil {
				return fmt.Errorf("writing seats: %w", err)
			}
		}
		if notices == nil {
			return nil
		}
		return s.addJobs(ctx, tx, notices(inv))
	})
}

// InvoiceNumber is an invoice's number: the account's id and its invoice
// sequence, so that numbers run without gaps per account.
func InvoiceNumber(accountID string, seq int64) string {
	prefix := accountID
	if len(prefix) > 8 {
		prefix = prefix[:8]
	}
	return fmt.Sprintf("%s-%06d", strings.ToUpper(prefix), seq)
}

// chargeInvoice takes the invoice's total from the balance in tx.
func (s *Store) chargeInvoice(ctx context.Context, tx *sql.Tx, inv *store.Invoice, at time.Time) error {
	e := &store.LedgerEntry{AccountID: inv.AccountID, Kind: store.LedgerCharge, Amount: -inv.Total, Reference: "invoice:" + inv.ID,
		Reason: "invoice " + inv.Number, Actor: "subscriptions", IdempotencyKey: "invoice:" + inv.ID, CreatedAt: at}
	if err := s.addLedger(ctx, tx, e); err != nil {
		return err
	}
	inv.LedgerID = e.ID
	return nil
}

func (s *Store) txInvoice(ctx context.Context, tx *sql.Tx, accountID, id string) (*store.Invoice, error) {
	v, err := scanInvoice(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+invoiceColumns+` FROM invoices WHERE account_id = ? AND id = ?`), accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading invoice: %w", err)
	}
	return v, nil
}

func (s *Store) updateInvoice(ctx context.Context, tx *sql.Tx, v *store.Invoice) error {
	if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE invoices SET status = ?, paid_at = ?, failed_at = ?, disputed_at = ?, attempts = ?, retry_at = ?,
		notified = ?, ledger_id = ?, note = ? WHERE account_id = ? AND id = ?`),
		v.Status, micros(v.PaidAt), micros(v.FailedAt), micros(v.DisputedAt), v.Attempts, micros(v.RetryAt), v.Notified, v.LedgerID, v.Note,
		v.AccountID, v.ID); err != nil {
		return fmt.Errorf("updating invoice: %w", err)
	}
	return nil
}

// RetryInvoice implements store.Subscriptions.
func (s *Store) RetryInvoice(ctx context.Context, accountID, id string, now, retryAt time.Time, notices []*store.Job) (bool, error) {
	paid := false
	err := s.inTx(ctx, "retrying invoice", func(tx *sql.Tx) error {
		v, err := s.txInvoice(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if v.Status != store.InvoiceFailed {
			return store.ErrConflict
		}
		v.Attempts++
		switch err := s.chargeInvoice(ctx, tx, v, now); {
		case errors.Is(err, store.ErrInsufficientBalance):
			v.RetryAt = retryAt
			return s.updateInvoice(ctx, tx, v) // the failed attempt is counted; no notices
		case err != nil:
			return err
		}
		paid = true
		v.Status, v.PaidAt, v.RetryAt = store.InvoicePaid, now, time.Time{}
		if err := s.updateInvoice(ctx, tx, v); err != nil {
			return err
		}
		return s.addJobs(ctx, tx, notices)
	})
	return paid, err
}

// SetInvoiceStatus implements store.Subscriptions.
func (s *Store) SetInvoiceStatus(ctx context.Context, accountID, id, status, note string, now time.Time, notices []*store.Job) (*store.Invoice, error) {
	var out *store.Invoice
	err := s.inTx(ctx, "changing invoice", func(tx *sql.Tx) error {
		v, err := s.txInvoice(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if v.Status == status {
			out = v
			return nil
		}
		// failed ⇄ disputed, either → void; paid and void are final, and
		// payment is a charge (RetryInvoice).
		switch {
		case v.Status == store.InvoicePaid || v.Status == store.InvoiceVoid:
			return store.ErrConflict
		case status != store.InvoiceFailed && status != store.InvoiceDisputed && status != store.InvoiceVoid:
			return fmt.Errorf("invoice status %q", status)
		}
		if v.Status == store.InvoiceDisputed && !v.DisputedAt.IsZero() && !v.FailedAt.IsZero() {
			v.FailedAt = v.FailedAt.Add(now.Sub(v.DisputedAt)) // the dispute paused the dunning clock
			if !v.RetryAt.IsZero() {
				v.RetryAt = v.RetryAt.Add(now.Sub(v.DisputedAt))
			}
		}
		v.DisputedAt = time.Time{}
		if status == store.InvoiceDisputed {
			v.DisputedAt = now
		}
		v.Status = status
		if note != "" {
			v.Note = note
		}
		if err := s.updateInvoice(ctx, tx, v); err != nil {
			return err
		}
		out = v
		return s.addJobs(ctx, tx, notices)
	})
	return out, err
}

// MarkInvoiceNotified implements store.Subscriptions.
func (s *Store) MarkInvoiceNotified(ctx context.Context, accountID, id, step string, notices []*store.Job) (bool, error) {
	done := false
	err := s.inTx(ctx, "recording a dunning notice", func(tx *sql.Tx) error {
		v, err := s.txInvoice(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if hasStep(v.Notified, step) {
			return nil
		}
		v.Notified = addStep(v.Notified, step)
		if err := s.updateInvoice(ctx, tx, v); err != nil {
			return err
		}
		done = true
		return s.addJobs(ctx, tx, notices)
	})
	return done, err
}

func hasStep(list, step string) bool {
	for _, s := range strings.Split(list, ",") {
		if s == step {
			return true
		}
	}
	return false
}

func addStep(list, step string) string {
	if list == "" {
		return step
	}
	return list + "," + step
}

// GetInvoice implements store.Subscriptions.
func (s *Store) GetInvoice(ctx context.Context, accountID, id string) (*store.Invoice, error) {
	v, err := scanInvoice(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+invoiceColumns+` FROM invoices WHERE account_id = ? AND id = ?`), accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading invoice: %w", err)
	}
	return v, nil
}

// Invoices implements store.Subscriptions.
func (s *Store) Invoices(ctx context.Context, accountID, status string) ([]store.Invoice, error) {
	q := `SELECT ` + invoiceColumns + ` FROM invoices WHERE 1 = 1`
	var args []any
	if accountID != "" {
		q += ` AND account_id = ?`
		args = append(args, accountID)
	}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q+` ORDER BY issued_at DESC, seq DESC`), args...)
	if err != nil {
		return nil, fmt.Errorf("listing invoices: %w", err)
	}
	defer rows.Close()
	out := []store.Invoice{}
	for rows.Next() {
		v, err := scanInvoice(rows)
		if err != nil {
			return nil, fmt.Errorf("listing invoices: %w", err)
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

const lifeColumns = `account_id, state, reason, suspended_at, delete_at, deleted_at, archive_until, notified, updated_at`

func scanLife(row interface{ Scan(...any) error }) (*store.Lifecycle, error) {
	var l store.Lifecycle
	var susp, del, deleted, archive, updated int64
	if err := row.Scan(&l.AccountID, &l.State, &l.Reason, &susp, &del, &deleted, &archive, &l.Notified, &updated); err != nil {
		return nil, err
	}
	l.SuspendedAt, l.DeleteAt, l.DeletedAt, l.ArchiveUntil, l.UpdatedAt = fromMicros(susp), fromMicros(del), fromMicros(deleted), fromMicros(archive), fromMicros(updated)
	return &l, nil
}

func (s *Store) putLife(ctx context.Context, tx *sql.Tx, accountID string, l *store.Lifecycle) error {
	if l == nil {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM account_lifecycle WHERE account_id = ?`), accountID); err != nil {
			return fmt.Errorf("reactivating account: %w", err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO account_lifecycle (`+lifeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, suspended_at = excluded.suspended_at,
			delete_at = excluded.delete_at, deleted_at = excluded.deleted_at, archive_until = excluded.archive_until,
			notified = excluded.notified, updated_at = excluded.updated_at`),
		accountID, l.State, l.Reason, micros(l.SuspendedAt), micros(l.DeleteAt), micros(l.DeletedAt), micros(l.ArchiveUntil), l.Notified,
		micros(l.UpdatedAt)); err != nil {
		return fmt.Errorf("writing account lifecycle: %w", err)
	}
	return nil
}

// PutLifecycle implements store.Subscriptions.
func (s *Store) PutLifecycle(ctx context.Context, accountID string, l *store.Lifecycle, notices []*store.Job) error {
	return s.inTx(ctx, "writing account lifecycle", func(tx *sql.Tx) error {
		if err := s.putLife(ctx, tx, accountID, l); err != nil {
			return err
		}
		return s.addJobs(ctx, tx, notices)
	})
}

// GetLifecycle implements store.Subscriptions.
func (s *Store) GetLifecycle(ctx context.Context, accountID string) (*store.Lifecycle, error) {
	l, err := scanLife(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+lifeColumns+` FROM account_lifecycle WHERE account_id = ?`), accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading account lifecycle: %w", err)
	}
	return l, nil
}

// Lifecycles implements store.Subscriptions.
func (s *Store) Lifecycles(ctx context.Context) ([]store.Lifecycle, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+lifeColumns+` FROM account_lifecycle ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("listing account lifecycles: %w", err)
	}
	defer rows.Close()
	var out []store.Lifecycle
	for rows.Next() {
		l, err := scanLife(rows)
		if err != nil {
			return nil, fmt.Errorf("listing account lifecycles: %w", err)
		}
		out = append(out, *l)
	}
	return out, rows.Err()
}

// LastActivity implements store.Subscriptions: the newest message
// (messages_account_created) or key use.
func (s *Store) LastActivity(ctx context.Context, accountID string) (time.Time, error) {
	var msg, key sql.NullInt64
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT MAX(created_at) FROM messages WHERE account_id = ?`), accountID).Scan(&msg); err != nil {
		return time.Time{}, fmt.Errorf("reading last activity: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT MAX(last_used_at) FROM access_keys WHERE account_id = ?`), accountID).Scan(&key); err != nil {
		return time.Time{}, fmt.Errorf("reading last activity: %w", err)
	}
	return fromMicros(max(msg.Int64, key.Int64)), nil
}
