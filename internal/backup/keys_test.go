package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/backupkeys"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// keysEnv is one engine's database to back up and fresh targets to
// restore into.
type keysEnv struct {
	t      *testing.T
	engine string
	src    Source
	master *keyring.Master
}

func keysEngines(t *testing.T, f func(t *testing.T, e *keysEnv)) {
	for _, engine := range []string{SQLite, Postgres} {
		t.Run(engine, func(t *testing.T) {
			e := &keysEnv{t: t, engine: engine}
			if engine == Postgres {
				if !pgtest.Available() {
					t.Skip(pgtest.EnvVar + " is not set")
				}
				if _, err := exec.LookPath("pg_dump"); err != nil {
					t.Skip("pg_dump is not on PATH")
				}
				e.src = Source{DatabaseURL: pgtest.URL(t)}
			} else {
				e.src = Source{SQLitePath: filepath.Join(t.TempDir(), "live", "omnigate.db")}
			}
			m, err := keyring.GenerateMasterFile(filepath.Join(t.TempDir(), "master.key"))
			if err != nil {
				t.Fatal(err)
			}
			e.master = m
			f(t, e)
		})
	}
}

// open opens the store at src with the keyring of master, closed at the
// end of the test.
func (e *keysEnv) open(src Source, master keyring.Wrapper) *sqlstore.Store {
	e.t.Helper()
	st := e.openOnly(src, master)
	e.t.Cleanup(func() { st.Close() })
	return st
}

// openOnly is open without the closing.
func (e *keysEnv) openOnly(src Source, master keyring.Wrapper) *sqlstore.Store {
	e.t.Helper()
	ctx := context.Background()
	var st *sqlstore.Store
	var err error
	if src.DatabaseURL != "" {
		st, err = postgres.Open(ctx, postgres.Config{URL: src.DatabaseURL, MaxConns: 4})
	} else {
		st, err = sqlite.Open(ctx, sqlite.Config{Path: src.SQLitePath, Synchronous: sqlite.SyncNormal})
	}
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := keyring.Open(ctx, st, master)
	if err != nil {
		e.t.Fatal(err)
	}
	st.UseKeyring(k)
	return st
}

// target is a new place to restore into.
func (e *keysEnv) target() Source {
	e.t.Helper()
	if e.engine == SQLite {
		return Source{SQLitePath: filepath.Join(e.t.TempDir(), "restored", "omnigate.db")}
	}
	name := "keys_" + strings.ToLower(ids.New()[12:])
	admin, err := sql.Open("pgx", os.Getenv(pgtest.EnvVar))
	if err != nil {
		e.t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if admin, err := sql.Open("pgx", os.Getenv(pgtest.EnvVar)); err == nil {
			admin.Exec(`DROP DATABASE ` + name + ` WITH (FORCE)`)
			admin.Close()
		}
	})
	u, _ := url.Parse(e.src.DatabaseURL)
	u.Path = "/" + name
	return Source{DatabaseURL: u.String()}
}

