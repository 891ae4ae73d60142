package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// DailyCounts implements store.Dashboards from the roll-up (migration
// 056): a few rows per day and channel whatever the traffic. It reads the
// folded counts only: the changes not folded yet are at most a fold
// interval old, and on PostgreSQL the changes table is a queue whose dead
// rows (until vacuum) would make every read of it slow.
func (s *Store) DailyCounts(ctx context.Context, accountID string, from, until time.Time) ([]store.DailyCount, error) {
	first, end := micros(from)/microsPerDay, (micros(until)+microsPerDay-1)/microsPerDay
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT day, channel, status, n, charged FROM message_counts
		WHERE account_id = ? AND day >= ? AND day < ? AND (n <> 0 OR charged <> 0) ORDER BY day, channel, status`),
		accountID, first, end)
	if err != nil {
		return nil, fmt.Errorf("counting messages: %w", err)
	}
	defer rows.Close()
	var out []store.DailyCount
	for rows.Next() {
		var c store.DailyCount
		var d int64
		if err := rows.Scan(&d, &c.Channel, &c.Status, &c.Count, &c.Charged); err != nil {
			return nil, fmt.Errorf("counting messages: %w", err)
		}
		c.Day = time.UnixMicro(d * microsPerDay).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// foldBatch bounds the changes one fold transaction moves.
const foldBatch = 20000

// countKey is one row of the roll-up.
type countKey struct {
	account string
	day     int64
	channel string
	status  string
}

// FoldMessageCounts implements store.Dashboards. Each batch deletes the
// oldest changes and adds them to the roll-up in one transaction: on
// PostgreSQL a second node folding at once waits on the rows the first
// deletes and then finds them gone, so no change is counted twice.
// It folds the statements' roll-up (migration 059) the same way.
func (s *Store) FoldMessageCounts(ctx context.Context) (int, error) {
	total := 0
	for _, fold := range []func(context.Context) (int, error){s.foldOnce, s.foldStatementsOnce} {
		for {
			n, err := fold(ctx)
			total += n
			if err != nil {
				return total, err
			}
			if n < foldBatch {
				break
			}
		}
	}
	return total, nil
}

func (s *Store) foldOnce(ctx context.Context) (int, error) {
	moved := 0
	err := s.inTx(ctx, "folding message counts", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`DELETE FROM message_count_deltas WHERE id IN
			(SELECT id FROM message_count_deltas ORDER BY id LIMIT ?)
			RETURNING account_id, day, channel, status, n, charged`), foldBatch)
		if err != nil {
			return fmt.Errorf("folding message counts: %w", err)
		}
		sums := map[countKey][2]int64{}
		for rows.Next() {
			var k countKey
			var n, charged int64
			if err := rows.Scan(&k.account, &k.day, &k.channel, &k.status, &n, &charged); err != nil {
				rows.Close()
				return fmt.Errorf("folding message counts: %w", err)
			}
			v := sums[k]
			sums[k] = [2]int64{v[0] + n, v[1] + charged}
			moved++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("folding message counts: %w", err)
		}
		// In key order, so that two folders never wait on each other in
		// opposite orders.
		keys := make([]countKey, 0, len(sums))
		for k := range sums {
			keys = append(keys, k)
		}
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
			return a.status < b.status
		})
		for _, k := range keys {
			v := sums[k]
			if v[0] == 0 && v[1] == 0 {
				continue
			}
			if _, err := s.txExec(ctx, tx, `INSERT INTO message_counts (account_id, day, channel, status, n, charged) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (account_id, day, channel, status) DO UPDATE SET n = message_counts.n + excluded.n, charged = message_counts.charged + excluded.charged`,
				k.account, k.day, k.channel, k.status, v[0], v[1]); err != nil {
				return fmt.Errorf("folding message counts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return moved, nil
}

// MessageParts implements store.Dashboards.
func (s *Store) MessageParts(ctx context.Context, accountID, messageID string) ([]store.MessagePart, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT seq, part, connector, status, status_error_code, sent_at, status_at FROM recipient_parts
		WHERE message_id = ? AND account_id = ? ORDER BY seq, part`), messageID, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading parts: %w", err)
	}
	defer rows.Close()
	var out []store.MessagePart
	for rows.Next() {
		var p store.MessagePart
		var sent, at int64
		if err := rows.Scan(&p.Seq, &p.Part, &p.Connector, &p.Status, &p.ErrorCode, &sent, &at); err != nil {
			return nil, fmt.Errorf("reading parts: %w", err)
		}
		if sent != 0 {
			p.SentAt = fromMicros(sent)
		}
		p.StatusAt = fromMicros(at)
		out = append(out, p)
	}
	return out, rows.Err()
}
