package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// stores runs f on a fresh database of each engine: the data keys live in
// the real store.
func stores(t *testing.T, f func(t *testing.T, st *sqlstore.Store)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			var st *sqlstore.Store
			var err error
			if engine == "sqlite" {
				st, err = sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "k.db"), Synchronous: sqlite.SyncNormal})
			} else {
				st, err = postgres.Open(context.Background(), postgres.Config{URL: postgrestest.URL(t), MaxConns: 4})
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			f(t, st)
		})
	}
}

func newMaster(t *testing.T) *keyring.Master {
	t.Helper()
	m, err := keyring.GenerateMasterFile(filepath.Join(t.TempDir(), "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Sealed values are versioned envelopes naming their data key; they open
// only with the associated data they were sealed with, and any change to
// them is detected.
func TestSealOpen(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		k, err := keyring.Open(ctx, st, newMaster(t))
		if err != nil {
			t.Fatal(err)
		}
		v, err := k.Seal(ctx, "accounts.signing_key/a1", []byte("s3cret"))
		if err != nil {
			t.Fatal(err)
		}
		if !keyring.Sealed(v) || keyring.KeyID(v) != k.CurrentKeyID() || strings.Contains(v, "s3cret") {
			t.Fatalf("sealed value %q", v)
		}
		if again, _ := k.Seal(ctx, "accounts.signing_key/a1", []byte("s3cret")); again == v {
			t.Error("two seals of one value are equal: the nonce is not fresh")
		}
		if p, err := k.Open(ctx, "accounts.signing_key/a1", v); err != nil || string(p) != "s3cret" {
			t.Fatalf("Open = %q, %v", p, err)
		}
		// Moved to another row, or altered: refused.
		if _, err := k.Open(ctx, "accounts.signing_key/a2", v); err == nil {
			t.Error("a value opened in another row")
		}
		raw, _ := base64.RawURLEncoding.DecodeString(v[strings.LastIndex(v, ":")+1:])
		raw[len(raw)-1] ^= 1
		altered := v[:strings.LastIndex(v, ":")+1] + base64.RawURLEncoding.EncodeToString(raw)
		if _, err := k.Open(ctx, "accounts.signing_key/a1", altered); err == nil {
			t.Error("an altered value opened")
		}
		for _, bad := range []string{"clear", keyring.Prefix + "nokey:AAAA", keyring.Prefix + k.CurrentKeyID() + ":!!", keyring.Prefix + k.CurrentKeyID() + ":AAAA"} {
			if _, err := k.Open(ctx, "x", bad); err == nil {
				t.Errorf("Open(%q) succeeded", bad)
			}
		}
	})
}

// A rotation makes a new data key that seals from then on; values sealed
// before open still, also through another keyring that loaded before the
// rotation (another node).
func TestRotate(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		m := newMaster(t)
		k, err := keyring.Open(ctx, st, m)
		if err != nil {
			t.Fatal(err)
		}
		other, err := keyring.Open(ctx, st, m)
		if err != nil {
			t.Fatal(err)
		}
		if other.CurrentKeyID() != k.CurrentKeyID() {
			t.Fatalf("a second keyring made another first key: %s, %s", other.CurrentKeyID(), k.CurrentKeyID())
		}
		old, _ := k.Seal(ctx, "a", []byte("one"))
		id, err := k.Rotate(ctx)
		if err != nil || id == keyring.KeyID(old) || k.CurrentKeyID() != id {
			t.Fatalf("Rotate = %s, %v; current %s", id, err, k.CurrentKeyID())
		}
		v, _ := k.Seal(ctx, "b", []byte("two"))
		if keyring.KeyID(v) != id {
			t.Errorf("sealed by %s after the rotation, want %s", keyring.KeyID(v), id)
		}
		for _, kr := range []*keyring.Keyring{k, other} {
			if p, err := kr.Open(ctx, "a", old); err != nil || string(p) != "one" {
				t.Errorf("the old value: %q, %v", p, err)
			}
			if p, err := kr.Open(ctx, "b", v); err != nil || string(p) != "two" {
				t.Errorf("the new value: %q, %v", p, err)
			}
		}
	})
}

