package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

const stockColumns = `i.number, i.country, i.region, i.locality, i.type, i.features, i.monthly_price, i.created_at`

// ImportStock implements store.Numbers.
func (s *Store) ImportStock(ctx context.Context, ns []store.StockNumber) (int, error) {
	added := 0
	err := s.inTx(ctx, "importing numbers", func(tx *sql.Tx) error {
		added = 0
		for _, n := range ns {
			res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE number_inventory SET country = ?, region = ?, locality = ?, type = ?, features = ?, monthly_price = ? WHERE number = ?`),
				n.Country, n.Region, n.Locality, n.Type, strings.Join(n.Features, ","), n.MonthlyPrice, n.Number)
			if err != nil {
				return fmt.Errorf("importing number %s: %w", n.Number, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO number_inventory (number, country, region, locality, type, features, monthly_price, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				n.Number, n.Country, n.Region, n.Locality, n.Type, strings.Join(n.Features, ","), n.MonthlyPrice, micros(n.CreatedAt)); err != nil {
				return fmt.Errorf("importing number %s: %w", n.Number, err)
			}
			added++
		}
		return nil
	})
	return added, err
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func scanStock(sc interface{ Scan(...any) error }, n *store.StockNumber, extra ...any) error {
	var features string
	var created int64
	if err := sc.Scan(append([]any{&n.Number, &n.Country, &n.Region, &n.Locality, &n.Type, &features, &n.MonthlyPrice, &created}, extra...)...); err != nil {
		return err
	}
	n.Features, n.CreatedAt = splitList(features), fromMicros(created)
	return nil
}

// likeEscape escapes LIKE's wildcards (patterns are digits, but be safe).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SearchStock implements store.Numbers.
func (s *Store) SearchStock(ctx context.Context, f store.StockFilter) ([]store.StockNumber, error) {
	q := `SELECT ` + stockColumns + `, COALESCE(n.account_id, '') FROM number_inventory i LEFT JOIN numbers n ON n.number = i.number WHERE 1 = 1`
	var args []any
	if f.Country != "" {
		q += ` AND i.country = ?`
		args = append(args, f.Country)
	}
	if f.Type != "" {
		q += ` AND i.type = ?`
		args = append(args, f.Type)
	}
	for _, ft := range f.Features {
		q += ` AND (',' || i.features || ',') LIKE ? ESCAPE '\'`
		args = append(args, "%,"+likeEscape(ft)+",%")
	}
	if f.Pattern != "" {
		// SQL narrows to "anywhere"; the position is checked below.
		q += ` AND i.number LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscape(f.Pattern)+"%")
	}
	if f.Available {
		q += ` AND n.number IS NULL`
	}
	q += ` ORDER BY i.number`
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("searching numbers: %w", err)
	}
	defer rows.Close()
	out := []store.StockNumber{}
	for rows.Next() {
		var n store.StockNumber
		if err := scanStock(rows, &n, &n.AccountID); err != nil {
			return nil, fmt.Errorf("searching numbers: %w", err)
		}
		if f.Pattern != "" && !matchPattern(n, f.Pattern, f.Match) {
			continue
		}
		out = append(out, n)
		if f.Limit > 0 && len(out) >= f.Limit {
			break
		}
	}
	return out, rows.Err()
}

// matchPattern places the pattern: "start" at the number's start, "end"
// at its end, else anywhere.
func matchPattern(n store.StockNumber, pattern, match string) bool {
	switch match {
	case "end":
		return strings.HasSuffix(n.Number, pattern)
	case "start":
		return strings.HasPrefix(n.Number, pattern)
	}
	return strings.Contains(n.Number, pattern)
}

func (s *Store) addNumberEvent(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, e store.NumberEvent) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	if _, err := ex.ExecContext(ctx, s.d.rebind(`INSERT INTO number_history (number, account_id, event, detail, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
		e.Number, e.AccountID, e.Event, e.Detail, e.Actor, micros(e.CreatedAt)); err != nil {
		return fmt.Errorf("recording number event: %w", err)
	}
	return nil
}

// AddNumberEvent implements store.Numbers.
func (s *Store) AddNumberEvent(ctx context.Context, e store.NumberEvent) error {
	return s.addNumberEvent(ctx, s.w, e)
}

// NumberHistory implements store.Numbers.
func (s *Store) NumberHistory(ctx context.Context, number string) ([]store.NumberEvent, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT number, account_id, event, detail, actor, created_at FROM number_history WHERE number = ? ORDER BY id`), number)
	if err != nil {
		return nil, fmt.Errorf("reading number history: %w", err)
	}
	defer rows.Close()
	out := []store.NumberEvent{}
	for rows.Next() {
		var e store.NumberEvent
		var at int64
		if err := rows.Scan(&e.Number, &e.AccountID, &e.Event, &e.Detail, &e.Actor, &at); err != nil {
			return nil, fmt.Errorf("reading number history: %w", err)
		}
		e.CreatedAt = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PurchaseNumber implements store.Numbers.
func (s *Store) PurchaseNumber(ctx context.Context, p store.NumberPurchase) error {
	return s.inTx(ctx, "purchasing number", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM number_inventory WHERE number = ?`), p.Number).Scan(&n); err != nil {
			return fmt.Errorf("purchasing number: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM numbers WHERE number = ?`), p.Number).Scan(&n); err != nil {
			return fmt.Errorf("purchasing number: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
		if p.Price > 0 {
			e := &store.LedgerEntry{AccountID: p.AccountID, Kind: store.LedgerCharge, Amount: -p.Price, Reference: "number:" + p.Number,
				Reason: fmt.Sprintf("number %s, %d month(s)", p.Number, p.IntervalMonths), Actor: "api", CreatedAt: p.At,
				IdempotencyKey: fmt.Sprintf("number:%s:%d", p.Number, micros(p.At))}
			if err := s.addLedger(ctx, tx, e); err != nil {
				return err
			}
		} else if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), p.AccountID).Scan(&n); err != nil || n == 0 {
			if err != nil {
				return fmt.Errorf("purchasing number: %w", err)
			}
			return store.ErrNotFound
		}
		// A purchase of the same number at the same time: one inserts,
		// the other finds the conflict (and its charge rolls back).
		res, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO numbers (number, account_id, created_at, interval_months, renewal_at, last_traffic_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO NOTHING`),
			p.Number, p.AccountID, micros(p.At), p.IntervalMonths, micros(p.RenewalAt), micros(p.At))
		if err != nil {
			return fmt.Errorf("purchasing number: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return store.ErrConflict
		}
		return s.addNumberEvent(ctx, tx, store.NumberEvent{Number: p.Number, AccountID: p.AccountID, Event: store.NumberPurchased,
			Detail: fmt.Sprintf("price %s, renewal %s", message.FormatMicros(p.Price), p.RenewalAt.UTC().Format(time.RFC3339)), Actor: "api", CreatedAt: p.At})
	})
}

const ownedColumns = `n.number, n.account_id, n.created_at, n.tags, n.inbound_url, n.interval_months, n.renewal_at, n.unpaid_at, n.last_traffic_at, n.idle_notice_at,
	COALESCE(i.country, ''), COALESCE(i.region, ''), COALESCE(i.locality, ''), COALESCE(i.type, ''), COALESCE(i.features, ''), COALESCE(i.monthly_price, 0)`

func scanOwned(sc interface{ Scan(...any) error }) (*store.OwnedNumber, error) {
	var o store.OwnedNumber
	var created, renewal, unpaid, traffic, notice int64
	var tags, features string
	if err := sc.Scan(&o.Number.Number, &o.AccountID, &created, &tags, &o.InboundURL, &o.IntervalMonths, &renewal, &unpaid, &traffic, &notice,
		&o.Stock.Country, &o.Stock.Region, &o.Stock.Locality, &o.Stock.Type, &features, &o.Stock.MonthlyPrice); err != nil {
		return nil, err
	}
	o.CreatedAt, o.RenewalAt, o.UnpaidAt, o.LastTrafficAt, o.IdleNoticeAt = fromMicros(created), fromMicros(renewal), fromMicros(unpaid), fromMicros(traffic), fromMicros(notice)
	o.Tags, o.Stock.Features = splitList(tags), splitList(features)
	o.Stock.Number, o.Stock.AccountID = o.Number.Number, o.AccountID
	return &o, nil
}

// OwnedNumbers implements store.Numbers.
func (s *Store) OwnedNumbers(ctx context.Context, accountID string) ([]store.OwnedNumber, error) {
	q, args := `SELECT `+ownedColumns+` FROM numbers n LEFT JOIN number_inventory i ON i.number = n.number`, []any{}
	if accountID != "" {
		q += ` WHERE n.account_id = ?`
		args = append(args, accountID)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q+` ORDER BY n.number`), args...)
	if err != nil {
		return nil, fmt.Errorf("listing numbers: %w", err)
	}
	defer rows.Close()
	out := []store.OwnedNumber{}
	for rows.Next() {
		o, err := scanOwned(rows)
		if err != nil {
			return nil, fmt.Errorf("listing numbers: %w", err)
		}
		out = append(out, *o)
	}
	return out, rows.Err()
}

// OwnedNumber implements store.Numbers.
func (s *Store) OwnedNumber(ctx context.Context, accountID, number string) (*store.OwnedNumber, error) {
	q, args := `SELECT `+ownedColumns+` FROM numbers n LEFT JOIN number_inventory i ON i.number = n.number WHERE n.number = ?`, []any{number}
	if accountID != "" {
		q += ` AND n.account_id = ?`
		args = append(args, accountID)
	}
	o, err := scanOwned(s.r.QueryRowContext(ctx, s.d.rebind(q), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading number: %w", err)
	}
	return o, nil
}

// UpdateNumber implements store.Numbers.
func (s *Store) UpdateNumber(ctx context.Context, accountID, number string, u store.NumberUpdate) error {
	sets, args := []string{}, []any{}
	if u.Tags != nil {
		sets, args = append(sets, "tags = ?"), append(args, strings.Join(*u.Tags, ","))
	}
	if u.InboundURL != nil {
		sets, args = append(sets, "inbound_url = ?"), append(args, *u.InboundURL)
	}
	if len(sets) == 0 {
		_, err := s.OwnedNumber(ctx, accountID, number)
		return err
	}
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE numbers SET `+strings.Join(sets, ", ")+` WHERE number = ? AND account_id = ?`), append(args, number, accountID)...)
	if err != nil {
		return fmt.Errorf("updating number: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ReleaseNumber implements store.Numbers.
func (s *Store) ReleaseNumber(ctx context.Context, accountID, number string, ev store.NumberEvent, onlyIdleSince time.Time) error {
	return s.inTx(ctx, "releasing number", func(tx *sql.Tx) error {
		q, args := `DELETE FROM numbers WHERE number = ?`, []any{number}
		if accountID != "" {
			q += ` AND account_id = ?`
			args = append(args, accountID)
		}
		if !onlyIdleSince.IsZero() {
			q += ` AND last_traffic_at < ? AND created_at < ?`
			args = append(args, micros(onlyIdleSince), micros(onlyIdleSince))
		}
		q += ` RETURNING account_id`
		var owner string
		err := tx.QueryRowContext(ctx, s.d.rebind(q), args...).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("releasing number: %w", err)
		}
		ev.Number, ev.AccountID = number, owner
		return s.addNumberEvent(ctx, tx, ev)
	})
}

// RenewNumber implements store.Numbers.
func (s *Store) RenewNumber(ctx context.Context, n *store.OwnedNumber, price int64, next, at time.Time) error {
	return s.inTx(ctx, "renewing number", func(tx *sql.Tx) error {
		if price > 0 {
			e := &store.LedgerEntry{AccountID: n.AccountID, Kind: store.LedgerCharge, Amount: -price, Reference: "number:" + n.Number.Number,
				Reason: fmt.Sprintf("number %s renewed, %d month(s)", n.Number.Number, n.IntervalMonths), Actor: "renewal", CreatedAt: at,
				IdempotencyKey: fmt.Sprintf("number:%s:%d", n.Number.Number, micros(n.RenewalAt))}
			if err := s.addLedger(ctx, tx, e); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE numbers SET renewal_at = ?, unpaid_at = 0 WHERE number = ? AND account_id = ? AND renewal_at = ?`),
			micros(next), n.Number.Number, n.AccountID, micros(n.RenewalAt))
		if err != nil {
			return fmt.Errorf("renewing number: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return store.ErrConflict // renewed or released meanwhile: the charge rolls back
		}
		return s.addNumberEvent(ctx, tx, store.NumberEvent{Number: n.Number.Number, AccountID: n.AccountID, Event: store.NumberRenewed,
			Detail: fmt.Sprintf("price %s, renewal %s", message.FormatMicros(price), next.UTC().Format(time.RFC3339)), Actor: "renewal", CreatedAt: at})
	})
}

// markNumber sets a time column that is still 0, with an event and a job.
func (s *Store) markNumber(ctx context.Context, column string, n *store.OwnedNumber, at time.Time, ev store.NumberEvent, job *store.Job) error {
	return s.inTx(ctx, "marking number", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE numbers SET `+column+` = ? WHERE number = ? AND account_id = ? AND `+column+` = 0`),
			micros(at), n.Number.Number, n.AccountID)
		if err != nil {
			return fmt.Errorf("marking number: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return store.ErrConflict
		}
		if job != nil {
			if err := s.addJobs(ctx, tx, []*store.Job{job}); err != nil {
				return err
			}
		}
		ev.Number, ev.AccountID, ev.CreatedAt = n.Number.Number, n.AccountID, at
		return s.addNumberEvent(ctx, tx, ev)
	})
}

// MarkNumberUnpaid implements store.Numbers.
func (s *Store) MarkNumberUnpaid(ctx context.Context, n *store.OwnedNumber, at time.Time, notice *store.Job) error {
	return s.markNumber(ctx, "unpaid_at", n, at, store.NumberEvent{Event: store.NumberRenewalFailed, Detail: "insufficient balance", Actor: "renewal"}, notice)
}

// MarkNumberIdle implements store.Numbers.
func (s *Store) MarkNumberIdle(ctx context.Context, n *store.OwnedNumber, at time.Time, notice *store.Job) error {
	return s.markNumber(ctx, "idle_notice_at", n, at, store.NumberEvent{Event: store.NumberIdleNotice,
		Detail: "no traffic since " + lastTraffic(n).Format(time.RFC3339), Actor: "reclamation"}, notice)
}

func lastTraffic(n *store.OwnedNumber) time.Time {
	if n.LastTrafficAt.After(n.CreatedAt) {
		return n.LastTrafficAt.UTC()
	}
	return n.CreatedAt.UTC()
}

// TouchNumber implements store.Numbers: it also withdraws a pending
// reclamation notice (the number is in use again).
func (s *Store) TouchNumber(ctx context.Context, number string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE numbers SET last_traffic_at = ?, idle_notice_at = 0 WHERE number = ? AND last_traffic_at < ?`),
		micros(at), number, micros(at)); err != nil {
		return fmt.Errorf("recording number traffic: %w", err)
	}
	return nil
}

// LastOutbound implements store.Numbers.
func (s *Store) LastOutbound(ctx context.Context, accountID, number string, since time.Time) (time.Time, error) {
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT MAX(created_at) FROM messages WHERE account_id = ? AND created_at >= ? AND direction = 'mt' AND (originator = ? OR originator = ?)`),
		accountID, micros(since), number, "+"+number).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading a number's last outbound: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromMicros(at.Int64), nil
}
