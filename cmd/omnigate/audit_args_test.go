package main

import (
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/audit"
)

// The CLI's audit record masks secret flags, replaces personal ones with
// pseudonyms (both spellings, --flag value and --flag=value) and finds
// the account.
func TestMaskArgs(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	args := []string{"privacy", "request", "--account", "acct1", "--identifier", "31612345678", "--kind=erasure",
		"--recipient=ann@example.com", "--password", "hunter2"}
	out, account := maskArgs(args, func(v string) string { return audit.Pseudonym(key, v) })
	joined := strings.Join(out, " ")
	if account != "acct1" || strings.Contains(joined, "3161") || strings.Contains(joined, "ann@") || strings.Contains(joined, "hunter2") {
		t.Fatalf("maskArgs = %q, account %q", joined, account)
	}
	if out[5] != audit.Pseudonym(key, "31612345678") || out[7] != "--recipient="+audit.Pseudonym(key, "ann@example.com") ||
		out[9] != audit.Masked || out[6] != "--kind=erasure" {
		t.Fatalf("maskArgs = %q", out)
	}
	if out, _ := maskArgs(args, nil); out[5] != "31612345678" || out[9] != audit.Masked {
		t.Fatalf("without a pseudonymiser: %q", out)
	}
}
