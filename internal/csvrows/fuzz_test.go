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
