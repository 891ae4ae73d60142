package csvrows

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzStream: Stream sees the rows and reports the bad rows Rows does, one
// at a time.
func FuzzStream(f *testing.F) {
	for _, s := range []string{"number\n31612345678\n\nnope\n", "a,\"b\nc\",d\n", "bad \"quote, 2\n1\n", "", "\"unterminated\n1\n2\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		check := func(line int, rec []string) error {
			if len(rec) > 0 && strings.Contains(rec[0], "x") {
				return errors.New("has an x")
			}
			return nil
		}
		var lines []int
		var firsts []string
		want := Rows(strings.NewReader(in), func(line int, rec []string) error {
			lines = append(lines, line)
			firsts = append(firsts, strings.Join(rec, "|"))
			return check(line, rec)
		})
		var got []string
		var gotLines []int
		var gotFirsts []string
		Stream(strings.NewReader(in), func(line int, rec []string) error {
			gotLines = append(gotLines, line)
			gotFirsts = append(gotFirsts, strings.Join(rec, "|"))
			return check(line, rec)
		}, func(s string) { got = append(got, s) })
		if !slices.Equal(got, want) || !slices.Equal(gotLines, lines) || !slices.Equal(gotFirsts, firsts) {
			t.Fatalf("Stream: bad %q lines %v rows %q; Rows: bad %q lines %v rows %q", got, gotLines, gotFirsts, want, lines, firsts)
		}
	})
}

// FuzzStreamHeaded: StreamHeaded sees, by column name, the fields Rows
// reads after the header row, and reports the same bad rows; a file whose
// header row cannot be read, or lacks a required column, is an error.
func FuzzStreamHeaded(f *testing.F) {
	for _, s := range []string{"recipient,reason\n31612345678,x\n\nnope\n", "Reason , recipient\nbounce,a@b\n\"unterminated\n", "a,b\n1,2\n", "", "\"bad\nheader"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		check := func(recipient string) error {
			if strings.Contains(recipient, "x") {
				return errors.New("has an x")
			}
			return nil
		}
		// What Rows reads, the header row's names applied by hand.
		var col map[string]int
		var wantRows []string
		var want []string
		headerBad := false
		for _, b := range Rows(strings.NewReader(in), func(line int, rec []string) error {
			if line == 1 {
				col = map[string]int{}
				for i, h := range rec {
					col[strings.ToLower(strings.TrimSpace(h))] = i
				}
				return nil
			}
			get := func(c string) string {
				if i, ok := col[c]; ok && i < len(rec) {
					return strings.TrimSpace(rec[i])
				}
				return ""
			}
			wantRows = append(wantRows, get("recipient")+"|"+get("reason"))
			return check(get("recipient"))
		}) {
			if strings.HasPrefix(b, "line 1: ") {
				headerBad = true
			}
			want = append(want, b)
		}
		_, hasRecipient := col["recipient"]

		var got, gotRows []string
		err := StreamHeaded(strings.NewReader(in), "recipient[,reason]", []string{"recipient"}, func(line int, get func(string) string) error {
			gotRows = append(gotRows, get("recipient")+"|"+get("reason"))
			return check(get("recipient"))
		}, func(s string) { got = append(got, s) })
		if col == nil || headerBad || !hasRecipient {
			if err == nil {
				t.Fatalf("no usable header row, and no error (rows %q, bad %q)", gotRows, got)
			}
			return
		}
		if err != nil || !slices.Equal(got, want) || !slices.Equal(gotRows, wantRows) {
			t.Fatalf("StreamHeaded: err %v bad %q rows %q; Rows: bad %q rows %q", err, got, gotRows, want, wantRows)
		}
	})
}
