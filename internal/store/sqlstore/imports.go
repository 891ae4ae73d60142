package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

const importColumns = `id, account_id, test, kind, params, origin, state, size, bytes_read, rows_read, imported,
	error_count, errors, created_at, updated_at, finished_at`

// CreateImport stores a new import.
func (s *Store) CreateImport(ctx context.Context, im *store.Import) error {
	_, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO imports (`+importColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		im.ID, im.AccountID, im.Test, im.Kind, im.Params, im.Origin, im.State, im.Size, im.BytesRead, im.RowsRead, im.Imported,
		im.ErrorCount, strings.Join(im.Errors, "\n"), micros(im.CreatedAt), micros(im.UpdatedAt), micros(im.FinishedAt))
	if err != nil {
		return fmt.Errorf("creating an import: %w", err)
	}
	return nil
}

// ImportProgress records how far a running import got.
func (s *Store) ImportProgress(ctx context.Context, id string, bytesRead, rowsRead int64, at time.Time) error {
	_, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE imports SET bytes_read = ?, rows_read = ?, updated_at = ? WHERE id = ? AND state = ?`),
		bytesRead, rowsRead, micros(at), id, store.ImportRunning)
	if err != nil {
		return fmt.Errorf("recording an import's progress: %w", err)
	}
	return nil
}

// finish sets a running import's outcome in tx; ErrConflict if it is not
// running (failed as stale meanwhile).
func (s *Store) finish(ctx context.Context, tx *sql.Tx, im *store.Import) error {
	res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE imports SET state = ?, bytes_read = ?, rows_read = ?, imported = ?, error_count = ?, errors = ?,
		updated_at = ?, finished_at = ? WHERE id = ? AND state = ?`),
		im.State, im.BytesRead, im.RowsRead, im.Imported, im.ErrorCount, strings.Join(im.Errors, "\n"),
		micros(im.UpdatedAt), micros(im.FinishedAt), im.ID, store.ImportRunning)
	if err != nil {
		return fmt.Errorf("ending an import: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("import %s is not running any more: %w", im.ID, store.ErrConflict)
	}
	return nil
}

// FinishImport ends a running import and drops its staged rows.
func (s *Store) FinishImport(ctx context.Context, im *store.Import) error {
	if err := s.inTx(ctx, "ending an import", func(tx *sql.Tx) error { return s.finish(ctx, tx, im) }); err != nil {
		return err
	}
	return s.dropStaging(ctx, im.ID)
}

// dropStaging deletes an import's staged rows (after its transaction: the
// rows are no one's once the import has ended).
func (s *Store) dropStaging(ctx context.Context, id string) error {
	for _, table := range stagingTables {
		if _, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM `+table+` WHERE import_id = ?`), id); err != nil {
			return fmt.Errorf("dropping an import's staged rows: %w", err)
		}
	}
	return nil
}

// stagingTables hold the rows of streamed imports until they are merged.
var stagingTables = []string{"dnd_staging", "suppression_staging", "consent_staging", "price_staging", "stock_staging"}

// GetImport reads one import of an account.
func (s *Store) GetImport(ctx context.Context, accountID string, test bool, id string) (*store.Import, error) {
	list, err := s.imports(ctx, `WHERE account_id = ? AND test = ? AND id = ?`, accountID, test, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, store.ErrNotFound
	}
	return &list[0], nil
}

// ListImports lists an account's imports, newest first.
func (s *Store) ListImports(ctx context.Context, accountID string, test bool, limit int) ([]store.Import, error) {
	return s.imports(ctx, `WHERE account_id = ? AND test = ? ORDER BY created_at DESC, id DESC LIMIT ?`, accountID, test, limit)
}

func (s *Store) imports(ctx context.Context, where string, args ...any) ([]store.Import, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+importColumns+` FROM imports `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("reading imports: %w", err)
	}
	defer rows.Close()
	var out []store.Import
	for rows.Next() {
		var im store.Import
		var errs string
		var created, updated, finished int64
		if err := rows.Scan(&im.ID, &im.AccountID, &im.Test, &im.Kind, &im.Params, &im.Origin, &im.State, &im.Size, &im.BytesRead,
			&im.RowsRead, &im.Imported, &im.ErrorCount, &errs, &created, &updated, &finished); err != nil {
			return nil, fmt.Errorf("reading imports: %w", err)
		}
		if errs != "" {
			im.Errors = strings.Split(errs, "\n")
		}
		im.CreatedAt, im.UpdatedAt, im.FinishedAt = fromMicros(created), fromMicros(updated), fromMicros(finished)
		out = append(out, im)
	}
	return out, rows.Err()
}

