package main

import (
	"bytes"
	"strings"
	"testing"
)

// omnigate user …: an operator bootstraps console users.
func TestUserCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		var op map[string]any
		e.run(&op, "user", "create", "--email", "Ops@Example.org")
		if op["role"] != "operator" || op["email"] != "ops@example.org" || len(op["password"].(string)) < 12 ||
			op["totp_secret"] == nil || !strings.HasPrefix(op["totp_uri"].(string), "otpauth://totp/") {
			t.Fatalf("operator: %v", op)
		}
		var owner map[string]any
		e.run(&owner, "user", "create", "--account", acct.ID, "--email", "ann@example.org", "--role", "owner", "--password", "correct horse battery")
		if owner["role"] != "owner" || owner["password"] != nil || owner["totp_secret"] != nil {
			t.Fatalf("owner: %v (a given password is not printed back)", owner)
		}
		var inv map[string]any
		e.run(&inv, "user", "invite", "--account", acct.ID, "--email", "bob@example.org", "--role", "developer", "--public-url", "https://og.example")
		if !strings.HasPrefix(inv["link"].(string), "https://og.example/console/invite/") {
			t.Fatalf("invite: %v", inv)
		}
		var list []map[string]any
		e.run(&list, "user", "list", "--account", acct.ID)
		if len(list) != 1 || list[0]["email"] != "ann@example.org" || list[0]["password"] != nil {
			t.Fatalf("list: %v", list)
		}
		var reset map[string]any
		e.run(&reset, "user", "reset-2fa", "--email", "ops@example.org")
		if reset["totp_secret"] == nil || reset["totp_secret"] == op["totp_secret"] {
			t.Fatalf("reset-2fa: %v", reset)
		}
		var seats map[string]any
		e.run(&seats, "user", "seats", "--account", acct.ID, "--seats", "1")
		for _, args := range [][]string{
			{"user", "create"},
			{"user", "create", "--email", "x@example.org", "--account", acct.ID, "--role", "king"},
			{"user", "create", "--email", "x@example.org", "--account", acct.ID, "--role", "admin", "--password", "short"},
			{"user", "create", "--email", "ann@example.org", "--account", acct.ID, "--role", "admin"},
			{"user", "create", "--email", "y@example.org", "--account", acct.ID, "--role", "admin"}, // the one seat is taken
			{"user", "create", "--email", "<b>@example.org", "--account", acct.ID, "--role", "admin"},
			{"user", "invite", "--account", "nope", "--email", "z@example.org"},
			{"user", "reset-2fa", "--email", "nobody@example.org"},
			{"user", "frobnicate"},
		} {
			var stderr bytes.Buffer
			c := e.cmd(args...)
			c.Stderr = &stderr
			if err := c.Run(); err == nil || stderr.Len() == 0 {
				t.Errorf("omnigate %v: err %v, stderr %q; want a failure with a message", args, err, stderr.String())
			}
		}
		e.run(&list, "user", "list", "--account", acct.ID)
		if len(list) != 1 {
			t.Fatalf("failed commands created users: %v", list)
		}
	})
}
