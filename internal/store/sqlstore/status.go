package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Finish applies job outcomes and status updates in one transaction.
func (s *Store) Finish(ctx context.Context, outcomes []*store.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	return s.sharedRowsTx(ctx, "finishing jobs", len(outcomes), func(ctx context.Context, tx *sql.Tx) error {
		// Every update, and those that record carrier ids (whose ids and
		// recipients are locked, and whose kept receipts are read at once
		// under those locks rather than per recipient).
		var all, recorded []*store.StatusUpdate
		var keys []string
		for _, o := range outcomes {
			o.Early = nil // a transaction run again starts afresh
			for i := range o.Updates {
				u := &o.Updates[i]
				if !u.Status.Valid() {
					return fmt.Errorf("finishing jobs: invalid status %q", u.Status)
				}
				all = append(all, u)
				if u.Connector != "" && len(u.Parts) > 0 {
					recorded = append(recorded, u)
					keys = appendIDKeys(keys, u.Connector, u.Parts)
					keys = append(keys, recipientKey(u.MessageID, u.Seq))
				}
			}
		}
		if err := s.lockIDs(ctx, tx, keys); err != nil {
			return err
		}
		var pending *pendingReceipts
		if len(recorded) > 0 {
			var err error
			if pending, err = s.readPending(ctx, tx, recorded); err != nil {
				return err
			}
		}
		if err := s.applyStatuses(ctx, tx, all); err != nil {
			return err
		}
		// Without kept receipts for any of the batch's carrier ids (the
		// usual case: receipts come after the submit response), every part
		// is recorded in one statement rather than one per part.
		// (A recipient recorded twice in one batch goes one by one too: one
		// statement cannot upsert a row twice on PostgreSQL.)
		together := pending != nil && len(pending.rows) == 0 && len(counts(recorded, updateRef)) == len(recorded)
		if together {
			if err := s.upsertParts(ctx, tx, recorded); err != nil {
				return err
			}
		}
		var jargs []any
		var done []int64 // jobs to delete
		for _, o := range outcomes {
			for i := range o.Updates {
				u := &o.Updates[i]
				var err error
				if jargs, err = s.appendReport(ctx, jargs, u); err != nil {
					return err
				}
				if u.Connector != "" && len(u.Parts) > 0 && !together {
					early, applied, err := s.recordParts(ctx, tx, u, pending)
					if err != nil {
						return err
					}
					jargs = append(jargs, early...)
					o.Early = append(o.Early, applied...)
				}
			}
			if o.JobID == 0 {
				continue
			}
			if o.RetryAt.IsZero() {
				done = append(done, o.JobID)
				continue
			}
			if dropped, err := s.cancelRetryAfterFallback(ctx, tx, o.JobID); err != nil {
				return err
			} else if dropped {
				done = append(done, o.JobID)
				continue
			}
			uncount := 0
			if o.HandedBack {
				uncount = 1
			}
			if _, err := s.txExec(ctx, tx, `UPDATE jobs SET run_at = ?, last_error = ?, lease_owner = '', attempts = attempts - ? WHERE id = ?`, micros(o.RetryAt), o.LastError, uncount, o.JobID); err != nil {
				return fmt.Errorf("finishing job %d: %w", o.JobID, err)
			}
		}
		// The finished jobs go in a few statements, not one per job (on
		// PostgreSQL each statement is a round trip inside the transaction).
		err := inChunks(done, maxInList, func(chunk []int64) error {
			in, args := inList(chunk)
			if _, err := s.txExec(ctx, tx, `DELETE FROM jobs WHERE id IN (`+in+`)`, args...); err != nil {
				return fmt.Errorf("finishing jobs: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		var attempts []*store.WebhookAttempt
		for _, o := range outcomes {
			if o.Attempt != nil {
				attempts = append(attempts, o.Attempt)
			}
		}
		if err := s.insertAttempts(ctx, tx, attempts); err != nil {
			return err
		}
		return s.enqueueReports(ctx, tx, jargs)
	})
}

// appendReport appends the job columns of u's status report to args when u
// was applied and asks for a report.
func (s *Store) appendReport(ctx context.Context, args []any, u *store.StatusUpdate) ([]any, error) {
	if !(u.Applied || u.HandedOff) {
		return args, nil
	}
	if !queuesReport(u) {
		return s.appendConvReport(ctx, args, u) // a Conversations webhook may want it
	}
	report, err := reportArgs(u)
	return append(args, report...), err
}

// queuesReport says whether appendReport queues a status report job for
// u (rather than, at most, a Conversations webhook's delivery).
func queuesReport(u *store.StatusUpdate) bool { return (u.Applied || u.HandedOff) && u.Notify }

// reportArgs are the job columns of a status report for an applied update.
func reportArgs(u *store.StatusUpdate) ([]any, error) {
	payload, err := json.Marshal(store.Report{Seq: u.Seq, Status: u.Status, Reason: u.Reason, ErrorCode: u.ErrorCode, At: u.At})
	if err != nil {
		return nil, fmt.Errorf("encoding report: %w", err)
	}
	at := micros(u.At)
	return []any{store.JobReport, u.AccountID, u.MessageID, payload, 0, at, "", at}, nil
}

// jobArgs is how many arguments a job's row takes: jobColumns, as
// reportArgs builds them.
const jobArgs = 8

// enqueueReports inserts report jobs built by reportArgs.
func (s *Store) enqueueReports(ctx context.Context, tx *sql.Tx, jargs []any) error {
	if len(jargs) == 0 {
		return nil
	}
	if jobs := jobsOnly(jargs); len(jobs) > 0 {
		if err := s.insertJobs.exec(ctx, tx, &s.d, jobs); err != nil {
			return fmt.Errorf("enqueueing reports: %w", err)
		}
	}
	return s.noteConversationReports(ctx, tx, jargs)
}

// enqueueReportsLeased is enqueueReports storing up to lease.N of the report
// jobs leased (see store.Receipts.ApplyReceiptsLeased): it returns those,
// with their ids, and how many it queued besides.
func (s *Store) enqueueReportsLeased(ctx context.Context, tx *sql.Tx, jargs []any, lease *store.Lease) ([]*store.Job, int, error) {
	jobs := jobsOnly(jargs)
	const width = jobArgs
	n := len(jobs) / width
	if lease == nil || lease.N <= 0 || n == 0 {
		return nil, n, s.enqueueReports(ctx, tx, jargs)
	}
	take := min(n, lease.N)
	now := time.Now().UTC()
	args := make([]any, 0, take*(width+1))
	for i := range take {
		row := slices.Clone(jobs[i*width : (i+1)*width])
		row[4], row[5] = 1, micros(now.Add(lease.For)) // attempts, run_at: as LeaseJobs leaves them
		args = append(args, append(row, lease.Owner)...)
	}
	var leased []*store.Job
	err := s.insertLeased.query(ctx, tx, &s.d, args, func(rows *sql.Rows, err error) error {
		leased, err = scanJobs(rows, err)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("enqueueing leased reports: %w", err)
	}
	if len(leased) != take {
		return nil, 0, fmt.Errorf("enqueueing leased reports: %d of %d ids came back", len(leased), take)
	}
	if rest := jobs[take*width:]; len(rest) > 0 {
		if err := s.insertJobs.exec(ctx, tx, &s.d, rest); err != nil {
			return nil, 0, fmt.Errorf("enqueueing reports: %w", err)
		}
	}
	return leased, n - take, s.noteConversationReports(ctx, tx, jargs)
}

// applyStatuses applies updates with the effect of applyStatus on each in
// turn, setting each one's Applied, but in one statement per group of
// updates to the same status, reason, error code and connector (a batch of
// sends is mostly "sent" by one connector; a batch of receipts mostly
// "delivered"). A group's rows take the group's latest time, which the
// updates then carry into their reports. A recipient named more than once
// in the batch is updated one update at a time, in order, as the outcome
// of the first may decide the second.
func (s *Store) applyStatuses(ctx context.Context, tx *sql.Tx, us []*store.StatusUpdate) error {
	seen := counts(us, updateRef)
	var grouped []*store.StatusUpdate
	for _, u := range us {
		if seen[updateRef(u)] > 1 || len(message.Predecessors(u.Status)) == 0 {
			ok, err := s.applyStatus(ctx, tx, u)
			if err != nil {
				return err
			}
			u.Applied = ok
			continue
		}
		grouped = append(grouped, u)
	}
	type groupKey struct {
		status    message.Status
		reason    string
		code      int
		connector string
	}
	return inGroups(grouped, func(u *store.StatusUpdate) groupKey { return groupKey{u.Status, u.Reason, u.ErrorCode, u.Connector} },
		maxStatusRows, func(_ groupKey, g []*store.StatusUpdate) error { return s.applyGroup(ctx, tx, g) })
}

// maxStatusRows bounds the recipients one grouped UPDATE names.
const maxStatusRows = 128

// clampedStatusAt is the status time an UPDATE of recipients sets: its one
// argument (three times), but never a time before the recipient's previous
// status time or its creation, so that no report says a status came before
// the one it follows. (Carriers' times are only as good as their clocks;
// see store.Receipt.StatusTime.)
const clampedStatusAt = `CASE WHEN status_at >= created_at AND status_at > CAST(? AS BIGINT) THEN status_at
	WHEN created_at > CAST(? AS BIGINT) THEN created_at ELSE CAST(? AS BIGINT) END`

// applyGroup moves recipients to one status in one statement and marks the
// updates it applied; of those it did not, the ones that confirm a status
// record their connector (as applyStatus does), in one more statement.
func (s *Store) applyGroup(ctx context.Context, tx *sql.Tx, g []*store.StatusUpdate) error {
	u0 := g[0]
	at := latest(g, func(u *store.StatusUpdate) time.Time { return u.At })
	for _, u := range g {
		u.At = at
	}
	reason := u0.Reason
	if reason == "" {
		reason = u0.Status.DefaultReason()
	}
	applied := make(map[recipientRef]time.Time, len(g)) // and the time each got
	if from := message.Predecessors(u0.Status); len(from) > 0 {
		args := []any{string(u0.Status), micros(at), micros(at), micros(at), reason, u0.ErrorCode, u0.Connector, u0.Connector}
		args = append(args, statuses2any(from)...)
		in, rargs := recipientList(g)
		rows, err := s.txQuery(ctx, tx, `UPDATE recipients SET status = ?, status_at = `+clampedStatusAt+`, status_reason = ?, status_error_code = ?,
			connector = CASE WHEN ? <> '' THEN ? ELSE connector END
			WHERE status IN (`+placeholders(len(from))+`) AND (message_id, seq, account_id) IN (`+in+`)
			RETURNING message_id, seq, status_at`, append(args, rargs...)...)
		if err != nil {
			return fmt.Errorf("updating statuses: %w", err)
		}
		for rows.Next() {
			var ref recipientRef
			var got int64
			if err := rows.Scan(&ref.messageID, &ref.seq, &got); err != nil {
				rows.Close()
				return fmt.Errorf("updating statuses: %w", err)
			}
			applied[ref] = fromMicros(got)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("updating statuses: %w", err)
		}
	}
	var confirm []*store.StatusUpdate
	for _, u := range g {
		var got time.Time
		if got, u.Applied = applied[recipientRef{u.MessageID, u.Seq}]; u.Applied {
			u.At = got
		}
		if !u.Applied && u.Connector != "" && !u.Status.Final() {
			confirm = append(confirm, u)
		}
	}
	// A hand-off a door reports: recorded one at a time, so that only the
	// first (connector not yet recorded) queues a report.
	plain := confirm[:0]
	for _, u := range confirm {
		if !u.ReportHandoff || (!u.Notify && !s.convWebhooksOn(ctx, u.AccountID)) {
			plain = append(plain, u)
			continue
		}
		status, err := statusLiteral(u.Status)
		if err != nil {
			return err
		}
		res, err := s.txExec(ctx, tx, `UPDATE recipients SET connector = ? WHERE message_id = ? AND seq = ? AND account_id = ? AND status = `+status+` AND connector = ''`,
			u.Connector, u.MessageID, u.Seq, u.AccountID)
		if err != nil {
			return fmt.Errorf("recording connector: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			u.HandedOff = true
		}
	}
	confirm = plain
	if len(confirm) == 0 {
		return nil
	}
	// Same status again: a submit confirming recipients already shown as
	// sent. Record who took them; this is not a change worth reporting.
	in, rargs := recipientList(confirm)
	status, err := statusLiteral(u0.Status)
	if err != nil {
		return err
	}
	if _, err := s.txExec(ctx, tx, `UPDATE recipients SET connector = ?
		WHERE status = `+status+` AND (message_id, seq, account_id) IN (`+in+`)`,
		append([]any{u0.Connector}, rargs...)...); err != nil {
		return fmt.Errorf("recording connector: %w", err)
	}
	return nil
}

// statusLiteral is st written as an SQL string literal, for a statement
// that compares recipients' status with it. As an argument it would cost a
// compilation per run on SQLite: recipients' partial indexes name statuses,
// so the planner reads the bound value to choose one, and SQLite compiles
// such a statement again whenever that argument is bound anew (3 % of the
// CPU at 400 messages a second, every submit's outcome). st is one of
// message.Status's few values (letters and "_"), so the texts are few and
// each stays prepared.
func statusLiteral(st message.Status) (string, error) {
	if !st.Valid() {
		return "", fmt.Errorf("invalid status %q", st)
	}
	return "'" + string(st) + "'", nil
}

// recipientList is a VALUES list naming the updates' recipients, for
// "(message_id, seq, account_id) IN (…)", and its arguments.
func recipientList(us []*store.StatusUpdate) (string, []any) {
	return valuesList(len(us), "(?, CAST(? AS BIGINT), ?)", func(i int) []any {
		return []any{us[i].MessageID, us[i].Seq, us[i].AccountID}
	})
}

func (s *Store) applyStatus(ctx context.Context, tx *sql.Tx, u *store.StatusUpdate) (bool, error) {
	from := message.Predecessors(u.Status)
	reason := u.Reason
	if reason == "" {
		reason = u.Status.DefaultReason()
	}
	if len(from) > 0 {
		at := micros(u.At)
		args := []any{string(u.Status), at, at, at, reason, u.ErrorCode, u.Connector, u.Connector, u.MessageID, u.Seq, u.AccountID}
		for _, st := range from {
			args = append(args, string(st))
		}
		q := `UPDATE recipients SET status = ?, status_at = ` + clampedStatusAt + `, status_reason = ?, status_error_code = ?,
			connector = CASE WHEN ? <> '' THEN ? ELSE connector END
			WHERE message_id = ? AND seq = ? AND account_id = ? AND status IN (` + placeholders(len(from)) + `)
			RETURNING status_at`
		rows, err := s.txQuery(ctx, tx, q, args...)
		if err != nil {
			return false, fmt.Errorf("updating status: %w", err)
		}
		applied := rows.Next()
		if applied {
			var got int64
			if err := rows.Scan(&got); err != nil {
				rows.Close()
				return false, fmt.Errorf("updating status: %w", err)
			}
			u.At = fromMicros(got)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return false, fmt.Errorf("updating status: %w", err)
		}
		if applied {
			return true, nil
		}
	}
	return false, s.recordConnector(ctx, tx, u)
}

// recordConnector handles an update that changed no status: when it is a
// submit confirming a recipient already shown as sent, it records who took
// it (not a change worth reporting).
func (s *Store) recordConnector(ctx context.Context, tx *sql.Tx, u *store.StatusUpdate) error {
	if u.Connector == "" || u.Status.Final() {
		return nil
	}
	_, err := s.txExec(ctx, tx, `UPDATE recipients SET connector = ?
		WHERE message_id = ? AND seq = ? AND account_id = ? AND status = ?`,
		u.Connector, u.MessageID, u.Seq, u.AccountID, string(u.Status))
	if err != nil {
		return fmt.Errorf("recording connector: %w", err)
	}
	return nil
}

// updateRef is the recipient an update names.
func updateRef(u *store.StatusUpdate) recipientRef { return recipientRef{u.MessageID, u.Seq} }
