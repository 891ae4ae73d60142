package main

import (
	"bytes"
	"testing"
)

// TestAccountSettingsCLI: `account update` switches an account's settings;
// `account list` shows them.
func TestAccountSettingsCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		var list []map[string]any
		e.run(&list, "account", "list")
		if len(list) != 1 || list[0]["strict_numbers"] != false || list[0]["legacy_signature"] != "node" {
			t.Fatalf("account list printed %v, want strict_numbers false, legacy_signature node", list)
		}
		var updated map[string]any
		e.run(&updated, "account", "update", "--id", acct.ID, "--strict-numbers=true")
		if updated["strict_numbers"] != true || updated["legacy_signature"] != "node" {
			t.Fatalf("account update printed %v", updated)
		}
		e.run(&updated, "account", "update", "--id", acct.ID, "--legacy-signature", "php")
		if updated["strict_numbers"] != true || updated["legacy_signature"] != "php" {
			t.Fatalf("account update printed %v", updated)
		}
		e.run(&list, "account", "list")
		if list[0]["strict_numbers"] != true || list[0]["legacy_signature"] != "php" {
			t.Fatalf("account list printed %v after the updates", list)
		}
		for _, args := range [][]string{
			{"account", "update", "--id", acct.ID, "--strict-numbers=maybe"},
			{"account", "update", "--id", "nope", "--strict-numbers=true"},
			{"account", "update", "--id", acct.ID, "--legacy-signature", "java"},
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
