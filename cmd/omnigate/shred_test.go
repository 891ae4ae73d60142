package main

import (
	"strings"
	"testing"
)

// `account shred` wants --account and --yes, refuses an unknown account,
// and deletes the account's data keys (one, once it has sent).
func TestShredCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"account", "shred", "--account", acct.ID}, "add --yes"},
			{[]string{"account", "shred", "--yes"}, "--account is required"},
			{[]string{"account", "shred", "--account", "nope", "--yes"}, "nope"},
		} {
			stderr, err := e.secretsRun(nil, nil, tc.args...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Errorf("omnigate %s: %v %q, want an error saying %q", strings.Join(tc.args, " "), err, stderr, tc.want)
			}
		}
		var out struct {
			Account string `json:"account"`
			Deleted *int   `json:"data_keys_deleted"`
		}
		e.run(&out, "account", "shred", "--account", acct.ID, "--yes")
		if out.Account != acct.ID || out.Deleted == nil || *out.Deleted != 0 {
			t.Fatalf("shred printed %+v", out)
		}
	})
}
