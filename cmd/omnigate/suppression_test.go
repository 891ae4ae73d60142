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

// The template CLI: put from a JSON file, show, preview with fallback,
// errors that name the variable, delete.
func TestTemplateCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		file := filepath.Join(t.TempDir(), "welcome.json")
		os.WriteFile(file, []byte(`{"name":"welcome","defaultLanguage":"en","variables":{"first_name":"there"},
			"variants":[{"language":"en","subject":"Hi {{first_name}}","text":"Hello {{first_name}}"},
			{"language":"ar","text":"أهلا {{first_name}}","html":"<p dir=\"rtl\">أهلا {{first_name}}</p>"}]}`), 0o600)
		var put map[string]any
		e.run(&put, "template", "put", file, "--account", acct.ID)
		if put["created"] != true {
			t.Fatalf("put printed %v", put)
		}
		var r map[string]any
		e.run(&r, "template", "preview", "--account", acct.ID, "--name", "welcome", "--language", "ar-SA", "--vars", `{"first_name":"<Sara>"}`)
		if r["language"] != "ar" || r["html"] != `<p dir="rtl">أهلا &lt;Sara&gt;</p>` || r["text"] != "أهلا <Sara>" {
			t.Fatalf("preview printed %v", r)
		}
		if out, err := e.cmd("template", "preview", "--account", acct.ID, "--name", "welcome", "--vars", `{"frist_name":"x"}`).CombinedOutput(); err == nil ||
			!strings.Contains(string(out), "no variable frist_name") {
			t.Fatalf("an unknown variable: %v %s", err, out)
		}
		var list []map[string]any
		e.run(&list, "template", "list", "--account", acct.ID)
		if len(list) != 1 || list[0]["name"] != "welcome" {
			t.Fatalf("list printed %v", list)
		}
		e.run(&r, "template", "delete", "--account", acct.ID, "--name", "welcome")
		if out, err := e.cmd("template", "show", "--account", acct.ID, "--name", "welcome").CombinedOutput(); err == nil ||
			!strings.Contains(string(out), `no template named "welcome"`) {
			t.Fatalf("show after delete: %v %s", err, out)
		}
	})
}
