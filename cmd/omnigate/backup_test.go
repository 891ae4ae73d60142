package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// fails runs a command that must fail and returns its stderr.
func (e *env) fails(args ...string) string {
	e.t.Helper()
	var stderr bytes.Buffer
	c := e.cmd(args...)
	c.Stderr = &stderr
	if err := c.Run(); err == nil {
		e.t.Fatalf("omnigate %s succeeded; want a failure", strings.Join(args, " "))
	}
	return stderr.String()
}

// A backup taken while messages are being accepted restores into a new
// data directory (or database) holding every message accepted before the
// backup began, and opens as a store. A truncated backup, a backup newer
// than the binary and a non-empty data directory are refused, changing
// nothing.
func TestBackupUnderLoad(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "load")
		var sender map[string]any
		e.run(&sender, "sender", "approve", "--account", acct.ID, "--originator", "Load")
		p := e.serve(freePort(t), "--billing-disabled", "--api-only")
		var mu sync.Mutex
		var accepted []string
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					code, m, err := post(p.url, acct.Key, `{"originator":"Load","recipients":["31612345678","31612345679"],"body":"kept?"}`)
					if err == nil && code == 201 {
						mu.Lock()
						accepted = append(accepted, m["id"].(string))
						mu.Unlock()
					}
				}
			}()
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			n := len(accepted)
			mu.Unlock()
			if n >= 200 || time.Now().After(deadline) {
				break
			}
		}
		mu.Lock()
		before := append([]string(nil), accepted...) // answered 201 before the backup began
		mu.Unlock()
		dir := t.TempDir()
		var res struct {
			File   string
			Engine string
			Schema int
		}
		e.run(&res, "backup", "--out", dir)
		mu.Lock()
		during := len(accepted) - len(before)
		mu.Unlock()
		stop()
		wg.Wait()
		t.Logf("%d messages accepted before the backup, %d while it ran", len(before), during)
		if len(before) < 100 || during == 0 {
			t.Fatalf("%d before, %d during: the test needs a real load", len(before), during)
		}
		if filepath.Dir(res.File) != dir || !strings.HasPrefix(filepath.Base(res.File), "omnigate-"+map[bool]string{true: "postgres", false: "sqlite"}[e.db != ""]) || res.Schema < 42 {
			t.Fatalf("backup: %+v", res)
		}

		// Restore into a new place; every message from before is there.
		restored := app.Config{DataDir: filepath.Join(t.TempDir(), "restored"), MasterKeyFile: filepath.Join(e.data, "master.key")}
		var out map[string]any
		if e.db == "" {
			e.run(&out, "restore", "--from", res.File, "--data", restored.DataDir)
		} else {
			restored.DatabaseURL = pgtest.Database(t, "")
			e.run(&out, "restore", "--from", res.File, "--database", restored.DatabaseURL)
		}
		st, err := app.OpenStore(context.Background(), restored)
		if err != nil {
			t.Fatalf("opening the restored store: %v", err)
		}
		defer st.Close()
		missing := 0
		for _, id := range before {
			var n int
			if err := st.Writer().QueryRow(`SELECT COUNT(*) FROM messages WHERE id = `+placeholder(e)+``, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("%d of %d messages accepted before the backup are not in it", missing, len(before))
		}
		if _, err := st.GetAccount(context.Background(), acct.ID); err != nil {
			t.Fatalf("the account in the restored store: %v", err)
		}

		// Refusals.
		if e.db == "" {
			if msg := e.fails("restore", "--from", res.File, "--data", restored.DataDir); !strings.Contains(msg, "not empty") {
				t.Errorf("restore into a used data dir: %s", msg)
			}
		} else if msg := e.fails("restore", "--from", res.File, "--database", restored.DatabaseURL); !strings.Contains(msg, "already holds omnigate tables") {
			t.Errorf("restore into a used database: %s", msg)
		}
		whole, err := os.ReadFile(res.File)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(dir, "truncated")
		os.WriteFile(cut, whole[:len(whole)*2/3], 0o600)
		target := []string{"--data", filepath.Join(t.TempDir(), "x")}
		if e.db != "" {
			target = []string{"--database", pgtest.Database(t, "")}
		}
		if msg := e.fails(append([]string{"restore", "--from", cut}, target...)...); !strings.Contains(msg, "corrupt or truncated") {
			t.Errorf("restore of a truncated backup: %s", msg)
		}
		if e.db == "" {
			if entries, _ := os.ReadDir(target[1]); len(entries) != 0 {
				t.Errorf("a refused restore left %v", entries)
			}
			newer := filepath.Join(dir, "newer.db")
			os.WriteFile(newer, whole, 0o600)
			db, err := sql.Open("sqlite", "file:"+newer)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_future.sql', 0)`)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if msg := e.fails("restore", "--from", newer, "--data", filepath.Join(t.TempDir(), "y")); !strings.Contains(msg, "newer schema") {
				t.Errorf("restore of a newer backup: %s", msg)
			}
		}
	})
}

