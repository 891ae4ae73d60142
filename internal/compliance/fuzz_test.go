package compliance_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/store"
)

var fuzzNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// A consent import is all or nothing: either an error, or only valid
// consents.
func FuzzParseConsentsCSV(f *testing.F) {
	f.Add("recipient,purpose,action\n31612345678,marketing,opt_in\n")
	f.Add("recipient,purpose,action,legal_age,categories,date,evidence\n+31612340001,marketing,opt_in,true,alcohol;gambling,2026-01-02T10:00:00Z,form 17\n")
	f.Add("recipient,purpose,action\nann@example.com,transactional,opt_out\nnope,x,y\n")
	f.Add("\"unterminated\n")
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := compliance.ParseConsentsCSV(strings.NewReader(in), "acct", "actor", fuzzNow)
		if err != nil {
			if cs != nil {
				t.Fatal("an error with consents")
			}
			return
		}
		for _, c := range cs {
			if c.Recipient == "" || (c.Purpose != compliance.Marketing && c.Purpose != compliance.Transactional) ||
				(c.Action != store.OptIn && c.Action != store.OptOut) || c.CreatedAt.After(fuzzNow) || c.Source != store.SourceImport {
				t.Fatalf("invalid consent accepted: %+v", c)
			}
			for _, cat := range c.Categories {
				if !compliance.ValidCategory(cat) {
					t.Fatalf("invalid category accepted: %q", cat)
				}
			}
		}
	})
}

// A registry file gives numbers and prefixes in digits only, or an error.
func FuzzParseDNDCSV(f *testing.F) {
	f.Add("number,listed\n9198,2026-01-01\n")
	f.Add("+919812345678\n12x4\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := compliance.ParseDNDCSV(strings.NewReader(in), "REG", fuzzNow)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Prefix == "" || strings.Trim(e.Prefix, "0123456789") != "" || len(e.Prefix) > 15 || e.Registry != "REG" {
				t.Fatalf("invalid entry accepted: %+v", e)
			}
		}
	})
}

// Policy settings parse, print and parse again to the same thing; content
// overrides never add rules.
func FuzzPolicySettings(f *testing.F) {
	f.Add("FR=08:00-20:00;IN=09:00-21:00", "content.iban=reject;content.link_shortener=off")
	f.Add("xx=1", "content.nope=off")
	f.Add(";;NL= 22:00-06:00 ;", "content.iban=hold;content.iban=off")
	f.Fuzz(func(t *testing.T, windows, rules string) {
		if m, err := compliance.ParseCountryWindows(windows); err == nil {
			again, err := compliance.ParseCountryWindows(compliance.FormatCountryWindows(m))
			if err != nil || len(again) != len(m) {
				t.Fatalf("%q → %q → %v, %v", windows, compliance.FormatCountryWindows(m), again, err)
			}
			for cc, w := range m {
				if again[cc] != w || w.Start < 0 || w.End >= 24*60 || w.Start == w.End {
					t.Fatalf("window %s: %v → %v", cc, w, again[cc])
				}
			}
		}
		defaults := compliance.DefaultContentRules()
		if out, err := compliance.ApplyContentRules(defaults, rules); err == nil {
			if len(out) > len(defaults) {
				t.Fatalf("%q added rules", rules)
			}
			for _, r := range out {
				if r.Outcome != compliance.Reject && r.Outcome != compliance.Hold {
					t.Fatalf("rule %s has outcome %q", r.Name, r.Outcome)
				}
			}
		}
	})
}

// The proof export writes every entry as one CSV record, whatever the
// evidence holds.
func FuzzWriteProofCSV(f *testing.F) {
	f.Add("text", "Yes, send me offers", "actor")
	f.Add("ip", "a\"b,c\nd", "x\r\ny")
	f.Fuzz(func(t *testing.T, k, v, actor string) {
		history := []store.Consent{{ID: 1, Recipient: "31612345678", Purpose: "marketing", Action: store.OptIn, Source: "api",
			Actor: actor, Evidence: map[string]string{k: v}, CreatedAt: fuzzNow}}
		var buf bytes.Buffer
		if err := compliance.WriteProofCSV(&buf, history); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), "id,date,recipient") {
			t.Fatalf("no header: %q", buf.String())
		}
	})
}
