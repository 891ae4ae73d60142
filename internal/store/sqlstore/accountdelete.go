package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// keptOnDeletion are the tables whose rows of a deleted account stay:
// money (PRIV-1 keeps billing records ten years), the append-only audit
// log, rights-request confirmations, terms acceptances, and the
// lifecycle and archive that say what happened, and who held which
// number when (NUM-1).
var keptOnDeletion = map[string]bool{
	"ledger": true, "invoices": true, "topups": true, "audit_log": true,
	"privacy_requests": true, "privacy_request_events": true, "terms_acceptances": true,
	"account_lifecycle": true, "account_archives": true, "number_history": true,
}

// notExported are tables of secrets or machinery an export leaves out:
// key and password hashes, sessions, credentials, queued jobs.
var notExported = map[string]bool{
	"access_keys": true, "user_sessions": true, "user_invitations": true, "smpp_credentials": true, "twilio_api_keys": true,
	"jobs": true, "account_archives": true, "usage_counters": true, "maintenance_leases": true, "audit_log": true,
	"push_apns_credentials": true, "push_fcm_credentials": true, "smpp_parts": true,
}

// secretColumn reports whether an exported column holds a secret or a
// hash of one; such columns are left out of the export.
func secretColumnName(c string) bool {
	c = strings.ToLower(c)
	for _, s := range []string{"hash", "secret", "password", "token", "signing_key", "totp", "credential"} {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

// accountTables lists the database's tables with an account_id column,
// found in the schema so that a table added later is covered too.
func (s *Store) accountTables(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]string, error) {
	query := `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'account_id' ORDER BY m.name`
	if s.d.Name == "postgres" {
		// pg_catalog, not information_schema: the latter is slow where
		// there are many schemas.
		query = `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
			WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attname = 'account_id' AND NOT a.attisdropped ORDER BY c.relname`
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// AccountExport implements store.Subscriptions.
func (s *Store) AccountExport(ctx context.Context, accountID string) ([]store.SubjectTable, error) {
	tables, err := s.accountTables(ctx, s.r)
	if err != nil {
		return nil, err
	}
	acct, err := s.readTable(ctx, "account", `SELECT id, name, currency, balance, payment, credit_limit, report_url, inbound_url, created_at FROM accounts WHERE id = ?`, accountID)
	if err != nil {
		return nil, fmt.Errorf("exporting the account: %w", err)
	}
	out := []store.SubjectTable{*acct}
	for _, name := range tables {
		if notExported[name] {
			continue
		}
		q := `SELECT * FROM ` + name + ` WHERE account_id = ?`
		tname := name
		if name == "messages" {
			q = `SELECT id AS message_id, * FROM messages WHERE account_id = ? ORDER BY created_at, id`
		}
		t, err := s.readTable(ctx, tname, q, accountID)
		if err != nil {
			return nil, fmt.Errorf("exporting %s: %w", name, err)
		}
		if err := s.openSubjectTable(ctx, accountID, t); err != nil {
			return nil, fmt.Errorf("exporting %s: %w", name, err)
		}
		dropSecretColumns(t)
		out = append(out, *t)
	}
	return out, nil
}

func dropSecretColumns(t *store.SubjectTable) {
	var keep []int
	for i, c := range t.Columns {
		if !secretColumnName(c) {
			keep = append(keep, i)
		}
	}
	if len(keep) == len(t.Columns) {
		return
	}
	cols := make([]string, len(keep))
	for j, i := range keep {
		cols[j] = t.Columns[i]
	}
	for r, row := range t.Rows {
		nr := make([]string, len(keep))
		for j, i := range keep {
			nr[j] = row[i]
		}
		t.Rows[r] = nr
	}
	t.Columns = cols
}

// plainArchive starts an archive stored without encryption.
const plainArchive = "b64:"

// archiveAAD binds a sealed archive to its account.
func archiveAAD(accountID string) string { return "account_archives.archive/" + accountID }

// ArchiveScope is the keyring scope of an account's archive: its own,
// so that the account's data key is shredded at deletion while the
// archive stays readable until it is purged.
func ArchiveScope(accountID string) string { return "archive:" + accountID }

// DeleteAccount implements store.Subscriptions.
func (s *Store) DeleteAccount(ctx context.Context, life *store.Lifecycle, archive []byte, notices []*store.Job) (*store.AccountDeletion, error) {
	accountID, at, archiveUntil := life.AccountID, life.DeletedAt, life.ArchiveUntil
	if accountID == "" {
		return nil, errors.New("deleting an account: no account given")
	}
	if _, err := s.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	// Without a keyring the archive is kept in clear, as base64: the
	// column is text.
	sealed := plainArchive + base64.StdEncoding.EncodeToString(archive)
	if s.keys != nil {
		v, err := s.keys.SealFor(ctx, ArchiveScope(accountID), archiveAAD(accountID), archive)
		if err != nil {
			return nil, fmt.Errorf("sealing the account's archive: %w", err)
		}
		sealed = v
	}
	d := &store.AccountDeletion{Deleted: map[string]int{}, Kept: map[string]int{}}
	err := s.inTx(ctx, "deleting an account", func(tx *sql.Tx) error {
		if err := s.deleteAccountRows(ctx, tx, accountID, d); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO account_archives (account_id, created_at, purge_at, size, archive) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id) DO UPDATE SET created_at = excluded.created_at, purge_at = excluded.purge_at, size = excluded.size, archive = excluded.archive`),
			accountID, micros(at), micros(archiveUntil), len(archive), sealed); err != nil {
			return fmt.Errorf("storing the account's archive: %w", err)
		}
		if err := s.putLife(ctx, tx, accountID, life); err != nil {
			return err
		}
		return s.addJobs(ctx, tx, notices)
	})
	if err != nil {
		return nil, err
	}
	// Backups made before hold the account's rows: the journal beside
	// them has a restore delete them again (PurgeArchive writes it again,
	// should this fail).
	if _, err := s.journalDeletion(accountID, at, archiveUntil); err != nil {
		return d, fmt.Errorf("recording the deletion for backups: %w", err)
	}
	if s.keys != nil {
		sh, err := s.shred(ctx, accountID)
		d.DataKeys, d.BackupKeyFiles = sh.DataKeys, sh.BackupKeyFiles
		if err != nil {
			return d, fmt.Errorf("shredding the account's data keys: %w", err)
		}
	}
	return d, nil
}

// deleteAccountRows deletes an account's rows from every table with an
// account_id but those kept on deletion, blanks the account row and has
// every node drop the account's cached keys; d counts what went and what
// stayed.
func (s *Store) deleteAccountRows(ctx context.Context, tx *sql.Tx, accountID string, d *store.AccountDeletion) error {
	tables, err := s.accountTables(ctx, tx)
	if err != nil {
		return err
	}
	for _, name := range tables {
		if keptOnDeletion[name] {
			var n int
			if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM `+name+` WHERE account_id = ?`), accountID).Scan(&n); err != nil {
				return fmt.Errorf("counting %s: %w", name, err)
			}
			if n > 0 {
				d.Kept[name] = n
			}
			continue
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM `+name+` WHERE account_id = ?`), accountID)
		if err != nil {
			return fmt.Errorf("deleting from %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			d.Deleted[name] = int(n)
		}
	}
	// The account row stays, blank, for its ledger and invoices.
	// Its alert contacts stay until the archive is purged: the
	// deletion's notice goes there.
	if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE accounts SET name = ?, report_url = '', inbound_url = '', signing_key = '',
		topup_enabled = ? WHERE id = ?`), "[deleted]", false, accountID); err != nil {
		return fmt.Errorf("blanking the account: %w", err)
	}
	// Its keys went with access_keys: nodes drop what they cached.
	if _, err := tx.ExecContext(ctx, `UPDATE key_revocations SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("revoking the account's keys: %w", err)
	}
	return nil
}

// AccountArchive implements store.Subscriptions.
func (s *Store) AccountArchive(ctx context.Context, accountID string) ([]byte, time.Time, error) {
	var v string
	var purge int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT archive, purge_at FROM account_archives WHERE account_id = ?`), accountID).Scan(&v, &purge)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, store.ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the account's archive: %w", err)
	}
	if b64, ok := strings.CutPrefix(v, plainArchive); ok {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("reading the account's archive: %w", err)
		}
		return b, fromMicros(purge), nil
	}
	if s.keys == nil {
		return nil, time.Time{}, errors.New("reading the account's archive: it is encrypted and the store has no keyring")
	}
	b, err := s.keys.Open(ctx, archiveAAD(accountID), v)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("opening the account's archive: %w", err)
	}
	return b, fromMicros(purge), nil
}

// PurgeArchive implements store.Subscriptions.
func (s *Store) PurgeArchive(ctx context.Context, accountID string) error {
	err := s.inTx(ctx, "purging the account's archive", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM account_archives WHERE account_id = ?`), accountID); err != nil {
			return fmt.Errorf("purging the account's archive: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE accounts SET alert_url = '', alert_emails = '' WHERE id = ?`), accountID); err != nil {
			return fmt.Errorf("forgetting the account's alert contacts: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var at, until time.Time
	if l, err := s.GetLifecycle(ctx, accountID); err == nil {
		at, until = l.DeletedAt, l.ArchiveUntil
	}
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := s.journalDeletion(accountID, at, until); err != nil {
		return fmt.Errorf("recording the deletion for backups: %w", err)
	}
	if s.keys != nil {
		// The account's own scope again too: a deletion that stopped
		// before its shredding is finished here.
		for _, scope := range []string{ArchiveScope(accountID), accountID} {
			if _, err := s.shred(ctx, scope); err != nil {
				return fmt.Errorf("shredding the keys of %s: %w", scope, err)
			}
		}
	}
	return nil
}