// Another master key opens nothing; a second master key added to the
// keyring opens everything; the old one is retired only while another
// wraps every key.
func TestMasters(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		m1, m2 := newMaster(t), newMaster(t)
		k1, err := keyring.Open(ctx, st, m1)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := k1.Seal(ctx, "a", []byte("one"))
		_, err = keyring.Open(ctx, st, m2)
		var wrong *keyring.WrongMasterError
		if !errors.As(err, &wrong) || wrong.Given != m2.ID() || len(wrong.Found) != 1 || wrong.Found[0] != m1.ID() {
			t.Fatalf("opening with another master key: %v", err)
		}
		if _, err := k1.RetireMaster(ctx, m2.ID()); err == nil {
			t.Error("retired a master key that wraps nothing")
		}
		if n, err := k1.AddMaster(ctx, m2); err != nil || n != 1 {
			t.Fatalf("AddMaster = %d, %v", n, err)
		}
		if n, err := k1.AddMaster(ctx, m2); err != nil || n != 0 {
			t.Errorf("AddMaster again = %d, %v; want nothing to do", n, err)
		}
		k2, err := keyring.Open(ctx, st, m2)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := k2.Open(ctx, "a", v); err != nil || string(p) != "one" {
			t.Fatalf("the new master key opens %q, %v", p, err)
		}
		// A key only m1 wraps blocks retiring m1.
		if _, err := k1.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := k2.RetireMaster(ctx, m1.ID()); err == nil || !strings.Contains(err.Error(), "wrapped only by master key") {
			t.Errorf("retiring the only master key of a data key: %v", err)
		}
		if _, err := keyring.Open(ctx, st, m2); err == nil || !strings.Contains(err.Error(), "not by the master key given") {
			t.Errorf("opening with a master key that does not wrap every data key: %v", err)
		}
		if _, err := k1.AddMaster(ctx, m2); err != nil {
			t.Fatal(err)
		}
		if _, err := k2.RetireMaster(ctx, m2.ID()); err == nil {
			t.Error("retired the master key in use")
		}
		if n, err := k2.RetireMaster(ctx, m1.ID()); err != nil || n != 2 {
			t.Fatalf("RetireMaster = %d, %v", n, err)
		}
		if _, err := keyring.Open(ctx, st, m1); !errors.As(err, &wrong) {
			t.Errorf("the retired master key still opens the database: %v", err)
		}
	})
}

// Master key files: made owner-only and never over another; read back;
// malformed ones refused without echoing them.
func TestMasterFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	m, err := keyring.GenerateMasterFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("made with mode %v", fi.Mode().Perm())
	}
	if _, err := keyring.GenerateMasterFile(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a second GenerateMasterFile: %v", err)
	}
	back, loose, err := keyring.LoadMasterFile(path)
	if err != nil || loose || back.ID() != m.ID() {
		t.Fatalf("LoadMasterFile = %v, %v, %v", back, loose, err)
	}
	os.Chmod(path, 0o644)
	if _, loose, _ := keyring.LoadMasterFile(path); !loose {
		t.Error("a file others can read is not reported")
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, _, err := keyring.LoadMasterFile(path); err == nil || (bad != "" && strings.Contains(err.Error(), bad)) {
			t.Errorf("file %q: %v", bad, err)
		}
	}
}

// Derived keys are the same on every node and across data key and master
// key rotations, and differ by purpose.
func TestDerive(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		m1, m2 := newMaster(t), newMaster(t)
		k1, err := keyring.Open(ctx, st, m1)
		if err != nil {
			t.Fatal(err)
		}
		verp := k1.Derive("verp")
		if len(verp) != 32 || bytes.Equal(verp, k1.Derive("other")) {
			t.Fatalf("derived %x", verp)
		}
		if _, err := k1.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k1.Derive("verp"), verp) {
			t.Error("a data key rotation changed the derived key")
		}
		if _, err := k1.AddMaster(ctx, m2); err != nil {
			t.Fatal(err)
		}
		k2, err := keyring.Open(ctx, st, m2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(k2.Derive("verp"), verp) {
			t.Error("another master key derives another key")
		}
	})
}
