package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

var (
	_ store.AuditLog    = (*Store)(nil)
	_ store.BackupLease = (*Store)(nil)
)

const auditColumns = `seq, at, actor_kind, actor_id, account_id, ip, action, object, before_json, after_json, prev_hash, hash`

// AppendAudit appends entries after the chain's head in one transaction.
// Moving the head first (UPDATE … RETURNING) locks its row on PostgreSQL
// until the commit, so appends from several nodes take turns and the chain
// stays linear; SQLite has one writer.
func (s *Store) AppendAudit(ctx context.Context, entries []store.AuditEntry, seal func(*store.AuditEntry)) error {
	if len(entries) == 0 {
		return nil
	}
	return s.inTx(ctx, "appending to the audit log", func(tx *sql.Tx) error {
		var next int64
		var prev string
		if err := tx.QueryRowContext(ctx, s.d.rebind(`UPDATE audit_head SET seq = seq + ? WHERE id = 1 RETURNING seq, hash`),
			len(entries)).Scan(&next, &prev); err != nil {
			return fmt.Errorf("audit log: moving the head: %w", err)
		}
		next -= int64(len(entries)) - 1
		for i := range entries {
			e := &entries[i]
			e.Seq, e.PrevHash = next, prev
			e.At = e.At.UTC().Truncate(time.Microsecond)
			seal(e)
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO audit_log (`+auditColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				e.Seq, micros(e.At), e.ActorKind, e.ActorID, e.AccountID, e.IP, e.Action, e.Object, e.Before, e.After,
				e.PrevHash, e.Hash); err != nil {
				return fmt.Errorf("audit log: appending: %w", err)
			}
			next, prev = next+1, e.Hash
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE audit_head SET hash = ? WHERE id = 1`), prev); err != nil {
			return fmt.Errorf("audit log: moving the head: %w", err)
		}
		return nil
	})
}

func scanAudit(rows *sql.Rows) ([]store.AuditEntry, error) {
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.ActorKind, &e.ActorID, &e.AccountID, &e.IP, &e.Action, &e.Object,
			&e.Before, &e.After, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return out, nil
}

// AuditEntries lists audit rows newest first.
func (s *Store) AuditEntries(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var where []string
	var args []any
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.Actor != "" {
		if kind, id, ok := strings.Cut(f.Actor, ":"); ok {
			where, args = append(where, "actor_kind = ? AND actor_id = ?"), append(args, kind, id)
		} else {
			where, args = append(where, "(actor_id = ? OR actor_kind = ?)"), append(args, f.Actor, f.Actor)
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, micros(f.Until))
	}
	if f.Before > 0 {
		where, args = append(where, "seq < ?"), append(args, f.Before)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return scanAudit(rows)
}

// AuditChain lists rows from seq after+1 on, oldest first.
func (s *Store) AuditChain(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+auditColumns+` FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return scanAudit(rows)
}

// AuditHead is the chain's head.
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := s.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("reading the audit log's head: %w", err)
	}
	return seq, hash, nil
}

// ClaimBackup inserts period's row for node unless it exists.
func (s *Store) ClaimBackup(ctx context.Context, period, node string, at time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO backup_runs (period, node, started_at) VALUES (?, ?, ?)
		ON CONFLICT (period) DO NOTHING`), period, node, micros(at))
	if err != nil {
		return false, fmt.Errorf("claiming backup %s: %w", period, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claiming backup %s: %w", period, err)
	}
	return n == 1, nil
}

// FinishBackup records how period's backup ended.
func (s *Store) FinishBackup(ctx context.Context, period, file, errText string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE backup_runs SET finished_at = ?, file = ?, error = ? WHERE period = ?`),
		micros(at), file, errText, period); err != nil {
		return fmt.Errorf("recording backup %s: %w", period, err)
	}
	return nil
}
