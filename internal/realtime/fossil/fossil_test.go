package fossil

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// A delta from the format's description, written by hand: 5 literal
// bytes, then 6 copied from offset 0 of the source.
func TestApplyHandWritten(t *testing.T) {
	source := []byte("hello world")
	target := []byte("HELLO hello ")
	d := []byte("C\n6:HELLO 6@0,")
	d = appendInt(d, Checksum(target))
	d = append(d, ';')
	got, err := Apply(source, d, 100)
	if err != nil || !bytes.Equal(got, target) {
		t.Fatalf("Apply = %q, %v; want %q", got, err, target)
	}
}

func TestRoundTrip(t *testing.T) {
	prev := []byte(`{"symbol":"BTC","price":"50000.12","volume":"1.5","bids":[[49999,2],[49998,4]],"asks":[[50001,1],[50002,3]],"ts":1733355600123}`)
	next := []byte(`{"symbol":"BTC","price":"50000.37","volume":"1.7","bids":[[49999,2],[49998,4]],"asks":[[50001,1],[50002,3]],"ts":1733355600456}`)
	d := Create(prev, next)
	if len(d) >= len(next)/2 {
		t.Errorf("delta of similar messages is %d bytes for a %d-byte target: %q", len(d), len(next), d)
	}
	got, err := Apply(prev, d, len(next))
	if err != nil || !bytes.Equal(got, next) {
		t.Fatalf("Apply = %q, %v", got, err)
	}
	cases := [][2]string{
		{"", ""}, {"", "abc"}, {"abc", ""}, {"short", "shorter"},
		{string(bytes.Repeat([]byte("a"), 100)), string(bytes.Repeat([]byte("a"), 101))},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		a := make([]byte, r.IntN(600))
		for i := range a {
			a[i] = byte('a' + r.IntN(4))
		}
		b := append([]byte(nil), a...)
		for range r.IntN(8) { // a few edits
			if len(b) == 0 {
				break
			}
			i := r.IntN(len(b))
			switch r.IntN(3) {
			case 0:
				b[i] = 'z'
			case 1:
				b = append(b[:i], b[min(len(b), i+r.IntN(20)):]...)
			case 2:
				b = append(b[:i], append([]byte("inserted text"), b[i:]...)...)
			}
		}
		cases = append(cases, [2]string{string(a), string(b)})
	}
	for i, c := range cases {
		d := Create([]byte(c[0]), []byte(c[1]))
		got, err := Apply([]byte(c[0]), d, len(c[1]))
		if err != nil || string(got) != c[1] {
			t.Fatalf("case %d: Apply(Create) = %q, %v; want %q (delta %q)", i, got, err, c[1], d)
		}
	}
}

func TestApplyRejects(t *testing.T) {
	src := []byte("0123456789abcdef0123456789abcdef")
	good := Create(src, []byte("0123456789abcdef0123456789abcdeX"))
	for _, c := range []struct {
		name  string
		delta string
		max   int
		want  error
	}{
		{"empty", "", 100, ErrFormat},
		{"no header newline", "5", 100, ErrFormat},
		{"too large", "10\n", 10, ErrTooLarge},
		{"copy out of range", "5\n5@100,0;", 100, ErrRange},
		{"literal past end", "5\n9:abc", 100, ErrFormat},
		{"no trailer", "3\n3:abc", 100, ErrFormat},
		{"bad op", "3\n3!abc", 100, ErrFormat},
		{"length mismatch", "4\n3:abc0;", 100, ErrFormat},
		{"bad checksum", "3\n3:abc0;", 100, ErrChecksum},
		{"overflowing number", "zzzzzzzzzz\n", 100, ErrFormat},
		{"bytes after trailer", string(good) + "x", 100, ErrFormat},
	} {
		if _, err := Apply(src, []byte(c.delta), c.max); err != c.want {
			t.Errorf("%s: Apply(%q) error = %v, want %v", c.name, c.delta, err, c.want)
		}
	}
}

func TestRollingMatchesFresh(t *testing.T) {
	b := []byte("the quick brown fox jumps over the lazy dog, again and again")
	r := newRolling(b[:window])
	for i := 1; i+window <= len(b); i++ {
		r.roll(b[i-1], b[i-1+window])
		if r != newRolling(b[i:i+window]) {
			t.Fatalf("rolled hash at %d differs from a fresh one", i)
		}
	}
}

// FuzzApply: Apply never panics and never returns more than maxLen bytes;
// Create's deltas always apply back to their target.
func FuzzApply(f *testing.F) {
	f.Add([]byte(`{"price":"1.00"}`), []byte(`{"price":"1.01"}`), []byte("3\n3:abc0;"))
	f.Add([]byte(`{"a":"0123456789abcdef0123456789"}`), []byte(`{"a":"0123456789abcdef0123456789!"}`), []byte("2\n2@0,0;"))
	f.Add([]byte(""), []byte("x"), []byte(""))
	f.Fuzz(func(t *testing.T, a, b, raw []byte) {
		if out, err := Apply(a, raw, 1<<16); err == nil && len(out) > 1<<16 {
			t.Fatalf("Apply returned %d bytes over the limit", len(out))
		}
		d := Create(a, b)
		got, err := Apply(a, d, len(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Apply(Create(%q, %q)) = %q, %v (delta %q)", a, b, got, err, d)
		}
	})
}

func BenchmarkCreate(b *testing.B) {
	prev := []byte(fmt.Sprintf(`{"symbol":"BTC","price":"%d.12","volume":"1.5","bids":[[49999,2],[49998,4]],"asks":[[50001,1],[50002,3]],"ts":1733355600123}`, 50000))
	next := []byte(fmt.Sprintf(`{"symbol":"BTC","price":"%d.37","volume":"1.7","bids":[[49999,2],[49998,4]],"asks":[[50001,1],[50002,3]],"ts":1733355600456}`, 50001))
	b.SetBytes(int64(len(next)))
	for b.Loop() {
		Create(prev, next)
	}
}
