package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The suppression CLI on both engines: add, list with filters, export,
// import all or nothing, remove with a kept reason.
func TestSuppressionCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		var sp map[string]any
		e.run(&sp, "suppression", "add", "--account", acct.ID, "--recipient", "Ann@Example.com", "--reason", "bounce")
		if sp["channel"] != "email" || sp["recipient"] != "ann@example.com" || sp["reason"] != "bounce" {
			t.Fatalf("add printed %v", sp)
		}
		e.run(&sp, "suppression", "add", "--account", acct.ID, "--channel", "sms", "--recipient", "+31612345678")
		if sp["recipient"] != "31612345678" || sp["reason"] != "manual" {
			t.Fatalf("add printed %v", sp)
		}
		if out, err := e.cmd("suppression", "add", "--account", acct.ID, "--channel", "fax", "--recipient", "1").CombinedOutput(); err == nil ||
			!strings.Contains(string(out), `channel "fax"`) {
			t.Fatalf("a bad channel: %v %s", err, out)
		}
		var list []map[string]any
		e.run(&list, "suppression", "list", "--account", acct.ID, "--channel", "email")
		if len(list) != 1 || list[0]["recipient"] != "ann@example.com" {
			t.Fatalf("list printed %v", list)
		}

		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.csv")
		os.WriteFile(bad, []byte("channel,recipient,reason\nemail,b@example.com,\nemail,nope,\n"), 0o600)
		if out, err := e.cmd("suppression", "import", bad, "--account", acct.ID).CombinedOutput(); err == nil || !strings.Contains(string(out), "line 3:") {
			t.Fatalf("a bad import: %v %s", err, out)
		}
		good := filepath.Join(dir, "good.csv")
		os.WriteFile(good, []byte("channel,recipient,reason\nemail,b@example.com,unsubscribe\nemail,ANN@example.com,\n"), 0o600)
		var res map[string]int
		e.run(&res, "suppression", "import", good, "--account", acct.ID)
		if res["rows"] != 2 || res["added"] != 1 {
			t.Fatalf("import printed %v", res)
		}
		out, err := e.cmd("suppression", "export", "--account", acct.ID, "--channel", "email").Output()
		if err != nil || !strings.HasPrefix(string(out), "channel,recipient,reason,actor,created\n") || strings.Count(string(out), "\n") != 3 ||
			!strings.Contains(string(out), "email,b@example.com,unsubscribe,import by operator") {
			t.Fatalf("export: %v %s", err, out)
		}

		if out, err := e.cmd("suppression", "remove", "--account", acct.ID, "--recipient", "ann@example.com").CombinedOutput(); err == nil ||
			!strings.Contains(string(out), "--reason") {
			t.Fatalf("remove without a reason: %v %s", err, out)
		}
		var rm map[string]any
		e.run(&rm, "suppression", "remove", "--account", acct.ID, "--recipient", "ANN@example.com", "--reason", "fixed mailbox", "--operator", "eve")
		if rm["removedBy"] != "operator:eve" || rm["removalReason"] != "fixed mailbox" || rm["reason"] != "bounce" {
			t.Fatalf("remove printed %v", rm)
		}
		e.run(&list, "suppression", "removals", "--account", acct.ID, "--recipient", "ann@example.com")
		if len(list) != 1 || list[0]["removalReason"] != "fixed mailbox" {
			t.Fatalf("removals printed %v", list)
		}
	})
}
