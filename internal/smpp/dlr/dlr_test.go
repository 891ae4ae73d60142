package dlr

import (
	"slices"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		id         string
		state      State
		err        int
		done       time.Time
		rest       string
	}{
		{"spec layout", "id:1234567890 sub:001 dlvrd:001 submit date:2611251830 done date:2611251831 stat:DELIVRD err:000 text:Hello world",
			"1234567890", Delivered, 0, time.Date(2026, 11, 25, 18, 31, 0, 0, time.UTC), "Hello world"},
		{"hex id and seconds", "id:7a3f09 sub:001 dlvrd:000 submit date:261125183012 done date:261125183112 stat:UNDELIV err:034 text:",
			"7a3f09", Undeliverable, 34, time.Date(2026, 11, 25, 18, 31, 12, 0, time.UTC), ""},
		{"lower case and underscores", "ID:abc STAT:expired ERR:0 submit_date:2611251830 done_date:2611251831",
			"abc", Expired, 0, time.Date(2026, 11, 25, 18, 31, 0, 0, time.UTC), ""},
		{"text containing field names", "id:9 stat:DELIVRD err:0 text:stat:UNDELIV id:1",
			"9", Delivered, 0, time.Time{}, "stat:UNDELIV id:1"},
		{"reordered, extra fields", "stat:REJECTD foo:bar id:42 err:0B",
			"42", Rejected, 11, time.Time{}, ""},
		{"accepted", "id:1 stat:ACCEPTD", "1", Accepted, 0, time.Time{}, ""},
	} {
		r, err := Parse(tc.text)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if r.ID != tc.id || r.State != tc.state || r.Err != tc.err || !r.Done.Equal(tc.done) || r.Text != tc.rest {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
	for _, bad := range []string{"", "hello there", "id:1 sub:1", "stat:DELIVRD", "id:1 stat:FINE", "identity:5 status:DELIVRD"} {
		if r, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, r)
		}
	}
}

func TestReason(t *testing.T) {
	for st, want := range map[State]string{
		Delivered: "successfully delivered", Expired: "expired", Undeliverable: "undeliverable",
		Rejected: "rejected by the carrier", Deleted: "deleted by the carrier", Unknown: "unknown delivery outcome",
		Enroute: "pending DLR", Accepted: "pending DLR", StateUnknownValue: "pending DLR",
	} {
		if got := st.Reason(); got != want {
			t.Errorf("%s: reason %q, want %q", st, got, want)
		}
	}
}

func TestIDForms(t *testing.T) {
	for in, want := range map[string][]string{
		"1234":       {"1234", "4d2", "4660"},
		"00FF":       {"ff", "255"},
		"abc-123":    {"abc-123"},
		" 0 ":        {"0"},
		"":           nil,
		"1a2b3c4d5e": {"1a2b3c4d5e", "112394521950"},
	} {
		if got := IDForms(in); !slices.Equal(got, want) {
			t.Errorf("IDForms(%q) = %v, want %v", in, got, want)
		}
	}
	// A hex id from submit_sm_resp matches its decimal form in a receipt.
	if !slices.Contains(IDForms("112394521950"), NormalizeID("1A2B3C4D5E")) {
		t.Error("decimal receipt id does not reach the hex submit id")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"id:1234567890 sub:001 dlvrd:001 submit date:2611251830 done date:2611251831 stat:DELIVRD err:000 text:Hello",
		"id: stat: text:", "ID:x STAT:delivrd", "id:1 stat:DELIVRD err:zz dlvrd:-5 submit date:99",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err == nil && (r.ID == "" || r.State == StateUnknownValue) {
			t.Fatalf("accepted %q as %+v", s, r)
		}
		IDForms(s)
	})
}
