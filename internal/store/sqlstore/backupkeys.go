package sqlstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/omnigate/omnigate/internal/backupkeys"
	"github.com/omnigate/omnigate/internal/store"
)

// Erasure that reaches backups (docs/privacy.md, "Backups"). Backups hold
// no data key: each has a keys file beside it (internal/backup). Shredding
// a scope deletes its keys here, then from every keys file of the backup
// directories, and journals it; completing a person's erasure journals it
// with the identifier sealed, for `omnigate restore` to apply again.

// SetBackupDirs names the directories that hold backups (the schedule's
// and `omnigate backup`'s): shreds rewrite their keys files, shreds and
// erasures go into their journals. Missing directories are skipped.
func (s *Store) SetBackupDirs(dirs []string) {
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		if d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	s.backupDirs = out
}

// Shredded says what a shred deleted.
type Shredded struct {
	// DataKeys is how many data keys went from the database.
	DataKeys int `json:"data_keys_deleted"`
	// BackupKeyFiles is how many backup keys files were rewritten without
	// them.
	BackupKeyFiles int `json:"backup_keys_files_rewritten"`
}

// shred crypto-shreds a keyring scope: its data keys go from the database
// (with a tombstone each), then from the keys files of the backup
// directories; the journals record the shred, so that a restore of a
// backup whose keys file was not rewritten (a copy made elsewhere) drops
// them too. Shredding again finishes a shred stopped part-way.
func (s *Store) shred(ctx context.Context, scope string) (Shredded, error) {
	var out Shredded
	n, err := s.keys.Shred(ctx, scope)
	out.DataKeys = n
	if err != nil {
		return out, err
	}
	ids, err := s.shreddedKeys(ctx, scope)
	if err != nil || len(ids) == 0 {
		return out, err
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	if _, err := backupkeys.Append(s.backupDirs, backupkeys.Entry{Kind: backupkeys.KindShred, At: time.Now().UTC(), Account: scope, Keys: list}); err != nil {
		return out, fmt.Errorf("shredding %s: %w", scope, err)
	}
	out.BackupKeyFiles, err = backupkeys.DropKeys(s.backupDirs, ids)
	if err != nil {
		return out, fmt.Errorf("shredding %s: the data keys are deleted from the database, but not from every backup keys file: %w", scope, err)
	}
	return out, nil
}

// journalPurpose names the derived key that seals identifiers in the
// erasure journal.
const journalPurpose = "erasure-journal"

// journalKey is the AEAD of the erasure journal: AES-256-GCM under a key
// derived from the platform's oldest data key, which every backup's keys
// file holds and no rotation replaces.
func (s *Store) journalKey() (cipher.AEAD, error) {
	if s.keys == nil {
		return nil, errors.New("erasure journal: the store has no keyring")
	}
	key := s.keys.Derive(journalPurpose)
	if key == nil {
		return nil, errors.New("erasure journal: the keyring has no data key")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func journalAAD(accountID, requestID string) []byte {
	return []byte("erasure journal\x00" + accountID + "\x00" + requestID)
}

// JournalErasure records a completed erasure of an identifier in an
// account in the backup directories' journals, the identifier sealed. It
// returns how many journals it wrote (0 without backup directories).
func (s *Store) JournalErasure(ctx context.Context, accountID, requestID, identifier string, at time.Time) (int, error) {
	if len(s.backupDirs) == 0 {
		return 0, nil
	}
	aead, err := s.journalKey()
	if err != nil {
		return 0, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return 0, err
	}
	sealed := aead.Seal(nonce, nonce, []byte(identifier), journalAAD(accountID, requestID))
	return backupkeys.Append(s.backupDirs, backupkeys.Entry{Kind: backupkeys.KindErase, At: at.UTC(), Account: accountID,
		Request: requestID, Identifier: base64.RawURLEncoding.EncodeToString(sealed)})
}

// journalDeletion records an account's deletion in the backup
// directories' journals, so that a restore of a backup made before it
// deletes the account's rows again. It returns how many journals it wrote.
func (s *Store) journalDeletion(accountID string, at, archiveUntil time.Time) (int, error) {
	return backupkeys.Append(s.backupDirs, backupkeys.Entry{Kind: backupkeys.KindDelete, At: at.UTC(), Account: accountID,
		ArchiveUntil: archiveUntil.UTC()})
}

// Replayed says what ReplayErasures did.
type Replayed struct {
	// Erasures is how many journalled erasures were applied again.
	Erasures int `json:"erasures_replayed"`
	// Erased counts what they erased, by kind.
	Erased map[string]int `json:"erased"`
	// Deletions is how many journalled account deletions were applied
	// again.
	Deletions int `json:"deletions_replayed"`
	// Skipped is how many were of accounts not in this database, or
	// whose account's keys are shredded (nothing of theirs opens).
	Skipped int `json:"skipped"`
}

// ReplayErasures applies again, to a restored database, the journal's
// erasures made at or after since (the backup's copy began then; earlier
// ones are in it). Erasing is idempotent, so an erasure the backup holds
// already changes nothing.
func (s *Store) ReplayErasures(ctx context.Context, entries []backupkeys.Entry, since time.Time) (Replayed, error) {
	out := Replayed{Erased: map[string]int{}}
	var aead cipher.AEAD
	for _, e := range entries {
		if e.Kind == backupkeys.KindDelete && !e.At.Before(since) {
			done, err := s.replayDeletion(ctx, e)
			if err != nil {
				return out, err
			}
			if done {
				out.Deletions++
			} else {
				out.Skipped++
			}
			continue
		}
		if e.Kind != backupkeys.KindErase || e.At.Before(since) {
			continue
		}
		if aead == nil {
			var err error
			if aead, err = s.journalKey(); err != nil {
				return out, err
			}
			// The leases the backup holds are of the processes that ran
			// then: none runs now. Released, the jobs are due when their
			// leases would have ended, as before, and the erasure
			// cancels the sends it finds rather than wait for them.
			if _, err := s.w.ExecContext(ctx, `UPDATE jobs SET lease_owner = '' WHERE lease_owner <> ''`); err != nil {
				return out, fmt.Errorf("erasure journal: releasing the backup's job leases: %w", err)
			}
		}
		sealed, err := base64.RawURLEncoding.DecodeString(e.Identifier)
		if err != nil || len(sealed) < aead.NonceSize()+aead.Overhead() {
			return out, fmt.Errorf("erasure journal: the entry of request %s is malformed", e.Request)
		}
		plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], journalAAD(e.Account, e.Request))
		if err != nil {
			return out, fmt.Errorf("erasure journal: the entry of request %s does not open with this database's keys "+
				"(a journal of another installation, or altered)", e.Request)
		}
		if _, err := s.GetAccount(ctx, e.Account); err != nil {
			out.Skipped++
			continue
		}
		er, err := s.EraseSubject(ctx, e.Account, string(plain), e.At)
		if err != nil {
			return out, fmt.Errorf("erasure journal: applying request %s again: %w", e.Request, err)
		}
		if er.InFlight > 0 {
			return out, fmt.Errorf("erasure journal: applying request %s again: %d sends are held by a worker", e.Request, er.InFlight)
		}
		out.Erasures++
		for k, v := range er.Erased {
			out.Erased[k] += v
		}
	}
	return out, nil
}

// replayDeletion deletes again, in a restored database, the rows of an
// account the journal says was deleted (what the deletion keeps stays),
// and records the account as deleted so that the lifecycle does not
// delete it a second time. It reports false for an account the database
// does not hold.
func (s *Store) replayDeletion(ctx context.Context, e backupkeys.Entry) (bool, error) {
	if _, err := s.GetAccount(ctx, e.Account); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	life, err := s.GetLifecycle(ctx, e.Account)
	switch {
	case errors.Is(err, store.ErrNotFound):
		life = &store.Lifecycle{AccountID: e.Account}
	case err != nil:
		return false, err
	}
	if life.State != store.LifePurged {
		life.State = store.LifeDeleted
	}
	life.DeletedAt, life.UpdatedAt = e.At, time.Now().UTC()
	if !e.ArchiveUntil.IsZero() {
		life.ArchiveUntil = e.ArchiveUntil
	}
	d := &store.AccountDeletion{Deleted: map[string]int{}, Kept: map[string]int{}}
	err = s.inTx(ctx, "deleting an account again", func(tx *sql.Tx) error {
		if err := s.deleteAccountRows(ctx, tx, e.Account, d); err != nil {
			return err
		}
		return s.putLife(ctx, tx, e.Account, life)
	})
	if err != nil {
		return false, fmt.Errorf("erasure journal: deleting account %s again: %w", e.Account, err)
	}
	return true, nil
}
