package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/omnigate/omnigate/internal/store"
)

// stageRows writes rows of width columns into table in one transaction
// (see stageRowsTx).
func (s *Store) stageRows(ctx context.Context, what, table, columns string, width int, onConflict string, rows [][]any) error {
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		return s.stageRowsTx(ctx, tx, what, table, columns, width, onConflict, rows)
	})
}

// stageRowsTx writes rows of width columns into table in tx, with one
// multi-row INSERT per at most 3,000 values (SQLite and PostgreSQL both
// take that many), each ending with onConflict.
func (s *Store) stageRowsTx(ctx context.Context, tx *sql.Tx, what, table, columns string, width int, onConflict string, rows [][]any) error {
	per := 3000 / width
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	for len(rows) > 0 {
		n := min(per, len(rows))
		args := make([]any, 0, n*width)
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		q := `INSERT INTO ` + table + ` (` + columns + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ") + ` ` + onConflict
		if _, err := tx.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		rows = rows[n:]
	}
	return nil
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
	_, err := s.mergeStaged(ctx, im, "merging suppressions", "suppression_staging", func(tx *sql.Tx) error {
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
	return added, nil
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
	return s.mergeStaged(ctx, im, "merging consents", "consent_staging",
		s.execStep(ctx, "merging consents", `INSERT INTO consents (account_id, recipient, purpose, action, legal_age, categories, source, evidence, actor, created_at, channel)
			SELECT ?, recipient, purpose, action, legal_age, categories, source, evidence, actor, created_at, channel
			FROM consent_staging WHERE import_id = ? ORDER BY seq`, im.AccountID, im.ID),
		s.execStep(ctx, "lifting suppressions", `DELETE FROM suppressions WHERE account_id = ? AND reason = ? AND EXISTS (
			SELECT 1 FROM consent_staging i WHERE i.import_id = ? AND i.supp_channel = suppressions.channel
				AND i.supp_address = suppressions.recipient AND i.action = ?)`,
			im.AccountID, store.SuppressOptOut, im.ID, store.OptIn),
		s.execStep(ctx, "suppressing", `INSERT INTO suppressions (account_id, channel, recipient, reason, actor, created_at)
			SELECT ?, o.supp_channel, o.supp_address, ?, o.supp_actor, o.created_at FROM consent_staging o
			WHERE o.import_id = ? AND o.action = ? AND o.seq = (
				SELECT MIN(f.seq) FROM consent_staging f WHERE f.import_id = o.import_id AND f.supp_channel = o.supp_channel
					AND f.supp_address = o.supp_address AND f.action = o.action AND f.seq > COALESCE((
						SELECT MAX(i.seq) FROM consent_staging i WHERE i.import_id = o.import_id AND i.supp_channel = o.supp_channel
							AND i.supp_address = o.supp_address AND i.action = ?), -1))
			ON CONFLICT (account_id, channel, recipient) DO NOTHING`,
			im.AccountID, store.SuppressOptOut, im.ID, store.OptOut, store.OptIn))
}

// StagePrices adds rows of a price file to an import's staging.
func (s *Store) StagePrices(ctx context.Context, importID string, rows []store.Lined[store.Price]) error {
	vals := make([][]any, len(rows))
	for i, r := range rows {
		p := r.Row
		vals[i] = []any{importID, r.Line, p.AccountID, p.Channel, p.Unit, p.Country, p.Prefix, p.Currency, p.Price, micros(p.UpdatedAt)}
	}
	return s.stageRows(ctx, "staging prices", "price_staging",
		"import_id, line, account_id, channel, unit, country, prefix, currency, price, updated_at", 10, "", vals)
}

// MergePrices stores an import's staged prices in one transaction with
// the import's end.
func (s *Store) MergePrices(ctx context.Context, im *store.Import) (int64, error) {
	return s.mergeStaged(ctx, im, "merging prices", "price_staging",
		s.execStep(ctx, "merging prices", `INSERT INTO prices (account_id, channel, unit, country, prefix, currency, price, updated_at)
			SELECT account_id, channel, unit, country, prefix, currency, price, updated_at FROM price_staging WHERE import_id = ?
			ON CONFLICT (account_id, channel, unit, country, prefix, currency) DO UPDATE SET price = excluded.price, updated_at = excluded.updated_at`, im.ID))
}

// StageStock adds rows of an inventory file to an import's staging.
func (s *Store) StageStock(ctx context.Context, importID string, rows []store.Lined[store.StockNumber]) error {
	vals := make([][]any, len(rows))
	for i, r := range rows {
		n := r.Row
		vals[i] = []any{importID, r.Line, n.Number, n.Country, n.Region, n.Locality, n.Type, strings.Join(n.Features, ","), n.MonthlyPrice, micros(n.CreatedAt)}
	}
	return s.stageRows(ctx, "staging numbers", "stock_staging",
		"import_id, line, number, country, region, locality, type, features, monthly_price, created_at", 10, "", vals)
}

// MergeStock adds an import's staged numbers to the inventory in one
// transaction with the import's end; a number there already keeps when
// it was added.
func (s *Store) MergeStock(ctx context.Context, im *store.Import) (int64, error) {
	var added int64
	_, err := s.mergeStaged(ctx, im, "merging numbers", "stock_staging",
		func(tx *sql.Tx) error {
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM stock_staging s WHERE s.import_id = ?
				AND NOT EXISTS (SELECT 1 FROM number_inventory i WHERE i.number = s.number)`), im.ID).Scan(&added); err != nil {
				return fmt.Errorf("merging numbers: %w", err)
			}
			return nil
		},
		s.execStep(ctx, "merging numbers", `INSERT INTO number_inventory (number, country, region, locality, type, features, monthly_price, created_at)
			SELECT number, country, region, locality, type, features, monthly_price, created_at FROM stock_staging WHERE import_id = ?
			ON CONFLICT (number) DO UPDATE SET country = excluded.country, region = excluded.region, locality = excluded.locality,
				type = excluded.type, features = excluded.features, monthly_price = excluded.monthly_price`, im.ID))
	return added, err
}

// mergeStaged merges an import's staged rows: in one transaction it ends
// the import (done; Imported: the rows of table staged for it) and runs
// steps, in order; then it drops the staging. ErrConflict if the import
// is not running any more.
func (s *Store) mergeStaged(ctx context.Context, im *store.Import, what, table string, steps ...func(tx *sql.Tx) error) (int64, error) {
	err := s.inTx(ctx, what, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM `+table+` WHERE import_id = ?`), im.ID).Scan(&im.Imported); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := s.finish(ctx, tx, im); err != nil {
			return err
		}
		for _, step := range steps {
			if err := step(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return im.Imported, s.dropStaging(ctx, im.ID)
}

// execStep is a step of mergeStaged that runs q with args; what names it
// in its error.
func (s *Store) execStep(ctx context.Context, what, q string, args ...any) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// stagedKeys are the staging tables whose rows a file may not list twice,
// by import kind, with the columns of their key.
var stagedKeys = map[string]struct{ table, key, number string }{
	store.ImportPrices:  {"price_staging", "channel, unit, country, prefix, currency", "''"},
	store.ImportNumbers: {"stock_staging", "number", "d.number"},
}

// StagedDuplicates finds the staged rows whose key an earlier row has.
func (s *Store) StagedDuplicates(ctx context.Context, im *store.Import, limit int) ([]store.Duplicate, int64, error) {
	k, ok := stagedKeys[im.Kind]
	if !ok {
		return nil, 0, fmt.Errorf("an import of %s has no keys to check", im.Kind)
	}
	var on []string
	for _, c := range strings.Split(k.key, ", ") {
		on = append(on, "d."+c+" = f."+c)
	}
	// Each row with its key's first line, where that is not its own.
	q := `WITH f AS (SELECT ` + k.key + `, MIN(line) AS first FROM ` + k.table + ` WHERE import_id = ? GROUP BY ` + k.key + ` HAVING COUNT(*) > 1)
		SELECT d.line, f.first, ` + k.number + ` FROM ` + k.table + ` d JOIN f ON ` + strings.Join(on, " AND ") + `
		WHERE d.import_id = ? AND d.line > f.first ORDER BY d.line`
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), im.ID, im.ID)
	if err != nil {
		return nil, 0, fmt.Errorf("checking for rows listed twice: %w", err)
	}
	defer rows.Close()
	var out []store.Duplicate
	var n int64
	for rows.Next() {
		var d store.Duplicate
		if err := rows.Scan(&d.Line, &d.First, &d.Number); err != nil {
			return nil, 0, fmt.Errorf("checking for rows listed twice: %w", err)
		}
		if n++; len(out) < limit {
			out = append(out, d)
		}
	}
	return out, n, rows.Err()
}
