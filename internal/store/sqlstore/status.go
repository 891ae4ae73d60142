package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// UpdateStatuses applies forward-only status changes in one transaction.
func (s *Store) UpdateStatuses(ctx context.Context, us []store.StatusUpdate) ([]bool, error) {
	changed := make([]bool, len(us))
	if len(us) == 0 {
		return changed, nil
	}
	err := s.inTx(ctx, "updating statuses", func(tx *sql.Tx) error {
		var jargs []any
		for i, u := range us {
			if !u.Status.Valid() {
				return fmt.Errorf("updating statuses: invalid status %q", u.Status)
			}
			ok, err := s.applyStatus(ctx, tx, u)
			if err != nil {
				return err
			}
			changed[i] = ok
			if ok && u.Report != nil {
				payload, err := json.Marshal(u.Report)
				if err != nil {
					return fmt.Errorf("encoding report: %w", err)
				}
				at := micros(u.At)
				jargs = append(jargs, store.JobReport, u.AccountID, u.MessageID, payload, 0, at, "", at)
			}
		}
		if len(jargs) > 0 {
			if err := insertJobs.exec(ctx, tx, &s.d, jargs); err != nil {
				return fmt.Errorf("enqueueing reports: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

func (s *Store) applyStatus(ctx context.Context, tx *sql.Tx, u store.StatusUpdate) (bool, error) {
	from := message.Predecessors(u.Status)
	reason := u.Reason
	if reason == "" {
		reason = u.Status.DefaultReason()
	}
	if len(from) > 0 {
		args := []any{string(u.Status), micros(u.At), reason, u.ErrorCode, u.Connector, u.Connector, u.MessageID, u.Seq, u.AccountID}
		for _, st := range from {
			args = append(args, string(st))
		}
		q := `UPDATE recipients SET status = ?, status_at = ?, status_reason = ?, status_error_code = ?,
			connector = CASE WHEN ? <> '' THEN ? ELSE connector END
			WHERE message_id = ? AND seq = ? AND account_id = ? AND status IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(from)), ", ") + `)`
		res, err := tx.ExecContext(ctx, s.d.rebind(q), args...)
		if err != nil {
			return false, fmt.Errorf("updating status: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, fmt.Errorf("updating status: %w", err)
		} else if n > 0 {
			return true, nil
		}
	}
	if u.Connector != "" && !u.Status.Final() {
		// Same status again: a submit confirming a recipient already shown as
		// sent. Record who took it; this is not a change worth reporting.
		_, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE recipients SET connector = ?
			WHERE message_id = ? AND seq = ? AND account_id = ? AND status = ?`),
			u.Connector, u.MessageID, u.Seq, u.AccountID, string(u.Status))
		if err != nil {
			return false, fmt.Errorf("recording connector: %w", err)
		}
	}
	return false, nil
}
