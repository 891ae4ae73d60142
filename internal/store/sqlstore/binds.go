package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// ClaimBinds implements store.BindLeases in one transaction: it renews
// node's unexpired leases on the connector's slots below total until
// c.Until, forgets slots at or above total (the connector was given fewer
// binds), frees what node holds beyond c.Max, and takes free slots while
// node holds fewer than c.Want — a slot with no row, or whose lease ended
// (free since longer than c.Orphan: any node, c.Want or not). Each take
// is conditional on the row it read, so two nodes never take one slot.
func (s *Store) ClaimBinds(ctx context.Context, c store.BindClaim) (store.BindState, error) {
	var out store.BindState
	now := micros(c.Now)
	err := s.sharedTx(ctx, "claiming binds", func(ctx context.Context, tx *sql.Tx) error {
		out = store.BindState{Holders: map[string]int{}}
		if _, err := s.txExec(ctx, tx, `DELETE FROM connector_binds WHERE connector = ? AND slot >= ?`, c.Connector, c.Total); err != nil {
			return fmt.Errorf("claiming binds: %w", err)
		}
		if _, err := s.txExec(ctx, tx, `UPDATE connector_binds SET expires_at = ? WHERE connector = ? AND holder = ? AND expires_at > ?`,
			micros(c.Until), c.Connector, c.Node, now); err != nil {
			return fmt.Errorf("claiming binds: %w", err)
		}
		rows, err := s.txQuery(ctx, tx, `SELECT slot, holder, expires_at FROM connector_binds WHERE connector = ? ORDER BY slot`, c.Connector)
		if err != nil {
			return fmt.Errorf("claiming binds: %w", err)
		}
		type row struct {
			holder  string
			expires int64
		}
		slots := map[int]row{}
		for rows.Next() {
			var slot int
			var r row
			if err := rows.Scan(&slot, &r.holder, &r.expires); err != nil {
				rows.Close()
				return fmt.Errorf("claiming binds: %w", err)
			}
			slots[slot] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claiming binds: %w", err)
		}
		var held []int
		for slot := 0; slot < c.Total; slot++ {
			r, ok := slots[slot]
			if !ok || r.expires <= now {
				continue
			}
			if r.holder == c.Node {
				held = append(held, slot)
			} else {
				out.Holders[r.holder]++
			}
		}
		// Beyond Max: free the highest slots (a new node joined).
		for c.Max > 0 && len(held) > c.Max {
			slot := held[len(held)-1]
			if _, err := s.txExec(ctx, tx, `UPDATE connector_binds SET holder = '', expires_at = ? WHERE connector = ? AND slot = ? AND holder = ?`,
				now, c.Connector, slot, c.Node); err != nil {
				return fmt.Errorf("claiming binds: %w", err)
			}
			held = held[:len(held)-1]
		}
		orphan := micros(c.Now.Add(-c.Orphan))
		for slot := 0; slot < c.Total; slot++ {
			r, ok := slots[slot]
			if ok && r.expires > now {
				continue
			}
			if len(held) >= c.Want && !(ok && r.expires <= orphan) {
				continue
			}
			var res sql.Result
			if ok {
				res, err = s.txExec(ctx, tx, `UPDATE connector_binds SET holder = ?, expires_at = ? WHERE connector = ? AND slot = ? AND holder = ? AND expires_at = ?`,
					c.Node, micros(c.Until), c.Connector, slot, r.holder, r.expires)
			} else {
				res, err = s.txExec(ctx, tx, `INSERT INTO connector_binds (connector, slot, holder, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (connector, slot) DO NOTHING`,
					c.Connector, slot, c.Node, micros(c.Until))
			}
			if err != nil {
				return fmt.Errorf("claiming binds: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("claiming binds: %w", err)
			} else if n == 1 {
				held = append(held, slot)
			}
		}
		out.Held = len(held)
		return nil
	})
	return out, err
}

// ReleaseBinds implements store.BindLeases: node's slots become free now.
func (s *Store) ReleaseBinds(ctx context.Context, node string, connector string) error {
	q, args := `UPDATE connector_binds SET holder = '', expires_at = ? WHERE holder = ?`, []any{micros(time.Now()), node}
	if connector != "" {
		q += ` AND connector = ?`
		args = append(args, connector)
	}
	if _, err := s.w.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
		return fmt.Errorf("releasing binds: %w", err)
	}
	return nil
}

// LiveNodes implements store.BindLeases: the nodes whose heartbeat was
// written at or after since.
func (s *Store) LiveNodes(ctx context.Context, since time.Time) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM node_heartbeats WHERE written_at >= ?`), micros(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting live nodes: %w", err)
	}
	return n, nil
}

// ForgetNode implements store.BindLeases: node's heartbeat row goes, so
// that the others stop counting it at once.
func (s *Store) ForgetNode(ctx context.Context, node string) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM node_heartbeats WHERE node = ?`), node); err != nil {
		return fmt.Errorf("forgetting node: %w", err)
	}
	return nil
}

// BindSlots implements store.BindLeases.
func (s *Store) BindSlots(ctx context.Context) ([]store.BindSlot, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT connector, slot, holder, expires_at FROM connector_binds ORDER BY connector, slot`)
	if err != nil {
		return nil, fmt.Errorf("listing bind slots: %w", err)
	}
	defer rows.Close()
	var out []store.BindSlot
	for rows.Next() {
		var b store.BindSlot
		var exp int64
		if err := rows.Scan(&b.Connector, &b.Slot, &b.Holder, &exp); err != nil {
			return nil, fmt.Errorf("listing bind slots: %w", err)
		}
		b.ExpiresAt = fromMicros(exp)
		out = append(out, b)
	}
	return out, rows.Err()
}