// restored reports whether anything was restored at dst.
func (e *keysEnv) restored(dst Source) bool {
	e.t.Helper()
	if dst.SQLitePath != "" {
		_, err := os.Stat(dst.SQLitePath)
		return err == nil
	}
	db, err := sql.Open("pgx", dst.DatabaseURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var has bool
	if err := db.QueryRow(`SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&has); err != nil {
		e.t.Fatal(err)
	}
	return has
}

func newAccount(t *testing.T, st *sqlstore.Store) *store.Account {
	t.Helper()
	a := &store.Account{ID: ids.New(), Name: "acme", Currency: "EUR", Balance: 5_000_000, SigningKey: ids.Secret(40),
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	_, k := auth.NewKey(a.ID, false)
	if err := st.CreateAccount(context.Background(), a, []*store.AccessKey{k}); err != nil {
		t.Fatal(err)
	}
	return a
}

// send stores a delivered message of a to one recipient.
func send(t *testing.T, st *sqlstore.Store, a *store.Account, to, body string) *message.Message {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	m := &message.Message{ID: ids.New(), AccountID: a.ID, Channel: message.ChannelSMS, Direction: message.MT, Type: message.TypeSMS,
		Originator: "omnigate", Body: body, CreatedAt: now, Purpose: "transactional",
		Recipients: []message.Recipient{{Seq: 0, Address: to, Country: "NL", CountryPrefix: 31, Status: message.Delivered, StatusAt: now,
			PartCount: 1, Length: len(body), Price: 1, PriceCurrency: "EUR"}}}
	if err := st.AcceptMessages(context.Background(), []*message.Message{m}); err != nil {
		t.Fatal(err)
	}
	return m
}

// read is a message's body and first recipient's address as st reads them.
func read(t *testing.T, st *sqlstore.Store, m *message.Message) (body, address string) {
	t.Helper()
	got, err := st.GetMessage(context.Background(), m.AccountID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Body, got.Recipients[0].Address
}

// A backup holds no data key: they are in its keys file, which Check
// requires and Restore puts back. Shredding an account rewrites the keys
// file, so the account's messages read as erased in the restored backup
// while another account's read as they were, even when an old copy of the
// keys file is restored (the journal leaves the shredded key out). A
// wrong master key, a missing, truncated keys file and a missing journal
// are refused, restoring nothing; --without-keys restores with
// everything encrypted erased.
func TestBackupKeysFile(t *testing.T) {
	keysEngines(t, func(t *testing.T, e *keysEnv) {
		ctx := context.Background()
		st := e.open(e.src, e.master)
		a, b := newAccount(t, st), newAccount(t, st)
		ma := send(t, st, a, "31612340001", "secret of A")
		mb := send(t, st, b, "31612340002", "secret of B")
		dir := t.TempDir()
		res, err := Make(ctx, e.src, dir, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		kf, err := backupkeys.Read(backupkeys.Path(res.File))
		if err != nil {
			t.Fatal(err)
		}
		scopes := map[string]bool{}
		for _, k := range kf.Keys {
			scopes[k.Scope] = true
		}
		if !scopes[""] || !scopes[a.ID] || !scopes[b.ID] || len(kf.Keys) != 3 {
			t.Fatalf("keys file holds %d keys of scopes %v", len(kf.Keys), scopes)
		}
		if _, err := os.Stat(backupkeys.JournalPath(dir)); err != nil {
			t.Fatalf("no journal beside the backup: %v", err)
		}

		// The copy holds none of them, in no byte.
		if e.engine == SQLite {
			st.Writer().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			live, _ := os.ReadFile(e.src.SQLitePath)
			if !bytes.Contains(live, kf.Keys[0].Wrapped) {
				t.Fatal("the live database holds no wrapped key: the scan below proves nothing")
			}
			copied, err := os.ReadFile(res.File)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range kf.Keys {
				// (The key's id is in every value it sealed.)
				if bytes.Contains(copied, k.Wrapped) {
					t.Fatalf("the backup file holds data key %s", k.ID)
				}
			}
		} else {
			out, err := exec.Command("pg_restore", "--file=-", "--data-only", "--table=data_keys", res.File).CombinedOutput()
			if err != nil {
				t.Fatalf("pg_restore: %v %s", err, out)
			}
			for _, k := range kf.Keys {
				if strings.Contains(string(out), k.ID) {
					t.Fatalf("the dump holds data key %s:\n%s", k.ID, out)
				}
			}
		}
		if _, _, err := Check(ctx, res.File); err != nil {
			t.Fatalf("Check: %v", err)
		}
		oldKeys, _ := os.ReadFile(backupkeys.Path(res.File))

		// Shred a: the keys file is rewritten without its key.
		st.SetBackupDirs([]string{dir, filepath.Join(t.TempDir(), "missing")})
		sh, err := st.ShredAccount(ctx, a.ID)
		if err != nil || sh.DataKeys != 1 || sh.BackupKeyFiles != 1 {
			t.Fatalf("ShredAccount = %+v, %v", sh, err)
		}
		kf2, err := backupkeys.Read(backupkeys.Path(res.File))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kf2.Keys {
			if k.Scope == a.ID {
				t.Fatalf("the keys file still holds %s's key", a.ID)
			}
		}
		if len(kf2.Keys) != 2 {
			t.Fatalf("keys file holds %d keys after the shred", len(kf2.Keys))
		}
		journal, err := backupkeys.ReadJournal(backupkeys.JournalPath(dir))
		if err != nil || len(journal) != 1 || journal[0].Kind != backupkeys.KindShred || journal[0].Account != a.ID {
			t.Fatalf("journal %+v, %v", journal, err)
		}

		// Restored: a's messages are erased, b's are there.
		check := func(dst Source, wantB string) {
			t.Helper()
			rs := e.open(dst, e.master)
			if body, addr := read(t, rs, ma); body != store.Erased || addr != store.Erased {
				t.Fatalf("a's shredded message reads %q to %q", body, addr)
			}
			if body, addr := read(t, rs, mb); body != wantB || (wantB != store.Erased && addr != "31612340002") {
				t.Fatalf("b's message reads %q to %q", body, addr)
			}
		}
		dst := e.target()
		rr, err := Restore(ctx, res.File, dst, RestoreOptions{Master: e.master})
		if err != nil {
			t.Fatal(err)
		}
		if rr.Keys != 2 || rr.Shredded != 0 {
			t.Fatalf("restore: %+v", rr)
		}
		check(dst, "secret of B")

		// An old copy of the keys file (made before the shred, kept
		// elsewhere): the journal leaves a's key out.
		os.WriteFile(backupkeys.Path(res.File), oldKeys, 0o600)
		dst = e.target()
		if rr, err = Restore(ctx, res.File, dst, RestoreOptions{Master: e.master}); err != nil || rr.Shredded != 1 || rr.Keys != 2 {
			t.Fatalf("restore with the old keys file: %+v, %v", rr, err)
		}
		check(dst, "secret of B")

		// Refusals, restoring nothing.
		refused := func(what string, opts RestoreOptions, want string) {
			t.Helper()
			dst := e.target()
			_, err := Restore(ctx, res.File, dst, opts)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: %v; want an error saying %q", what, err, want)
			}
			if e.restored(dst) {
				t.Fatalf("%s: a refused restore restored", what)
			}
		}
		other, _ := keyring.GenerateMasterFile(filepath.Join(t.TempDir(), "other.key"))
		refused("a wrong master key", RestoreOptions{Master: other}, "not by the master key given")
		os.Rename(backupkeys.JournalPath(dir), backupkeys.JournalPath(dir)+".away")
		refused("no journal", RestoreOptions{Master: e.master}, "erasure journal is missing")
		os.Rename(backupkeys.JournalPath(dir)+".away", backupkeys.JournalPath(dir))
		whole, _ := os.ReadFile(backupkeys.Path(res.File))
		os.WriteFile(backupkeys.Path(res.File), whole[:len(whole)/2], 0o600)
		refused("a truncated keys file", RestoreOptions{Master: e.master, WithoutKeys: true}, "truncated")
		if _, _, err := Check(ctx, res.File); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("Check of a truncated keys file: %v", err)
		}
		os.Remove(backupkeys.Path(res.File))
		refused("no keys file", RestoreOptions{Master: e.master}, "--without-keys")
		if _, _, err := Check(ctx, res.File); !errors.Is(err, backupkeys.ErrNoKeys) {
			t.Fatalf("Check without a keys file: %v", err)
		}

		// Without its keys: everything encrypted reads as erased.
		dst = e.target()
		if rr, err = Restore(ctx, res.File, dst, RestoreOptions{WithoutKeys: true}); err != nil || !rr.NoKeys || rr.Keys != 0 {
			t.Fatalf("restore without keys: %+v, %v", rr, err)
		}
		check(dst, store.Erased)
		os.WriteFile(backupkeys.Path(res.File), whole, 0o600)

		// Prune takes the keys file with its backup.
		if _, err := Prune(dir, Kept{}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{res.File, backupkeys.Path(res.File)} {
			if _, err := os.Stat(f); err == nil {
				t.Fatalf("prune left %s", f)
			}
		}
	})
}

// A shred that commits after a backup read the data keys, and before it
// wrote its keys file, is not brought back by it: the keys file leaves out
// the keys the database's tombstones name. (Make's steps, with the shred
// in between.)
func TestBackupLeavesOutKeysShreddedMeanwhile(t *testing.T) {
	keysEngines(t, func(t *testing.T, e *keysEnv) {
		ctx := context.Background()
		st := e.open(e.src, e.master)
		a, b := newAccount(t, st), newAccount(t, st)
		send(t, st, a, "31612340001", "A")
		send(t, st, b, "31612340002", "B")
		keys, err := liveKeys(ctx, e.src)
		if err != nil || len(keys) != 3 {
			t.Fatalf("liveKeys: %d, %v", len(keys), err)
		}
		dir := t.TempDir()
		st.SetBackupDirs([]string{dir}) // no keys file there yet: none rewritten
		if sh, err := st.ShredAccount(ctx, a.ID); err != nil || sh.DataKeys != 1 || sh.BackupKeyFiles != 0 {
			t.Fatalf("ShredAccount = %+v, %v", sh, err)
		}
		tmp := filepath.Join(dir, ".partial-x")
		os.WriteFile(tmp, []byte("copy"), 0o600)
		file := filepath.Join(dir, Name(e.engine, time.Now(), 58))
		if err := place(ctx, e.src, tmp, file, time.Now(), keys); err != nil {
			t.Fatal(err)
		}
		kf, err := backupkeys.Read(backupkeys.Path(file))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range kf.Keys {
			if k.Scope == a.ID {
				t.Fatal("the keys file holds the key shredded while the backup ran")
			}
		}
		if len(kf.Keys) != 2 {
			t.Fatalf("keys file holds %d keys", len(kf.Keys))
		}
	})
}

// A person erased after a backup is erased again when the backup is
// restored: the journal holds the erasure with the identifier sealed (not
// in clear), and Restore hands it to Finish, which erases it in the
// restored database. Another person's messages stay.
func TestRestoreReplaysErasures(t *testing.T) {
	keysEngines(t, func(t *testing.T, e *keysEnv) {
		ctx := context.Background()
		st := e.open(e.src, e.master)
		a := newAccount(t, st)
		mx := send(t, st, a, "31612349991", "to the person who asks to be erased")
		my := send(t, st, a, "31612349992", "to someone else")
		dir := t.TempDir()
		res, err := Make(ctx, e.src, dir, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		st.SetBackupDirs([]string{dir})
		if _, err := st.EraseSubject(ctx, a.ID, "31612349991", time.Now()); err != nil {
			t.Fatal(err)
		}
		if n, err := st.JournalErasure(ctx, a.ID, "req1", "31612349991", time.Now()); err != nil || n != 1 {
			t.Fatalf("JournalErasure = %d, %v", n, err)
		}
		raw, _ := os.ReadFile(backupkeys.JournalPath(dir))
		if bytes.Contains(raw, []byte("31612349991")) || !bytes.Contains(raw, []byte("req1")) {
			t.Fatalf("journal: %s", raw)
		}

		replay := func(opts RestoreOptions) (Source, sqlstore.Replayed, error) {
			dst := e.target()
			var got sqlstore.Replayed
			opts.Finish = func(ctx context.Context, db Source, erasures []backupkeys.Entry, since time.Time) error {
				rs := e.openOnly(db, e.master)
				defer rs.Close()
				var err error
				got, err = rs.ReplayErasures(ctx, erasures, since)
				return err
			}
			_, err := Restore(ctx, res.File, dst, opts)
			return dst, got, err
		}
		if _, _, err := replay(RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "master key") {
			t.Fatalf("replay without the master key: %v", err)
		}
		dst, got, err := replay(RestoreOptions{Master: e.master})
		if err != nil || got.Erasures != 1 || got.Erased["recipients"] != 1 {
			t.Fatalf("restore: %+v, %v", got, err)
		}
		rs := e.open(dst, e.master)
		if body, addr := read(t, rs, mx); body == "to the person who asks to be erased" || addr != sqlstore.Erased {
			t.Fatalf("the erased person's message reads %q to %q after the restore", body, addr)
		}
		if body, addr := read(t, rs, my); body != "to someone else" || addr != "31612349992" {
			t.Fatalf("another person's message reads %q to %q", body, addr)
		}
	})
}

// An account deleted after a backup is deleted again by the restore: the
// journal's deletion removes its rows (its data keys are gone with the
// shred), records it deleted, and leaves another account as it was.
func TestRestoreReplaysAccountDeletion(t *testing.T) {
	keysEngines(t, func(t *testing.T, e *keysEnv) {
		ctx := context.Background()
		st := e.open(e.src, e.master)
		gone, kept := newAccount(t, st), newAccount(t, st)
		mg := send(t, st, gone, "31612349993", "to a customer of the account that is deleted")
		mk := send(t, st, kept, "31612349994", "to a customer of an account that stays")
		dir := t.TempDir()
		res, err := Make(ctx, e.src, dir, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		st.SetBackupDirs([]string{dir})
		now := time.Now().UTC().Truncate(time.Microsecond)
		life := &store.Lifecycle{AccountID: gone.ID, State: store.LifeDeleted, Reason: "closed", DeletedAt: now,
			ArchiveUntil: now.Add(45 * 24 * time.Hour), UpdatedAt: now}
		if _, err := st.DeleteAccount(ctx, life, []byte("archive"), nil); err != nil {
			t.Fatal(err)
		}
		entries, err := backupkeys.ReadJournal(backupkeys.JournalPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		var deletions int
		for _, en := range entries {
			if en.Kind == backupkeys.KindDelete && en.Account == gone.ID {
				deletions++
			}
		}
		if deletions != 1 {
			t.Fatalf("journal: %+v, want one deletion of %s", entries, gone.ID)
		}

		dst := e.target()
		var got sqlstore.Replayed
		_, err = Restore(ctx, res.File, dst, RestoreOptions{Master: e.master,
			Finish: func(ctx context.Context, db Source, todo []backupkeys.Entry, since time.Time) error {
				rs := e.openOnly(db, e.master)
				defer rs.Close()
				var err error
				got, err = rs.ReplayErasures(ctx, todo, since)
				return err
			}})
		if err != nil || got.Deletions != 1 {
			t.Fatalf("restore: %+v, %v", got, err)
		}
		rs := e.open(dst, e.master)
		if _, err := rs.GetMessage(ctx, gone.ID, mg.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the deleted account's message after the restore: %v", err)
		}
		if a, err := rs.GetAccount(ctx, gone.ID); err != nil || a.Name != "[deleted]" {
			t.Fatalf("the deleted account after the restore: %+v, %v", a, err)
		}
		if l, err := rs.GetLifecycle(ctx, gone.ID); err != nil || l.State != store.LifeDeleted || !l.ArchiveUntil.Equal(life.ArchiveUntil) {
			t.Fatalf("the deleted account's lifecycle after the restore: %+v, %v", l, err)
		}
		if body, addr := read(t, rs, mk); body != "to a customer of an account that stays" || addr != "31612349994" {
			t.Fatalf("another account's message reads %q to %q", body, addr)
		}
	})
}
