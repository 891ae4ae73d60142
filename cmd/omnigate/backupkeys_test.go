package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/backupkeys"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// Erasure reaches backups. A backup is made (into the data directory's
// backups) while serve runs; then account A is shredded and a person is
// erased in account B. Restoring the backup into a new data directory (or
// database): A's messages read as erased, the person's messages in B are
// erased again (the journal), another person's message in B reads as it
// was. The shred says it rewrote the backup's keys file; a restore without
// the master key, or with another one, is refused.
func TestShredAndErasureReachBackups(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var a, b created
		e.run(&a, "account", "create", "--name", "A")
		e.run(&b, "account", "create", "--name", "B")
		var sender map[string]any
		e.run(&sender, "sender", "approve", "--account", a.ID, "--originator", "Shop")
		e.run(&sender, "sender", "approve", "--account", b.ID, "--originator", "Shop")
		p := e.serve(freePort(t), "--billing-disabled", "--api-only")
		sent := func(key, to, body string) string {
			t.Helper()
			code, m, err := post(p.url, key, `{"originator":"Shop","recipients":["`+to+`"],"body":"`+body+`"}`)
			if err != nil || code != 201 {
				t.Fatalf("send: %d %v %v", code, m, err)
			}
			return m["id"].(string)
		}
		ma := sent(a.Key, "31612345601", "secret of A")
		mx := sent(b.Key, "31612345602", "to the person erased")
		my := sent(b.Key, "31612345603", "to another person")

		var res struct{ File string }
		e.run(&res, "backup")
		if filepath.Dir(res.File) != filepath.Join(e.data, "backups") {
			t.Fatalf("backup in %s", res.File)
		}
		if _, err := os.Stat(backupkeys.Path(res.File)); err != nil {
			t.Fatalf("no keys file: %v", err)
		}

		var shred struct {
			Deleted   int `json:"data_keys_deleted"`
			Rewritten int `json:"backup_keys_files_rewritten"`
		}
		e.run(&shred, "account", "shred", "--account", a.ID, "--yes")
		if shred.Deleted != 1 || shred.Rewritten != 1 {
			t.Fatalf("shred: %+v", shred)
		}
		var req map[string]any
		e.run(&req, "privacy", "open", "--account", b.ID, "--identifier", "+31612345602", "--kind", "erasure")
		if req["status"] != "completed" {
			t.Fatalf("erasure request: %v", req)
		}

		target := func() (app.Config, []string) {
			c := app.Config{DataDir: filepath.Join(t.TempDir(), "restored"), MasterKeyFile: filepath.Join(e.data, "master.key")}
			if e.db == "" {
				return c, []string{"--data", c.DataDir}
			}
			c.DatabaseURL = pgtest.Database(t, "")
			return c, []string{"--database", c.DatabaseURL}
		}
		_, where := target()
		if msg := e.fails(append([]string{"restore", "--from", res.File}, where...)...); !strings.Contains(msg, "master key") {
			t.Fatalf("restore without the master key: %s", msg)
		}
		other := filepath.Join(t.TempDir(), "other.key")
		var gen map[string]any
		e.run(&gen, "secrets", "generate", "--out", other)
		if msg := e.fails(append([]string{"restore", "--from", res.File, "--master-key-file", other}, where...)...); !strings.Contains(msg, "not by the master key given") {
			t.Fatalf("restore with another master key: %s", msg)
		}

		cfg, where := target()
		var out struct {
			Keys     int `json:"data_keys"`
			Replayed int `json:"erasures_replayed"`
		}
		e.run(&out, append([]string{"restore", "--from", res.File, "--master-key-file", cfg.MasterKeyFile}, where...)...)
		if out.Keys != 2 || out.Replayed != 1 {
			t.Fatalf("restore: %+v", out)
		}
		st, err := app.OpenStore(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		read := func(account, id string) (string, string) {
			t.Helper()
			m, err := st.GetMessage(context.Background(), account, id)
			if err != nil {
				t.Fatal(err)
			}
			return m.Body, m.Recipients[0].Address
		}
		if body, to := read(a.ID, ma); body != store.Erased || to != store.Erased {
			t.Errorf("A's message after the restore: %q to %q", body, to)
		}
		if body, to := read(b.ID, mx); body == "to the person erased" || to != sqlstore.Erased {
			t.Errorf("the erased person's message after the restore: %q to %q", body, to)
		}
		if body, to := read(b.ID, my); body != "to another person" || to != "31612345603" {
			t.Errorf("another person's message after the restore: %q to %q", body, to)
		}
	})
}
