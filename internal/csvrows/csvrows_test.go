package csvrows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestHeaded(t *testing.T) {
	cr, col, err := headed(strings.NewReader(" Price, channel\n0.05,sms\n"), "channel,price", "channel", "price")
	if err != nil || col["price"] != 0 || col["channel"] != 1 {
		t.Fatalf("columns %v, %v", col, err)
	}
	if rec, err := cr.Read(); err != nil || rec[0] != "0.05" {
		t.Fatalf("first record %v, %v", rec, err)
	}
	_, _, err = headed(strings.NewReader("channel\n"), "channel,price", "channel", "price")
	if err == nil || err.Error() != `the header row has no "price" column (want channel,price)` {
		t.Fatalf("missing column: %v", err)
	}
	if _, _, err := headed(strings.NewReader(""), "x", "x"); err == nil || !strings.HasPrefix(err.Error(), "reading the header row") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestEach(t *testing.T) {
	file := "Name, age\nann, 31\nbob, x\ncid\nbad \"quote, 2\ndee,40,extra\n"
	var got []string
	bad, err := Each(strings.NewReader(file), "name,age", []string{"name", "age"}, func(line int, get func(string) string) error {
		if get("age") == "x" {
			return errors.New("age is not a number")
		}
		got = append(got, fmt.Sprintf("%d:%s/%s/%s", line, get("name"), get("age"), get("missing")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2:ann/31/", "4:cid//", "6:dee/40/"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	if len(bad) != 2 || bad[0] != "line 3: age is not a number" || !strings.HasPrefix(bad[1], "line 5: ") {
		t.Errorf("bad rows %q", bad)
	}
	if _, err := Each(strings.NewReader("age\n1\n"), "name,age", []string{"name"}, nil); err == nil || !strings.Contains(err.Error(), `no "name" column`) {
		t.Errorf("missing column: %v", err)
	}
}

func TestRows(t *testing.T) {
	var lines []int
	bad := Rows(strings.NewReader("number\n31612345678\n\nnope\n"), func(line int, rec []string) error {
		lines = append(lines, line)
		if rec[0] == "nope" {
			return fmt.Errorf("%q is not a number", rec[0])
		}
		return nil
	})
	if !slices.Equal(lines, []int{1, 2, 3}) || len(bad) != 1 || bad[0] != `line 3: "nope" is not a number` {
		t.Errorf("lines %v, bad rows %q", lines, bad)
	}
	if bad := Rows(strings.NewReader(""), func(int, []string) error { return errors.New("called") }); bad != nil {
		t.Errorf("empty file: %q", bad)
	}
}
