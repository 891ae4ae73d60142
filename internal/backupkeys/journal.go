package backupkeys

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// JournalName is the erasure journal's file in a backup directory.
const JournalName = "omnigate-erasures.journal"

// Journal entry kinds.
const (
	// KindShred: an account's data keys were deleted (Keys).
	KindShred = "shred"
	// KindErase: a person's data in an account was erased.
	KindErase = "erase"
	// KindDelete: an account was deleted (its rows outside billing,
	// audit and the lifecycle's records).
	KindDelete = "delete"
)

// Entry is one line of the erasure journal (JSON). It never holds a
// person's identifier in clear: Identifier is sealed by the store
// (AES-256-GCM under a key derived from the platform's oldest data key),
// so it opens only with the master key and the database's keys.
type Entry struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Account is the account (for a shred, the keyring scope).
	Account string `json:"account"`
	// Keys are the ids of the data keys a shred deleted.
	Keys []string `json:"keys,omitempty"`
	// Request is the privacy request of an erasure.
	Request string `json:"request,omitempty"`
	// Identifier is the erased identifier, sealed.
	Identifier string `json:"identifier,omitempty"`
	// ArchiveUntil is when a deleted account's archive is purged.
	ArchiveUntil time.Time `json:"archiveUntil,omitzero"`
}

// JournalPath is the journal of a backup directory.
func JournalPath(dir string) string { return filepath.Join(dir, JournalName) }

// Append adds e to the journal of each directory of dirs that exists
// (one that does not holds no backup to reach), synced before it returns.
// It returns how many journals it wrote.
func Append(dirs []string, e Entry) (int, error) {
	line, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	line = append(line, '\n')
	n := 0
	var errs []error
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		err := Locked(dir, func() error {
			f, err := os.OpenFile(JournalPath(dir), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return fmt.Errorf("erasure journal: %w", err)
			}
			defer f.Close()
			if _, err := f.Write(line); err != nil {
				return fmt.Errorf("erasure journal: writing %s: %w", f.Name(), err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("erasure journal: syncing %s: %w", f.Name(), err)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// EnsureJournal makes the directory's journal, empty, unless it has one:
// every backup directory has one, so that a missing journal at restore is
// noticed.
func EnsureJournal(dir string) error {
	f, err := os.OpenFile(JournalPath(dir), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("erasure journal: %w", err)
	}
	return f.Close()
}

// ErrNoJournal is the error (errors.Is) of reading a journal that is not
// there.
var ErrNoJournal = errors.New("the erasure journal is missing")

// ReadJournal reads a journal. A last line cut short (a crash while
// appending it: its shred or erasure had not returned) is left out; any
// other line that does not read is an error.
func ReadJournal(path string) ([]Entry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoJournal, path)
	}
	if err != nil {
		return nil, fmt.Errorf("erasure journal: %w", err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i < len(b)-1 {
		b = b[:i+1] // a torn last line
	}
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("erasure journal %s, line %d, is corrupt: %w", path, line, err)
		}
		if e.Kind != KindShred && e.Kind != KindErase && e.Kind != KindDelete {
			return nil, fmt.Errorf("erasure journal %s, line %d: unknown kind %q", path, line, e.Kind)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// ShreddedKeys are the ids of the data keys the journal's shreds deleted.
func ShreddedKeys(entries []Entry) map[string]bool {
	ids := map[string]bool{}
	for _, e := range entries {
		if e.Kind == KindShred {
			for _, id := range e.Keys {
				ids[id] = true
			}
		}
	}
	return ids
}
