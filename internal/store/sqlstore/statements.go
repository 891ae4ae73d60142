package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Statements read the roll-up of migration 059 (statement_counts and the
// changes not folded yet), so that a month's statement costs a few rows per
// day, channel and country instead of a pass over every recipient. A range
// that does not start and end at midnight UTC, which the roll-up's days
// cannot split, is summed from the recipients as before.

// totalsCountry is the roll-up's row of a day's outgoing messages, the
// statement's total (a message with recipients in two countries is on two
// lines but counted once there).
const totalsCountry = "*"

// Statement sums sent messages by day, channel and country.
func (s *Store) Statement(ctx context.Context, accountID string, from, until time.Time) ([]store.StatementLine, int64, error) {
	f, u := micros(from), micros(until)
	if f%microsPerDay != 0 || u%microsPerDay != 0 {
		return s.StatementFromRecipients(ctx, accountID, from, until)
	}
	// Folded rows and pending changes are summed per key in the database;
	// the lines are the keys' sums per day, channel and country.
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT day, channel, country, currency, SUM(messages), SUM(recipients), SUM(parts), SUM(amount) FROM (
			SELECT day, channel, country, currency, messages, recipients, parts, amount FROM statement_counts WHERE account_id = ? AND day >= ? AND day < ?
			UNION ALL
			SELECT day, channel, country, currency, messages, recipients, parts, amount FROM statement_count_deltas WHERE account_id = ? AND day >= ? AND day < ?
		) c GROUP BY day, channel, country, currency ORDER BY day, channel, country, currency`),
		accountID, f/microsPerDay, u/microsPerDay, accountID, f/microsPerDay, u/microsPerDay)
	if err != nil {
		return nil, 0, fmt.Errorf("building statement: %w", err)
	}
	defer rows.Close()
	var (
		out      []store.StatementLine
		total    int64
		cur      *store.StatementLine
		curDay   int64
		haveLine bool
	)
	emit := func() {
		if haveLine && cur.Recipients != 0 {
			out = append(out, *cur)
		}
		haveLine = false
	}
	for rows.Next() {
		var day, messages, recipients, parts, amount int64
		var channel, country, currency string
		if err := rows.Scan(&day, &channel, &country, &currency, &messages, &recipients, &parts, &amount); err != nil {
			return nil, 0, fmt.Errorf("building statement: %w", err)
		}
		if country == totalsCountry {
			total += messages
			continue
		}
		if !haveLine || day != curDay || channel != cur.Channel || country != cur.Country {
			emit()
			cur, curDay, haveLine = &store.StatementLine{Day: fromMicros(day * microsPerDay), Channel: channel, Country: country}, day, true
		}
		cur.Messages += messages
		cur.Recipients += recipients
		cur.Segments += parts
		cur.Amount += amount
		// As MAX(price_currency) over the line's recipients.
		if recipients != 0 && currency > cur.Currency {
			cur.Currency = currency
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("building statement: %w", err)
	}
	emit()
	return out, total, nil
}

// StatementFromRecipients sums the recipients themselves: the statement as
// it was before the roll-up, for ranges not made of whole days and for
// tests that compare the two.
func (s *Store) StatementFromRecipients(ctx context.Context, accountID string, from, until time.Time) ([]store.StatementLine, int64, error) {
	var messages int64
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM messages WHERE account_id = ? AND direction = 'mt' AND created_at >= ? AND created_at < ?`),
		accountID, micros(from), micros(until)).Scan(&messages); err != nil {
		return nil, 0, fmt.Errorf("building statement: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT r.created_at / ? AS day, m.channel, r.country, COUNT(DISTINCT r.message_id), COUNT(*),
		SUM(r.part_count), SUM(r.price), MAX(r.price_currency)
		FROM recipients r JOIN messages m ON m.id = r.message_id
		WHERE r.account_id = ? AND m.direction = 'mt' AND r.created_at >= ? AND r.created_at < ?
		GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`), microsPerDay, accountID, micros(from), micros(until))
	if err != nil {
		return nil, 0, fmt.Errorf("building statement: %w", err)
	}
	defer rows.Close()
	var out []store.StatementLine
	for rows.Next() {
		var l store.StatementLine
		var day int64
		if err := rows.Scan(&day, &l.Channel, &l.Country, &l.Messages, &l.Recipients, &l.Segments, &l.Amount, &l.Currency); err != nil {
			return nil, 0, fmt.Errorf("building statement: %w", err)
		}
		l.Day = fromMicros(day * microsPerDay)
		out = append(out, l)
	}
	return out, messages, rows.Err()
}

// statementKey is one row of the statements' roll-up.
type statementKey struct {
	account, channel, country, currency string
	day                                 int64
}

// foldStatementsOnce moves a batch of statement changes into the roll-up,
// as foldOnce does for the Overview's counts (and as safely with several
// nodes folding at once).
func (s *Store) foldStatementsOnce(ctx context.Context) (int, error) {
	moved := 0
	err := s.inTx(ctx, "folding statement counts", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`DELETE FROM statement_count_deltas WHERE id IN
			(SELECT id FROM statement_count_deltas ORDER BY id LIMIT ?)
			RETURNING account_id, day, channel, country, currency, messages, recipients, parts, amount`), foldBatch)
		if err != nil {
			return fmt.Errorf("folding statement counts: %w", err)
		}
		sums := map[statementKey][4]int64{}
		for rows.Next() {
			var k statementKey
			var v [4]int64
			if err := rows.Scan(&k.account, &k.day, &k.channel, &k.country, &k.currency, &v[0], &v[1], &v[2], &v[3]); err != nil {
				rows.Close()
				return fmt.Errorf("folding statement counts: %w", err)
			}
			o := sums[k]
			sums[k] = [4]int64{o[0] + v[0], o[1] + v[1], o[2] + v[2], o[3] + v[3]}
			moved++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("folding statement counts: %w", err)
		}
		keys := make([]statementKey, 0, len(sums))
		for k := range sums {
			keys = append(keys, k)
		}
		// In key order, so that two folders never wait on each other in
		// opposite orders.
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			if a.account != b.account {
				return a.account < b.account
			}
			if a.day != b.day {
				return a.day < b.day
			}
			if a.channel != b.channel {
				return a.channel < b.channel
			}
			if a.country != b.country {
				return a.country < b.country
			}
			return a.currency < b.currency
		})
		for _, k := range keys {
			v := sums[k]
			if v == [4]int64{} {
				continue
			}
			if _, err := s.txExec(ctx, tx, `INSERT INTO statement_counts (account_id, day, channel, country, currency, messages, recipients, parts, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (account_id, day, channel, country, currency) DO UPDATE SET messages = statement_counts.messages + excluded.messages,
				recipients = statement_counts.recipients + excluded.recipients, parts = statement_counts.parts + excluded.parts, amount = statement_counts.amount + excluded.amount`,
				k.account, k.day, k.channel, k.country, k.currency, v[0], v[1], v[2], v[3]); err != nil {
				return fmt.Errorf("folding statement counts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return moved, nil
}
