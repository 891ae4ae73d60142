// Package backupkeys keeps what makes erasure reach backups: the data keys
// of each backup, in a keys file beside it rather than in the copy, and the
// erasure journal of the backup directory.
//
// A backup (internal/backup) holds no data key: its data keys, wrapped by
// the master key, are in "<backup file>.keys". Shredding an account
// (crypto-shredding) deletes its keys from the live database and from every
// keys file of the backup directories, so no copy of them is left and what
// they sealed reads as erased in every backup. The journal
// ("omnigate-erasures.journal") records each shred and each completed
// erasure of a person (its identifier sealed, never in clear), so that
// `omnigate restore` applies them again to a backup made before them.
//
// The package knows no table: the store and the backup package give it
// keys and ids.
package backupkeys

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Suffix ends a keys file's name: "<backup file>.keys".
const Suffix = ".keys"

// format names the keys file's layout.
const format = "omnigate-backup-keys/1"

// Key is one data key wrapped by one master key, as data_keys holds it.
type Key struct {
	ID        string    `json:"id"`
	MasterID  string    `json:"master_id"`
	Scope     string    `json:"scope"`
	Wrapped   []byte    `json:"wrapped"`
	CreatedAt time.Time `json:"created_at"`
}

// File is a keys file: the wrapped data keys a backup needs, and when its
// copy began (what the erasure journal is replayed from).
type File struct {
	Format string `json:"format"`
	// Backup is the backup file's name.
	Backup string `json:"backup"`
	// Started is when the copy began (this machine's clock): erasures
	// journalled from then on may be missing from it.
	Started time.Time `json:"started"`
	Keys    []Key     `json:"keys"`
	// End marks a file written whole: a truncated file has none.
	End string `json:"end"`
}

const endMark = "end"

// ErrNoKeys is the error (errors.Is) of reading a backup whose keys file
// is missing.
var ErrNoKeys = errors.New("the backup's keys file is missing")

// Path is the keys file of a backup file.
func Path(backupFile string) string { return backupFile + Suffix }

// Read reads and checks a keys file.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoKeys, path)
	}
	if err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("keys file %s is corrupt or truncated: %w", path, err)
	}
	if f.Format != format {
		return nil, fmt.Errorf("keys file %s: not an omnigate backup keys file (format %q)", path, f.Format)
	}
	if f.End != endMark {
		return nil, fmt.Errorf("keys file %s is truncated (no end mark)", path)
	}
	for _, k := range f.Keys {
		if k.ID == "" || k.MasterID == "" || len(k.Wrapped) == 0 {
			return nil, fmt.Errorf("keys file %s is corrupt: a key without id, master key or wrapped bytes", path)
		}
	}
	return &f, nil
}

// Write writes f at path atomically: a temporary file, synced, renamed,
// then the directory synced. A file with a keys file's name is whole.
func Write(path string, f *File) error {
	f.Format, f.End = format, endMark
	if f.Keys == nil {
		f.Keys = []Key{}
	}
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".partial-keys-*")
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("keys file: writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keys file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keys file: syncing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("keys file: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("keys file: syncing %s: %w", dir, err)
	}
	return nil
}

// Without is keys less those whose id is in gone.
func Without(keys []Key, gone map[string]bool) []Key {
	out := make([]Key, 0, len(keys))
	for _, k := range keys {
		if !gone[k.ID] {
			out = append(out, k)
		}
	}
	return out
}

// inProcess serialises the directory lock within this process (flock is
// per open file, and the other platforms have no flock).
var inProcess sync.Map // dir → *sync.Mutex

// Locked runs f holding the directory's keys lock: a backup writing its
// keys file and a shred rewriting them take turns, so that neither
// rewrites the other's file from a stale read.
func Locked(dir string, f func() error) error {
	mu, _ := inProcess.LoadOrStore(filepath.Clean(dir), &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}

// lockName is the lock file of a backup directory.
const lockName = ".keys.lock"

// DropKeys removes the keys whose id is in ids from every keys file in
// dirs (missing directories are skipped), each rewritten atomically under
// the directory's lock. It returns how many files it rewrote. A keys file
// it cannot read is an error (left as it is): it may hold the keys.
func DropKeys(dirs []string, ids map[string]bool) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	rewritten := 0
	var errs []error
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		err := Locked(dir, func() error {
			entries, err := os.ReadDir(dir)
			if err != nil {
				return fmt.Errorf("keys files: %w", err)
			}
			for _, e := range entries {
				if e.IsDir() || !strings.HasSuffix(e.Name(), Suffix) || strings.HasPrefix(e.Name(), ".") {
					continue
				}
				path := filepath.Join(dir, e.Name())
				f, err := Read(path)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				kept := Without(f.Keys, ids)
				if len(kept) == len(f.Keys) {
					continue
				}
				f.Keys = kept
				if err := Write(path, f); err != nil {
					errs = append(errs, err)
					continue
				}
				rewritten++
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rewritten, errors.Join(errs...)
}
