package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCLINumbersBounded: the CLI refuses numbers outside their documented
// bounds with a message naming the flag or setting, exits non-zero and
// changes nothing — the same bounds as the APIs.
func TestCLINumbersBounded(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme", "--balance", "10")
		for _, tc := range []struct {
			args []string
			says string
		}{
			{[]string{"account", "create", "--name", "x", "--balance", "1000000000"}, "999999999.999999"},
			{[]string{"balance", "topup", "--account", acct.ID, "--amount", "1000000000", "--reason", "r"}, "999999999.999999"},
			{[]string{"balance", "adjust", "--account", acct.ID, "--amount", "-999999999999", "--reason", "r"}, "999999999.999999"},
			{[]string{"balance", "show", "--account", acct.ID, "--entries", "0"}, "--entries"},
			{[]string{"balance", "show", "--account", acct.ID, "--entries", "100000000"}, "--entries"},
			{[]string{"app", "create", "--account", acct.ID, "--max-connections", "10000000000"}, "--max-connections"},
			{[]string{"app", "create", "--account", acct.ID, "--max-messages-per-day", "1000000000000"}, "--max-messages-per-day"},
			{[]string{"compliance", "request-proof", "--account", acct.ID, "--reason", "audit", "--due", "2200h"}, "days"},
			{[]string{"connector", "add", "--name", "c", "--host", "h", "--system-id", "s", "--throughput", "NaN"}, "throughput"},
			{[]string{"connector", "add", "--name", "c", "--settings", `{"host":"h","system_id":"s","enquire_interval":"100000h"}`}, "enquire_interval"},
			{[]string{"smsc", "--listen", "127.0.0.1:0", "--control", "", "--window", "0"}, "--window"},
		} {
			var stderr bytes.Buffer
			c := e.cmd(tc.args...)
			c.Stderr = &stderr
			if err := c.Run(); err == nil || !strings.Contains(stderr.String(), tc.says) {
				t.Errorf("omnigate %s: err %v, stderr %q; want a failure saying %q", strings.Join(tc.args, " "), err, stderr.String(), tc.says)
			}
		}
		var show map[string]any
		e.run(&show, "balance", "show", "--account", acct.ID)
		if show["balance"] != "10" {
			t.Fatalf("refused commands moved money: %v", show)
		}
		var apps []map[string]any
		e.run(&apps, "app", "list", "--account", acct.ID)
		if len(apps) != 0 {
			t.Fatalf("refused commands created apps: %v", apps)
		}
	})
}
