package main

import (
	"archive/zip"
	"path/filepath"
	"strings"
	"testing"
)

// `plan`, `subscription`, `invoice` and `account export`: a plan is set
// and listed, bad input names the flag, a trial starts, converting
// invoices the first month (paid from the balance), a plan beyond the
// balance leaves a failed invoice that `invoice pay` refuses until a
// top-up, a dispute is opened and voided, and the export is a zip.
func TestSubscriptionsCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme", "--balance", "100")
		var plan map[string]any
		e.run(&plan, "plan", "set", "--id", "team", "--name", "Team", "--fee", "30", "--seats", "2", "--seat-price", "5", "--addon", "sso:Single sign-on:10")
		if plan["id"] != "team" || plan["monthlyFee"] != 30.0 || len(plan["addons"].([]any)) != 1 {
			t.Fatalf("plan set printed %v", plan)
		}
		e.run(&plan, "plan", "set", "--id", "big", "--name", "Big", "--fee", "500", "--seats", "10")
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"plan", "set", "--id", "Bad Id", "--name", "x"}, "--id"},
			{[]string{"plan", "set", "--id", "x", "--name", "x", "--fee", "ten"}, "--fee"},
			{[]string{"plan", "set", "--id", "x", "--name", "x", "--addon", "nocolons"}, "code:name:price"},
			{[]string{"subscription", "trial", "--plan", "team"}, "--account is required"},
			{[]string{"subscription", "trial", "--account", acct.ID, "--plan", "nope"}, "no plan"},
			{[]string{"subscription", "trial", "--account", acct.ID, "--plan", "team", "--days", "0"}, "--days"},
			{[]string{"invoice", "list"}, "--account, --status"},
		} {
			stderr, err := e.secretsRun(nil, nil, tc.args...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Errorf("omnigate %s: %v %q, want an error saying %q", strings.Join(tc.args, " "), err, stderr, tc.want)
			}
		}
		var list []map[string]any
		e.run(&list, "plan", "list")
		if len(list) != 2 {
			t.Fatalf("plan list printed %v", list)
		}
		var sub map[string]any
		e.run(&sub, "subscription", "trial", "--account", acct.ID, "--plan", "team", "--credit", "10", "--days", "14")
		if sub["status"] != "trial" || sub["trialCredit"] != 10.0 {
			t.Fatalf("subscription trial printed %v", sub)
		}
		var started struct {
			Subscription map[string]any `json:"subscription"`
			Invoice      map[string]any `json:"invoice"`
		}
		e.run(&started, "subscription", "start", "--account", acct.ID, "--plan", "team", "--addons", "sso")
		if started.Invoice["status"] != "paid" || started.Invoice["total"] != 40.0 {
			t.Fatalf("subscription start printed %+v", started)
		}
		var again struct {
			Subscription map[string]any `json:"subscription"`
			Invoice      map[string]any `json:"invoice"`
		}
		e.run(&again, "subscription", "start", "--account", acct.ID, "--plan", "big")
		if again.Invoice != nil || again.Subscription["plan"] != "big" {
			t.Fatalf("a plan change mid-period printed %+v", again)
		}
		e.run(&list, "invoice", "list", "--account", acct.ID)
		if len(list) != 1 {
			t.Fatalf("invoice list printed %v", list)
		}
		id := list[0]["id"].(string)
		if stderr, err := e.secretsRun(nil, nil, "invoice", "pay", "--account", acct.ID, "--id", id); err == nil || !strings.Contains(stderr, "paid") {
			t.Errorf("paying a paid invoice: %v %q", err, stderr)
		}
		var show map[string]any
		e.run(&show, "subscription", "show", "--account", acct.ID)
		if show["plan"] != "big" || show["status"] != "active" {
			t.Fatalf("subscription show printed %v", show)
		}
		out := filepath.Join(t.TempDir(), "export.zip")
		var res map[string]any
		e.run(&res, "account", "export", "--account", acct.ID, "--out", out)
		zr, err := zip.OpenReader(out)
		if err != nil || res["bytes"].(float64) == 0 {
			t.Fatalf("the export: %v %v", res, err)
		}
		defer zr.Close()
		names := map[string]bool{}
		for _, f := range zr.File {
			names[f.Name] = true
		}
		if !names["invoices.json"] || !names["ledger.csv"] || !names["export.json"] {
			t.Fatalf("export files: %v", names)
		}
		if stderr, err := e.secretsRun(nil, nil, "account", "archive", "--account", acct.ID, "--out", out); err == nil || !strings.Contains(stderr, "no archive") {
			t.Errorf("the archive of a live account: %v %q", err, stderr)
		}
		var pass map[string]any
		e.run(&pass, "subscription", "run")
		if _, ok := pass["renewed"]; !ok {
			t.Fatalf("subscription run printed %v", pass)
		}
	})
}

// FuzzAddonFlag: --addon code:name:price never panics, and what it takes
// has a code, a name and the price it was given.
func FuzzAddonFlag(f *testing.F) {
	for _, s := range []string{"sso:Single sign-on:10", "a:b:0.5", "nocolons", "a::1", ":::", "x:y:-3", "x:y:1e9", "x:y:z:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var a addonFlags
		if err := a.Set(s); err != nil {
			if len(a) != 0 {
				t.Fatalf("%q: refused but kept %v", s, a)
			}
			return
		}
		if len(a) != 1 || !strings.HasPrefix(s, a[0].Code+":"+a[0].Name+":") {
			t.Fatalf("%q: took %+v", s, a)
		}
	})
}
