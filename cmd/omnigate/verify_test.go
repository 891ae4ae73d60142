package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/store"
)

// TestVerifyCLI: `verify set` changes an account's fraud protection and
// `verify settings` shows it; `verify blocks` lists blocks and `verify
// unblock` lifts one, recording the decision.
func TestVerifyCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		var s map[string]any
		e.run(&s, "verify", "settings", "--account", acct.ID)
		if s["disabled"] != false || len(s["countries"].([]any)) != 0 {
			t.Fatalf("defaults %v", s)
		}
		e.run(&s, "verify", "set", "--account", acct.ID, "--settings", `{"countries":["nl","be"],"perNumber":3}`)
		if c := s["countries"].([]any); len(c) != 2 || c[0] != "NL" || s["perNumber"] != 3.0 {
			t.Fatalf("after set %v", s)
		}
		// A block as the conversion watch of a running server sets it.
		st, err := app.OpenStore(context.Background(), app.Config{DataDir: e.data, DatabaseURL: e.db})
		if err != nil {
			t.Fatal(err)
		}
		b := &store.VerifyBlock{AccountID: acct.ID, Kind: "prefix", Value: "31699999", Rule: "verify.conversion.prefix", Reason: "test", CreatedAt: time.Now()}
		err = st.AddVerifyBlock(context.Background(), b)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		var blocks []map[string]any
		e.run(&blocks, "verify", "blocks")
		if len(blocks) != 1 || blocks[0]["value"] != "31699999" {
			t.Fatalf("blocks %v", blocks)
		}
		var lifted map[string]any
		e.run(&lifted, "verify", "unblock", "--id", b.ID, "--operator", "ann")
		if lifted["liftedBy"] != "operator:ann" {
			t.Fatalf("unblock printed %v", lifted)
		}
		e.run(&blocks, "verify", "blocks")
		if len(blocks) != 0 {
			t.Fatalf("blocks after unblock %v", blocks)
		}
		var changes []map[string]any
		e.run(&changes, "audit", "list", "--actor", "cli")
		if len(changes) != 3 || changes[0]["action"] != "omnigate verify unblock" || changes[1]["action"] != "omnigate verify set" {
			t.Fatalf("audit log of the CLI: %v", changes)
		}
		for _, args := range [][]string{
			{"verify", "set", "--account", acct.ID, "--settings", `{"countries":["XX"]}`},
			{"verify", "set", "--account", acct.ID, "--settings", `{"perNumber":"many"}`},
			{"verify", "settings", "--account", "nope"},
			{"verify", "unblock", "--id", b.ID},
			{"verify", "frobnicate"},
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
