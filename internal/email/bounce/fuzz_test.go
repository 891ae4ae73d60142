package bounce

import (
	"os"
	"path/filepath"
	"testing"
)

func seed(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// check holds for whatever a parser returns.
func check(t *testing.T, r *Report) {
	if r.DSN != nil {
		if len(r.DSN.Recipients) == 0 {
			t.Fatal("a DSN without recipients")
		}
		for _, rc := range r.DSN.Recipients {
			if rc.Failed() && rc.Category == "" {
				t.Fatalf("failed without category: %+v", rc)
			}
		}
	}
	if r.Complaint != nil && r.Complaint.FeedbackType == "" {
		t.Fatal("a complaint without feedback type")
	}
}

func FuzzParseDSN(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDSN(b)
		if err == nil {
			check(t, &Report{DSN: d})
		}
	})
}

func FuzzParseARF(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseARF(b)
		if err == nil {
			check(t, &Report{Complaint: a})
		}
	})
}

func FuzzClassify(f *testing.F) {
	f.Add(550, "5.1.1", "user unknown")
	f.Add(0, "", "552-5.2.2 mailbox full")
	f.Add(451, "4.7.1", "greylisted")
	f.Add(554, "5.7.1", "blocked using zen.spamhaus.org")
	f.Add(0, "5.", "5.1")
	f.Add(-1, "999.999.999", "(#5.1.1)")
	f.Fuzz(func(t *testing.T, code int, enhanced, text string) {
		c := Classify(code, enhanced, text)
		known := false
		for _, k := range Categories {
			known = known || c == k
		}
		if !known {
			t.Fatalf("category %q", c)
		}
	})
}