// FailStaleImports fails the running imports not heard of since before.
func (s *Store) FailStaleImports(ctx context.Context, before, at time.Time) (int, error) {
	const why = "the import stopped (the server or command restarted before it ended): nothing was imported; start it again"
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE imports SET state = ?, errors = ?, finished_at = ?, updated_at = ?
		WHERE state = ? AND updated_at < ?`), store.ImportFailed, why, micros(at), micros(at), store.ImportRunning, micros(before))
	if err != nil {
		return 0, fmt.Errorf("failing stopped imports: %w", err)
	}
	n, _ := res.RowsAffected()
	// Staged rows of imports that are not running any more.
	for _, table := range stagingTables {
		if _, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM `+table+` WHERE import_id NOT IN (SELECT id FROM imports WHERE state = ?)`),
			store.ImportRunning); err != nil {
			return int(n), fmt.Errorf("dropping staged rows: %w", err)
		}
	}
	return int(n), nil
}

// StageDND adds entries to an import's staging in one transaction.
func (s *Store) StageDND(ctx context.Context, importID string, entries []store.DNDEntry) error {
	// One statement cannot upsert a key twice (PostgreSQL refuses it):
	// the last of a prefix staged twice in entries wins here.
	last := make(map[string]int, len(entries))
	for i, e := range entries {
		last[e.Prefix] = i
	}
	rows := make([][]any, 0, len(last))
	for i, e := range entries {
		if last[e.Prefix] == i {
			rows = append(rows, []any{importID, e.Prefix, micros(e.ListedAt)})
		}
	}
	const what = "staging do-not-disturb entries"
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		// Noted while staging, so that the merge needs no pass over the
		// staged rows; an import that fails leaves a length behind, which
		// costs screening a lookup, never a miss.
		if err := s.noteDNDLengths(ctx, tx, entries); err != nil {
			return err
		}
		return s.stageRowsTx(ctx, tx, what, "dnd_staging", "import_id, prefix, listed_at", 3,
			"ON CONFLICT (import_id, prefix) DO UPDATE SET listed_at = excluded.listed_at", rows)
	})
}

// MergeDND merges an import's staging into dnd in one transaction. Entries
// whose date and scope are unchanged are not rewritten (a registry's new
// full edition mostly repeats the last one); imported_at is when an entry
// last changed.
func (s *Store) MergeDND(ctx context.Context, im *store.Import, imp store.DNDImport) (int64, error) {
	const what = "merging do-not-disturb entries"
	steps := []func(tx *sql.Tx) error{}
	if imp.Replace {
		steps = append(steps, s.execStep(ctx, "replacing do-not-disturb entries", `DELETE FROM dnd WHERE registry = ? AND NOT EXISTS
			(SELECT 1 FROM dnd_staging s WHERE s.import_id = ? AND s.prefix = dnd.prefix)`, imp.Registry, im.ID))
	}
	steps = append(steps,
		s.execStep(ctx, what, `UPDATE dnd SET scope = ? WHERE registry = ? AND scope <> ?`, imp.Scope, imp.Registry, imp.Scope),
		// im.FinishedAt is set by the caller before the merge.
		s.execStep(ctx, what, `INSERT INTO dnd (registry, prefix, listed_at, imported_at, scope)
			SELECT ?, prefix, listed_at, ?, ? FROM dnd_staging WHERE import_id = ?
			ON CONFLICT (registry, prefix) DO UPDATE SET listed_at = excluded.listed_at, imported_at = excluded.imported_at
			WHERE dnd.listed_at <> excluded.listed_at`, imp.Registry, micros(im.FinishedAt), imp.Scope, im.ID))
	return s.mergeStaged(ctx, im, what, "dnd_staging", steps...)
}
