package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// upgradeDir holds databases written by an earlier release (1399c9a) and
// the answers that release gave about them; testdata/upgrade/README.md
// says what they hold and how they were made.
var upgradeDir = filepath.Join("testdata", "upgrade")

// upgradeManifest is golden/<engine>/manifest.json (written by
// testdata/upgrade/gen).
type upgradeManifest struct {
	Release    string   `json:"release"`
	Account    string   `json:"account"`
	Key        string   `json:"key"`
	AdminToken string   `json:"adminToken"`
	Scheduled  []string `json:"scheduled"`
	Cancel     []string `json:"cancel"`
	Requests   []struct {
		Method      string `json:"method"`
		Path        string `json:"path"`
		Auth        string `json:"auth"`
		Status      int    `json:"status"`
		ContentType string `json:"contentType"`
		File        string `json:"file"`
	} `json:"requests"`
}

// Upgrades keep data: this release starts on a database an earlier release
// wrote (its migrations carry it forward), answers every read exactly as
// that release did, byte for byte, and goes on sending; the messages left
// waiting still wait and can still be cancelled.
func TestUpgrade(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		golden := filepath.Join(upgradeDir, "golden", engine)
		var m upgradeManifest
		if err := json.Unmarshal(readFile(t, filepath.Join(golden, "manifest.json")), &m); err != nil {
			t.Fatal(err)
		}
		// The token is not in the data: the fixture's may be shorter than
		// this release accepts.
		cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, AdminToken: adminToken,
			SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second, DemoReceiptDelay: 20 * time.Millisecond}
		cfg.Dispatch.Pool.Poll = 20 * time.Millisecond
		cfg.Webhook.Pool.Poll = 20 * time.Millisecond
		switch engine {
		case "sqlite":
			restoreSQLiteFixture(t, cfg.DataDir)
		case "postgres":
			cfg.DatabaseURL = pgtest.URL(t)
			loadPostgresFixture(t, cfg.DatabaseURL)
		}
		s := serve(t, cfg)
		s.accountID, s.key = m.Account, m.Key

		// Every read answers as the release that wrote the data answered.
		for _, rq := range m.Requests {
			auth := "AccessKey " + m.Key
			if rq.Auth == "admin" {
				auth = "Bearer " + adminToken
			}
			status, contentType, body := upgradeCall(t, rq.Method, s.url+rq.Path, auth)
			want := bytes.ReplaceAll(readFile(t, filepath.Join(golden, rq.File)), []byte("{{BASE}}"), []byte(s.url))
			if status != rq.Status || contentType != rq.ContentType || !bytes.Equal(body, want) {
				t.Errorf("%s %s answered %d %q; release %s answered %d %q (golden/%s/%s):\n%s", rq.Method, rq.Path,
					status, contentType, m.Release, rq.Status, rq.ContentType, engine, rq.File, bodyDiff(want, body))
			}
		}
		if t.Failed() {
			return
		}

		// The registry entries the release held are still screened for:
		// a whole number and a prefix (dnd_prefix_lengths is filled from
		// them by migration 061).
		listed, err := s.app.store.DNDListed(context.Background(), []string{"919812345678", "919712345678", "919912345678"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"919812345678": "IN-NCPR", "919712345678": "IN-NCPR"}; !maps.Equal(listed, want) {
			t.Errorf("do-not-disturb after the upgrade: %v, want %v", listed, want)
		}

		// Sending continues, with the old account's key.
		sent := s.send(map[string]any{"originator": "Fixture", "recipients": []string{"31612345678"}, "body": "Sent after the upgrade", "reference": "upgraded"})
		s.waitStatus(sent["id"].(string), "delivered")

		// The messages that were waiting still wait (for 2099 or a
		// reviewer), and those scheduled can be cancelled.
		for _, id := range m.Scheduled {
			r := s.get("/messages/" + id)
			if r.status != http.StatusOK {
				t.Fatalf("GET /messages/%s = %d %s", id, r.status, r.raw)
			}
			for _, it := range items(r.json) {
				if it["status"] != "scheduled" {
					t.Errorf("message %s: a recipient is %v after the upgrade, want scheduled", id, it["status"])
				}
			}
		}
		for _, id := range m.Cancel {
			if r := s.do("DELETE", "/messages/"+id, s.key, "", nil); r.status != http.StatusNoContent {
				t.Errorf("DELETE /messages/%s = %d %s", id, r.status, r.raw)
			}
			if r := s.get("/messages/" + id); r.status != http.StatusNotFound {
				t.Errorf("GET /messages/%s after DELETE = %d", id, r.status)
			}
		}
	})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// restoreSQLiteFixture makes a data directory of the SQLite fixture: the
// database file (gzipped in testdata) and the demo account's file.
func restoreSQLiteFixture(t *testing.T, dataDir string) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(readFile(t, filepath.Join(upgradeDir, "sqlite", "omnigate.db.gz"))))
	if err != nil {
		t.Fatal(err)
	}
	db, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"omnigate.db": db, demoFile: readFile(t, filepath.Join(upgradeDir, "sqlite", demoFile))} {
		if err := os.WriteFile(filepath.Join(dataDir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// loadPostgresFixture runs postgres.sql (a schema-free pg_dump) in the
// schema dbURL's search_path names, through the pgx driver's simple
// protocol, as one script.
func loadPostgresFixture(t *testing.T, dbURL string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("default_query_exec_mode", "simple_protocol")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(readFile(t, filepath.Join(upgradeDir, "postgres.sql")))); err != nil {
		t.Fatalf("loading postgres.sql: %v", err)
	}
}

// upgradeCall sends a request without a body and returns the answer.
func upgradeCall(t *testing.T, method, target, auth string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// bodyDiff shows where two bodies differ: JSON indented, one field per
// line, with the lines that differ and a few around them.
func bodyDiff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return "(same body)"
	}
	lines := func(b []byte) []string {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = buf.Bytes()
		}
		return strings.Split(string(b), "\n")
	}
	w, g := lines(want), lines(got)
	pre := 0
	for pre < len(w) && pre < len(g) && w[pre] == g[pre] {
		pre++
	}
	post := 0
	for post < len(w)-pre && post < len(g)-pre && w[len(w)-1-post] == g[len(g)-1-post] {
		post++
	}
	const context, most = 3, 40
	var out strings.Builder
	if pre == len(w) && pre == len(g) {
		// Same lines: the bytes differ in layout only.
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		fmt.Fprintf(&out, "the bodies differ at byte %d: want …%q…, got …%q…", i, want[max(0, i-40):min(len(want), i+40)], got[max(0, i-40):min(len(got), i+40)])
		return out.String()
	}
	show := func(prefix string, ls []string) {
		for i, l := range ls {
			if i == most {
				fmt.Fprintf(&out, "%s … %d more lines\n", prefix, len(ls)-most)
				return
			}
			fmt.Fprintf(&out, "%s %s\n", prefix, l)
		}
	}
	fmt.Fprintf(&out, "@@ line %d (- release, + now)\n", pre+1)
	show(" ", w[max(0, pre-context):pre])
	show("-", w[pre:len(w)-post])
	show("+", g[pre:len(g)-post])
	show(" ", w[len(w)-post:min(len(w), len(w)-post+context)])
	return out.String()
}
