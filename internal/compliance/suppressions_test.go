package compliance_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

func TestParseSuppression(t *testing.T) {
	for _, c := range []struct{ channel, recipient, reason, want, err string }{
		{"", "Ann@Example.COM", "", "email ann@example.com manual", ""},
		{"", "+31 6 1234 5678", "bounce", "sms 31612345678 bounce", ""},
		{"email", "a.b+tag@sub.example.org", "unsubscribe", "email a.b+tag@sub.example.org unsubscribe", ""},
		{"email", "Ann <ann@example.com>", "", "", "not an email address"},
		{"email", "ann@", "", "", "not an email address"},
		{"email", "@example.com", "", "", "not an email address"},
		{"email", "a@b@c", "", "", "not an email address"},
		{"email", strings.Repeat("a", 250) + "@b.c", "", "", "not an email address"},
		{"sms", "ann@example.com", "", "", "phone number"},
		{"fax", "1", "", "", `channel "fax"`},
		{"email", "", "", "", "missing"},
		{"sms", "31612345678", "opt_out", "", "consent ledger"},
		{"sms", "31612345678", "because", "", `reason "because"`},
	} {
		sp, err := compliance.ParseSuppression(c.channel, c.recipient, c.reason)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q %q %q: %v, want %q", c.channel, c.recipient, c.reason, err, c.err)
			}
			continue
		}
		if got := sp.Channel + " " + sp.Recipient + " " + sp.Reason; err != nil || got != c.want {
			t.Errorf("%q %q %q: %q %v, want %q", c.channel, c.recipient, c.reason, got, err, c.want)
		}
	}
}

// FuzzSuppressionsCSV: any file is refused with row errors or read into
// suppressions that each parse again to themselves; never a panic.
func FuzzSuppressionsCSV(f *testing.F) {
	f.Add("channel,recipient,reason\nemail,a@example.com,bounce\nsms,+31612345678,\n")
	f.Add("recipient,channel\n\"a,b\"@x,email\n")
	f.Add("channel,recipient\nemail,\xff@x\n")
	f.Fuzz(func(t *testing.T, file string) {
		list, err := compliance.ParseSuppressionsCSV(strings.NewReader(file), "fuzz", time.Unix(0, 0))
		var imp *compliance.ImportError
		if err != nil {
			if errors.As(err, &imp) && len(imp.Rows) == 0 {
				t.Fatal("an import error without rows")
			}
			return
		}
		for _, sp := range list {
			again, err := compliance.ParseSuppression(sp.Channel, sp.Recipient, sp.Reason)
			if err != nil || again.Recipient != sp.Recipient || store.SuppressionAddress(sp.Channel, sp.Recipient) != sp.Recipient {
				t.Fatalf("%+v parses again to %+v, %v", sp, again, err)
			}
		}
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		cw.Write(compliance.SuppressionCSVHeader)
		compliance.WriteSuppressionsCSV(cw, list)
		cw.Flush()
		back, err := compliance.ParseSuppressionsCSV(&buf, "fuzz", time.Unix(0, 0))
		if err != nil || len(back) != len(list) {
			t.Fatalf("the export of %d does not import: %d, %v", len(list), len(back), err)
		}
	})
}
