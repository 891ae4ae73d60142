package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestNumbersCLI: `numbers import` reads an inventory file, `numbers list`
// shows it with owners, `numbers assign` is `number add`, `numbers release`
// takes a number (or all of an account's) back, and `numbers history`
// shows what happened.
func TestNumbersCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		file := filepath.Join(t.TempDir(), "numbers.csv")
		csv := "number,country,type,features,monthly_price,region,locality\n31612345671,NL,mobile,sms voice,1.50,Noord-Holland,Amsterdam\n447700900123,GB,mobile,sms,2,,\n"
		if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		var imported map[string]int
		e.run(&imported, "numbers", "import", "--file", file)
		if imported["read"] != 2 || imported["added"] != 2 {
			t.Fatalf("import printed %v", imported)
		}
		var list []map[string]any
		e.run(&list, "numbers", "list", "--country", "nl")
		if len(list) != 1 || list[0]["number"] != "31612345671" || list[0]["monthlyPrice"] != "1.5" && list[0]["monthlyPrice"] != "1.50" || list[0]["account"] != "" {
			t.Fatalf("list printed %v", list)
		}
		var assigned map[string]string
		e.run(&assigned, "numbers", "assign", "--account", acct.ID, "--number", "+31612345671")
		e.run(&assigned, "number", "add", "--account", acct.ID, "--number", "3197010000001")
		e.run(&list, "numbers", "list", "--account", acct.ID)
		if len(list) != 2 {
			t.Fatalf("the account's numbers: %v", list)
		}
		e.run(&list, "numbers", "list", "--available")
		if len(list) != 1 || list[0]["number"] != "447700900123" {
			t.Fatalf("available: %v", list)
		}
		var released map[string][]string
		e.run(&released, "numbers", "release", "--number", "31612345671", "--reason", "test")
		e.run(&released, "numbers", "release", "--account", acct.ID, "--reason", "account closed")
		if len(released["released"]) != 1 || released["released"][0] != "3197010000001" {
			t.Fatalf("release of the account: %v", released)
		}
		var history []map[string]string
		e.run(&history, "numbers", "history", "--number", "31612345671")
		if len(history) != 2 || history[0]["event"] != "assigned" || history[1]["event"] != "released" || history[1]["detail"] != "test" {
			t.Fatalf("history %v", history)
		}
		bad := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(bad, []byte("number,country,type,features,monthly_price\n31612345679,GB,mobile,sms,1\n"), 0o600)
		for _, args := range [][]string{
			{"numbers", "import", "--file", bad},
			{"numbers", "import"},
			{"numbers", "assign", "--account", "nope", "--number", "31612345671"},
			{"numbers", "assign", "--account", acct.ID, "--number", "abc"},
			{"numbers", "release", "--number", "31699999999"},
			{"numbers", "list", "--country", "XX"},
			{"numbers", "frobnicate"},
		} {
			var stderr bytes.Buffer
			c := e.cmd(args...)
			c.Stderr = &stderr
			if err := c.Run(); err == nil || stderr.Len() == 0 {
				t.Errorf("omnigate %v: err %v, stderr %q; want a failure with a message", args, err, stderr.String())
			}
		}
	})
}
