package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Finish applies job outcomes and status updates in one transaction.
func (s *Store) Finish(ctx context.Context, outcomes []*store.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	return s.inTx(ctx, "finishing jobs", func(tx *sql.Tx) error {
		var keys []string
		for _, o := range outcomes {
			for _, u := range o.Updates {
				if u.Connector != "" && len(u.Parts) > 0 {
					keys = appendIDKeys(keys, u.Connector, u.Parts)
					keys = append(keys, recipientKey(u.MessageID, u.Seq))
				}
			}
		}
		if err := s.lockIDs(ctx, tx, keys); err != nil {
			return err
		}
		// The receipts kept for the carrier ids recorded below, read at
		// once (under their locks) rather than per recipient.
		var recorded []*store.StatusUpdate
		for _, o := range outcomes {
			for i := range o.Updates {
				if u := &o.Updates[i]; u.Connector != "" && len(u.Parts) > 0 {
					recorded = append(recorded, u)
				}
			}
		}
		var pending *pendingReceipts
		if len(recorded) > 0 {
			var err error
			if pending, err = s.readPending(ctx, tx, recorded); err != nil {
				return err
			}
		}
		var jargs []any
		var done []int64 // jobs to delete
		for _, o := range outcomes {
			for i := range o.Updates {
				u := &o.Updates[i]
				if !u.Status.Valid() {
					return fmt.Errorf("finishing jobs: invalid status %q", u.Status)
				}
				ok, err := s.applyStatus(ctx, tx, u)
				if err != nil {
					return err
				}
				u.Applied = ok
				if ok && u.Notify {
					report, err := reportArgs(u)
					if err != nil {
						return err
					}
					jargs = append(jargs, report...)
				}
				if u.Connector != "" && len(u.Parts) > 0 {
					early, err := s.recordParts(ctx, tx, u, pending)
					if err != nil {
						return err
					}
					jargs = append(jargs, early...)
				}
			}
			if o.JobID == 0 {
				continue
			}
			if o.RetryAt.IsZero() {
				done = append(done, o.JobID)
				continue
			}
			if _, err := s.txExec(ctx, tx, `UPDATE jobs SET run_at = ?, last_error = ?, lease_owner = '' WHERE id = ?`, micros(o.RetryAt), o.LastError, o.JobID); err != nil {
				return fmt.Errorf("finishing job %d: %w", o.JobID, err)
			}
		}
		// The finished jobs go in a few statements, not one per job (on
		// PostgreSQL each statement is a round trip inside the transaction).
		for len(done) > 0 {
			chunk := done[:min(len(done), maxInList)]
			done = done[len(chunk):]
			in, args := inList(chunk)
			if _, err := s.txExec(ctx, tx, `DELETE FROM jobs WHERE id IN (`+in+`)`, args...); err != nil {
				return fmt.Errorf("finishing jobs: %w", err)
			}
		}
		return s.enqueueReports(ctx, tx, jargs)
	})
}

// reportArgs are the job columns of a status report for an applied update.
func reportArgs(u *store.StatusUpdate) ([]any, error) {
	payload, err := json.Marshal(store.Report{Seq: u.Seq, Status: u.Status, Reason: u.Reason, ErrorCode: u.ErrorCode, At: u.At})
	if err != nil {
		return nil, fmt.Errorf("encoding report: %w", err)
	}
	at := micros(u.At)
	return []any{store.JobReport, u.AccountID, u.MessageID, payload, 0, at, "", at}, nil
}

// enqueueReports inserts report jobs built by reportArgs.
func (s *Store) enqueueReports(ctx context.Context, tx *sql.Tx, jargs []any) error {
	if len(jargs) == 0 {
		return nil
	}
	if err := s.insertJobs.exec(ctx, tx, &s.d, jargs); err != nil {
		return fmt.Errorf("enqueueing reports: %w", err)
	}
	return nil
}

func (s *Store) applyStatus(ctx context.Context, tx *sql.Tx, u *store.StatusUpdate) (bool, error) {
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
			WHERE message_id = ? AND seq = ? AND account_id = ? AND status IN (` + placeholders(len(from)) + `)`
		res, err := s.txExec(ctx, tx, q, args...)
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
		_, err := s.txExec(ctx, tx, `UPDATE recipients SET connector = ?
			WHERE message_id = ? AND seq = ? AND account_id = ? AND status = ?`,
			u.Connector, u.MessageID, u.Seq, u.AccountID, string(u.Status))
		if err != nil {
			return false, fmt.Errorf("recording connector: %w", err)
		}
	}
	return false, nil
}
