package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// The master key encrypts the data keys that encrypt the secrets stored in
// the database (docs/operations.md, "Secrets at rest"). It comes from
// Config.MasterKey (OMNIGATE_MASTER_KEY), else Config.MasterKeyFile
// (--master-key-file), else the data directory's master.key, which the
// first start makes so that `omnigate serve` works with no set-up.

// MasterKeyFileName is the master key's file in the data directory when
// no other is given.
const MasterKeyFileName = "master.key"

// masterKeyPath is the file the master key is read from.
func (c Config) masterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, MasterKeyFileName)
}

// loadMasterKey reads the master key and says where it came from. It
// returns nil, and no error, when none is configured and the data
// directory has none yet.
func (c Config) loadMasterKey(log *slog.Logger) (m *keyring.Master, from string, err error) {
	if c.MasterKey != "" {
		m, err := keyring.ParseMaster(c.MasterKey)
		if err != nil {
			return nil, "", fmt.Errorf("master key (OMNIGATE_MASTER_KEY): %w", err)
		}
		return m, "OMNIGATE_MASTER_KEY", nil
	}
	path := c.masterKeyPath()
	m, loose, err := keyring.LoadMasterFile(path)
	if errors.Is(err, fs.ErrNotExist) && c.MasterKeyFile == "" {
		return nil, path, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("master key: %w", err)
	}
	if loose {
		log.Warn("the master key file can be read by other users: make it readable by omnigate's user only (chmod 600)", "file", path)
	}
	return m, path, nil
}

// openKeyring gives the store the keyring of the configured master key, and
// encrypts the secrets an earlier release stored in clear. On a database
// whose secrets another master key encrypted it fails, changing nothing.
func openKeyring(ctx context.Context, cfg Config, st *sqlstore.Store, log *slog.Logger) error {
	master, from, err := cfg.loadMasterKey(log)
	if err != nil {
		return err
	}
	if master == nil {
		// No master key anywhere: make one in the data directory, unless
		// the database already has secrets encrypted under another.
		if has, err := st.HasDataKeys(ctx); err != nil {
			return err
		} else if has {
			return fmt.Errorf("master key: the database's secrets are encrypted, and there is no master key at %s: "+
				"give the one this database was set up with (--master-key-file or OMNIGATE_MASTER_KEY)", from)
		}
		if master, err = generateMasterKey(cfg.DataDir, from); err != nil {
			return err
		}
		log.Warn("generated a new master key: it encrypts the secrets stored in the database (signing keys, realtime secrets, carrier passwords). "+
			"Back it up: without it they are lost. For production keep it off the data disk (--master-key-file or OMNIGATE_MASTER_KEY)",
			"file", from, "master_key_id", master.ID())
	}
	kr, err := keyring.Open(ctx, st, master)
	if err != nil {
		var wrong *keyring.WrongMasterError
		if errors.As(err, &wrong) {
			return fmt.Errorf("master key (%s): %w: start with the master key this database was set up with", from, err)
		}
		return fmt.Errorf("master key (%s): %w", from, err)
	}
	st.UseKeyring(kr)
	done, err := st.Reseal(ctx, false)
	if err != nil {
		return fmt.Errorf("encrypting secrets stored in clear: %w", err)
	}
	if len(done) > 0 {
		attrs := []any{"master_key_id", master.ID(), "data_key_id", kr.CurrentKeyID()}
		cols := make([]string, 0, len(done))
		for c := range done {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		for _, c := range cols {
			attrs = append(attrs, c, done[c])
		}
		log.Warn("encrypted the secrets an earlier release stored in clear", attrs...)
	}
	return nil
}

// generateMasterKey writes a new master key at path, in a data directory
// it creates if needed. When another process wrote it first, it reads that
// one.
func generateMasterKey(dataDir, path string) (*keyring.Master, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	m, err := keyring.GenerateMasterFile(path)
	if errors.Is(err, fs.ErrExist) {
		m, _, err = keyring.LoadMasterFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: writing %s: %w", path, err)
	}
	return m, nil
}

// Rotation is what RotateKeys did.
type Rotation struct {
	MasterKeyID string         `json:"master_key_id"` // the master key that now wraps every data key
	OldMasterID string         `json:"old_master_key_id,omitempty"`
	DataKeyID   string         `json:"data_key_id"` // the new data key
	Resealed    map[string]int `json:"resealed"`    // values re-encrypted, per "table.column"
}

// RotateKeys makes a new data key and re-encrypts every secret with it,
// online: nodes running meanwhile read both old and new values. With
// newMaster it first wraps every data key with newMaster as well as with
// the master key st was opened with, and the new data key with both, so
// that nodes still running with the old master key keep working until they
// restart with the new one; RetireMaster then forgets the old one.
func RotateKeys(ctx context.Context, st *sqlstore.Store, newMaster keyring.Wrapper) (*Rotation, error) {
	kr := st.Keyring()
	out := &Rotation{MasterKeyID: kr.MasterID()}
	var also []keyring.Wrapper
	if newMaster != nil {
		if _, err := kr.AddMaster(ctx, newMaster); err != nil {
			return nil, err
		}
		also = append(also, newMaster)
		out.MasterKeyID, out.OldMasterID = newMaster.ID(), kr.MasterID()
	}
	id, err := kr.Rotate(ctx, also...)
	if err != nil {
		return nil, err
	}
	out.DataKeyID = id
	if out.Resealed, err = st.Reseal(ctx, true); err != nil {
		return out, fmt.Errorf("re-encrypting secrets (run it again to finish): %w", err)
	}
	return out, nil
}

// RetireMaster deletes the wrappings of the data keys by an old master key,
// once every node runs with the one st was opened with. It returns how
// many it deleted.
func RetireMaster(ctx context.Context, st *sqlstore.Store, oldID string) (int, error) {
	return st.Keyring().RetireMaster(ctx, oldID)
}

// KeyStatus is the state of the key hierarchy, for `omnigate secrets status`.
type KeyStatus struct {
	MasterKeyID string                 `json:"master_key_id"`
	DataKeys    []DataKeyStatus        `json:"data_keys"`
	Secrets     []sqlstore.SecretCount `json:"secrets"`
}

// DataKeyStatus is one data key: which master keys wrap it, and whether it
// encrypts new values.
type DataKeyStatus struct {
	ID        string   `json:"id"`
	Scope     string   `json:"scope,omitempty"` // the account whose data it encrypts; "" for the platform's secrets
	Created   string   `json:"created"`
	Current   bool     `json:"current"`
	WrappedBy []string `json:"wrapped_by"` // master key ids
}

// Keys reports the key hierarchy and how the secrets are stored.
func Keys(ctx context.Context, st *sqlstore.Store) (*KeyStatus, error) {
	kr := st.Keyring()
	stored, err := st.DataKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := &KeyStatus{MasterKeyID: kr.MasterID()}
	at := map[string]int{}
	for _, sk := range stored {
		i, ok := at[sk.ID]
		if !ok {
			i = len(out.DataKeys)
			at[sk.ID] = i
			out.DataKeys = append(out.DataKeys, DataKeyStatus{ID: sk.ID, Scope: sk.Scope, Created: sk.CreatedAt.Format(time.RFC3339), Current: sk.ID == kr.CurrentKeyID()})
		}
		out.DataKeys[i].WrappedBy = append(out.DataKeys[i].WrappedBy, sk.MasterID)
	}
	if out.Secrets, err = st.SecretCounts(ctx); err != nil {
		return nil, err
	}
	return out, nil
}