func placeholder(e *env) string {
	if e.db != "" {
		return "$1"
	}
	return "?"
}

// The CLI's changes are in the audit log; list, export and verify read it,
// and verify names a row changed behind the store's back.
func TestAuditCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		var key map[string]any
		e.run(&key, "key", "create", "--account", acct.ID)
		var revoked map[string]any
		e.run(&revoked, "key", "revoke", "--account", acct.ID, "--key", key["key"].(string))
		var list []map[string]any
		e.run(&list, "account", "list") // reads: not recorded
		var rows []map[string]any
		e.run(&rows, "audit", "list", "--actor", "cli")
		if len(rows) != 3 || rows[0]["action"] != "omnigate key revoke" || rows[2]["action"] != "omnigate account create" ||
			rows[1]["account"] != acct.ID || strings.Contains(rows[0]["after"].(string), key["key"].(string)) ||
			!strings.Contains(rows[0]["after"].(string), "[masked]") {
			t.Fatalf("audit list: %v", rows)
		}
		out, err := e.cmd("audit", "export", "--format", "jsonl", "--account", acct.ID).Output()
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var first map[string]any
		json.Unmarshal([]byte(lines[0]), &first)
		if len(lines) != 2 || first["action"] != "omnigate key create" || first["hash"] == "" {
			t.Fatalf("export jsonl: %s", out)
		}
		out, err = e.cmd("audit", "export", "--format", "csv").Output()
		if err != nil || !strings.HasPrefix(string(out), "seq,at,actor_kind") || strings.Count(string(out), "\n") != 4 {
			t.Fatalf("export csv: %v %s", err, out)
		}
		out, err = e.cmd("audit", "verify").Output()
		if err != nil || !strings.Contains(string(out), "audit log verifies: 3 rows") {
			t.Fatalf("verify: %v %s", err, out)
		}
		st, err := app.OpenStore(context.Background(), app.Config{DataDir: e.data, DatabaseURL: e.db})
		if err != nil {
			t.Fatal(err)
		}
		drop := `DROP TRIGGER audit_log_no_update`
		if e.db != "" {
			drop = `DROP TRIGGER audit_log_no_change ON audit_log`
		}
		_, err = st.Writer().Exec(drop)
		if err == nil {
			_, err = st.Writer().Exec(`UPDATE audit_log SET ip = '192.0.2.9' WHERE seq = 2`)
		}
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if msg := e.fails("audit", "verify"); !strings.Contains(msg, "first bad row seq 2") {
			t.Fatalf("verify after tampering: %s", msg)
		}
		if msg := e.fails("audit", "export", "--format", "xml"); !strings.Contains(msg, "jsonl or csv") {
			t.Fatalf("bad format: %s", msg)
		}
	})
}
