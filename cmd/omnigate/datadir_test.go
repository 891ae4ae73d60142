package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestCLIWorldWritableDataDir: serve and the CLI refuse a data directory
// every user may write to, saying what to do, and create nothing in it.
func TestCLIWorldWritableDataDir(t *testing.T) {
	e := newEnv(t, "sqlite")
	if err := os.Chmod(e.data, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"account", "list"}, {"serve", "--http", "127.0.0.1:0"}} {
		var stderr bytes.Buffer
		c := e.cmd(args...)
		c.Stderr = &stderr
		if err := c.Run(); err == nil || !strings.Contains(stderr.String(), "writable by every user") || !strings.Contains(stderr.String(), "chmod 700 "+e.data) {
			t.Errorf("omnigate %v: %v, stderr %q; want a refusal saying chmod 700", args, err, stderr.String())
		}
	}
	if entries, _ := os.ReadDir(e.data); len(entries) != 0 {
		t.Fatalf("files created: %v", entries)
	}
	os.Chmod(e.data, 0o700)
	var list []map[string]any
	e.run(&list, "account", "list")
}
