package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/omnigate/omnigate/internal/store"
)

// stageRows writes rows of width columns into table with one multi-row
// INSERT per at most 3,000 values (SQLite and PostgreSQL both take that
// many), ending each with onConflict, in one transaction.
func (s *Store) stageRows(ctx context.Context, what, table, columns string, width int, onConflict string, rows [][]any) error {
	per := 3000 / width
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		for len(rows) > 0 {
			n := min(per, len(rows))
			args := make([]any, 0, n*width)
			for _, r := range rows[:n] {
				args = append(args, r...)
			}
			one := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
			q := `INSERT INTO ` + table + ` (` + columns + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ") + ` ` + onConflict
			if _, err := tx.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			rows = rows[n:]
		}
		return nil
	})
}

// StageSuppressions adds rows of a suppression file to an import's
// staging; of an address staged twice the first row stays, as
// AddSuppressions keeps the first.
func (s *Store) StageSuppressions(ctx context.Context, importID string, list []store.Suppression) error {
	rows := make([][]any, len(list))
	for i, sp := range list {
		rows[i] = []any{importID, sp.Channel, store.SuppressionAddress(sp.Channel, sp.Recipient), sp.Reason, sp.Actor, micros(sp.CreatedAt)}
	}
	return s.stageRows(ctx, "staging suppressions", "suppression_staging", "import_id, channel, recipient, reason, actor, created_at", 6,
		"ON CONFLICT (import_id, channel, recipient) DO NOTHING", rows)
}

// MergeSuppressions adds an import's staged suppressions to its account's
// list in one transaction with the import's end.
func (s *Store) MergeSuppressions(ctx context.Context, im *store.Import) (int64, error) {
	var added int64
	err := s.inTx(ctx, "merging suppressions", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM suppression_staging WHERE import_id = ?`), im.ID).Scan(&im.Imported); err != nil {
			return fmt.Errorf("merging suppressions: %w", err)
		}
		if err := s.finish(ctx, tx, im); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO suppressions (account_id, channel, recipient, reason, actor, created_at)
			SELECT ?, channel, recipient, reason, actor, created_at FROM suppression_staging WHERE import_id = ?
			ON CONFLICT (account_id, channel, recipient) DO NOTHING`), im.AccountID, im.ID)
		if err != nil {
			return fmt.Errorf("merging suppressions: %w", err)
		}
		added, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return added, s.dropStaging(ctx, im.ID)
}

// StageConsents adds entries of a consent file to an import's staging,
// their evidence sealed as AddConsents seals it.
func (s *Store) StageConsents(ctx context.Context, importID string, seq int64, cs []*store.Consent) error {
	rows := make([][]any, len(cs))
	scoped := map[string]bool{}
	for i, c := range cs {
		if len(c.Evidence) > 0 && !scoped[c.AccountID] {
			if err := s.ensureScopes(ctx, c.AccountID); err != nil {
				return err
			}
			scoped[c.AccountID] = true
		}
		ev, err := s.consentEvidence(ctx, c)
		if err != nil {
			return fmt.Errorf("staging consents: %w", err)
		}
		ch, addr := consentSuppression(c)
		rows[i] = []any{importID, seq + int64(i), c.Recipient, c.Purpose, c.Action, c.LegalAge, strings.Join(c.Categories, ","), c.Source,
			ev, c.Actor, micros(c.CreatedAt), c.Channel, ch, addr, consentActor(c)}
	}
	return s.stageRows(ctx, "staging consents", "consent_staging",
		"import_id, seq, recipient, purpose, action, legal_age, categories, source, evidence, actor, created_at, channel, supp_channel, supp_address, supp_actor",
		15, "", rows)
}

// MergeConsents appends an import's staged entries to the consent ledger
// in the file's order and keeps the suppressions in step, in one
// transaction with the import's end. One by one, an opt-in lifts the
// address's opt-out suppression and an opt-out adds one unless the
// address is listed: so every address with an opt-in in the file loses
// its opt-out suppression, and an address whose last entry is an opt-out
// is suppressed by the first opt-out after its last opt-in.
func (s *Store) MergeConsents(ctx context.Context, im *store.Import) (int64, error) {
	err := s.inTx(ctx, "merging consents", func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM consent_staging WHERE import_id = ?`), im.ID).Scan(&im.Imported); err != nil {
			return fmt.Errorf("merging consents: %w", err)
		}
		if err := s.finish(ctx, tx, im); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO consents (account_id, recipient, purpose, action, legal_age, categories, source, evidence, actor, created_at, channel)
			SELECT ?, recipient, purpose, action, legal_age, categories, source, evidence, actor, created_at, channel
			FROM consent_staging WHERE import_id = ? ORDER BY seq`), im.AccountID, im.ID); err != nil {
			return fmt.Errorf("merging consents: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM suppressions WHERE account_id = ? AND reason = ? AND EXISTS (
			SELECT 1 FROM consent_staging i WHERE i.import_id = ? AND i.supp_channel = suppressions.channel
				AND i.supp_address = suppressions.recipient AND i.action = ?)`),
			im.AccountID, store.SuppressOptOut, im.ID, store.OptIn); err != nil {
			return fmt.Errorf("lifting suppressions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO suppressions (account_id, channel, recipient, reason, actor, created_at)
			SELECT ?, o.supp_channel, o.supp_address, ?, o.supp_actor, o.created_at FROM consent_staging o
			WHERE o.import_id = ? AND o.action = ? AND o.seq = (
				SELECT MIN(f.seq) FROM consent_staging f WHERE f.import_id = o.import_id AND f.supp_channel = o.supp_channel
					AND f.supp_address = o.supp_address AND f.action = o.action AND f.seq > COALESCE((
						SELECT MAX(i.seq) FROM consent_staging i WHERE i.import_id = o.import_id AND i.supp_channel = o.supp_channel
							AND i.supp_address = o.supp_address AND i.action = ?), -1))
			ON CONFLICT (account_id, channel, recipient) DO NOTHING`),
			im.AccountID, store.SuppressOptOut, im.ID, store.OptOut, store.OptIn); err != nil {
			return fmt.Errorf("suppressing: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return im.Imported, s.dropStaging(ctx, im.ID)
}
