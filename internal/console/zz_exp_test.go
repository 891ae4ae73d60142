package console_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/accounts"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	_ "modernc.org/sqlite"
)

func BenchmarkZZExp(b *testing.B) {
	dir := "/tmp/cop/exp"
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, "t.db")
	ctx := context.Background()
	var acct string
	if _, err := os.Stat(path); err != nil {
		st, err := sqlite.Open(ctx, sqlite.Config{Path: path})
		if err != nil {
			b.Fatal(err)
		}
		c, _ := accounts.Create(ctx, st, accounts.New{Name: "x", Balance: 1})
		acct = c.Account.ID
		fillMessages(b, st, acct, 200000)
		st.Close()
		os.WriteFile(filepath.Join(dir, "acct"), []byte(acct), 0o644)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "acct"))
	acct = string(a)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if x := os.Getenv("X"); x != "" {
		if _, err := db.Exec(x); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{os.Getenv("Q1"), os.Getenv("Q2"), os.Getenv("Q3")} {
		if q == "" {
			continue
		}
		rows, err := db.Query("EXPLAIN QUERY PLAN "+q, acct)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id, parent, nu int
			var detail string
			rows.Scan(&id, &parent, &nu, &detail)
			b.Logf("plan: %s", detail)
		}
		rows.Close()
		t0 := time.Now()
		rows, err = db.Query(q, acct)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		b.Logf("%d rows in %s: %s", n, time.Since(t0), q)
	}
}
