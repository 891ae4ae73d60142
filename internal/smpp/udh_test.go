package smpp

import (
	"bytes"
	"errors"
	"testing"
)

func TestAppendConcatUDH(t *testing.T) {
	b, err := AppendConcatUDH(nil, Concat{Ref: 0x2A, Total: 3, Seq: 1})
	if err != nil || !bytes.Equal(b, []byte{0x05, 0x00, 0x03, 0x2A, 0x03, 0x01}) || len(b) != ConcatUDH8Len {
		t.Fatalf("8-bit: % x %v", b, err)
	}
	b, err = AppendConcatUDH([]byte("x"), Concat{Ref: 0xBEEF, Total: 2, Seq: 2, Ref16: true})
	if err != nil || !bytes.Equal(b, []byte{'x', 0x06, 0x08, 0x04, 0xBE, 0xEF, 0x02, 0x02}) || len(b)-1 != ConcatUDH16Len {
		t.Fatalf("16-bit: % x %v", b, err)
	}
	for _, c := range []Concat{{Total: 0, Seq: 0}, {Total: 2, Seq: 0}, {Total: 2, Seq: 3}, {Ref: 256, Total: 1, Seq: 1}} {
		if b, err := AppendConcatUDH([]byte("k"), c); err == nil || string(b) != "k" {
			t.Errorf("%+v: % x %v", c, b, err)
		}
	}
}

func TestParseConcat(t *testing.T) {
	tests := []struct {
		name  string
		sm    []byte
		want  Concat
		found bool
		bad   bool
	}{
		{"8-bit", []byte{5, 0, 3, 0x2A, 2, 1, 'h', 'i'}, Concat{Ref: 0x2A, Total: 2, Seq: 1}, true, false},
		{"16-bit", []byte{6, 8, 4, 0x12, 0x34, 5, 5, 'h'}, Concat{Ref: 0x1234, Total: 5, Seq: 5, Ref16: true}, true, false},
		{"only header", []byte{5, 0, 3, 1, 1, 1}, Concat{Ref: 1, Total: 1, Seq: 1}, true, false},
		{"port IE before", []byte{11, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 7, 2, 2, 'x'}, Concat{Ref: 7, Total: 2, Seq: 2}, true, false},
		{"IE after", []byte{8, 0, 3, 7, 2, 1, 0x24, 1, 1, 'x'}, Concat{Ref: 7, Total: 2, Seq: 1}, true, false},
		{"empty IE after", []byte{7, 0, 3, 7, 2, 1, 0x70, 0}, Concat{Ref: 7, Total: 2, Seq: 1}, true, false},
		{"last of two wins", []byte{11, 0, 3, 7, 2, 1, 8, 4, 0, 9, 3, 3}, Concat{Ref: 9, Total: 3, Seq: 3, Ref16: true}, true, false},
		{"no concat IE", []byte{6, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 'x'}, Concat{}, false, false},
		{"empty header", []byte{0, 'x'}, Concat{}, false, false},
		{"empty", nil, Concat{}, false, true},
		{"UDHL past end", []byte{5, 0, 3, 1, 2}, Concat{}, false, true},
		{"IE past header", []byte{4, 0, 3, 1, 2, 1}, Concat{}, false, true},
		{"half IE header", []byte{6, 0, 3, 1, 2, 1, 0x24}, Concat{}, false, true},
		{"8-bit IE length 4", []byte{6, 0, 4, 1, 2, 1, 0}, Concat{}, false, true},
		{"16-bit IE length 3", []byte{5, 8, 3, 1, 2, 1}, Concat{}, false, true},
		{"total 0", []byte{5, 0, 3, 1, 0, 0}, Concat{}, false, true},
		{"seq 0", []byte{5, 0, 3, 1, 2, 0}, Concat{}, false, true},
		{"seq past total", []byte{5, 0, 3, 1, 2, 3}, Concat{}, false, true},
		{"malformed after concat", []byte{7, 0, 3, 1, 2, 1, 0x24, 5}, Concat{}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, found, err := ParseConcat(tc.sm)
			if tc.bad {
				if err == nil || !errors.Is(err, ErrBadUDH) {
					t.Fatalf("got %+v %v %v, want ErrBadUDH", c, found, err)
				}
				return
			}
			if err != nil || found != tc.found || c != tc.want {
				t.Fatalf("got %+v %v %v, want %+v %v", c, found, err, tc.want, tc.found)
			}
		})
	}
}

func TestParseUDH(t *testing.T) {
	sm := []byte{11, 5, 4, 0x0B, 0x84, 0x23, 0xF0, 0, 3, 7, 2, 2, 'h', 'i'}
	ies, content, err := ParseUDH(sm)
	if err != nil || len(ies) != 2 || string(content) != "hi" {
		t.Fatalf("%v %q %v", ies, content, err)
	}
	if ies[0].ID != IEPort16 || !bytes.Equal(ies[0].Data, []byte{0x0B, 0x84, 0x23, 0xF0}) ||
		ies[1].ID != IEConcat8 || !bytes.Equal(ies[1].Data, []byte{7, 2, 2}) {
		t.Fatalf("elements %v", ies)
	}
	udh, content, err := SplitUDH(sm)
	if err != nil || len(udh) != 12 || string(content) != "hi" {
		t.Fatalf("SplitUDH %v %q %v", udh, content, err)
	}
	if _, _, err := ParseUDH([]byte{2, 0}); !errors.Is(err, ErrBadUDH) || err.Error() == ErrBadUDH.Error() {
		t.Fatalf("truncated: %v", err)
	}
}

// TestConcatInSubmitSM builds a two-part message the way a connector does
// and reads it back the way a receiver does.
func TestConcatInSubmitSM(t *testing.T) {
	parts := [][]byte{[]byte("first part "), []byte("second part")}
	for i, text := range parts {
		sm, err := AppendConcatUDH(nil, Concat{Ref: 0x0102, Total: 2, Seq: uint8(i + 1), Ref16: true})
		if err != nil {
			t.Fatal(err)
		}
		p := &SubmitSM{ESMClass: ESMClassUDHI, DataCoding: DataCodingDefault, ShortMessage: append(sm, text...)}
		got, err := Decode(mustEncode(t, p))
		if err != nil {
			t.Fatal(err)
		}
		s := got.(*SubmitSM)
		c, found, err := ParseConcat(s.ShortMessage)
		if err != nil || !found || c.Seq != uint8(i+1) || c.Total != 2 || c.Ref != 0x0102 {
			t.Fatalf("part %d: %+v %v %v", i+1, c, found, err)
		}
		_, content, _ := SplitUDH(s.ShortMessage)
		if !bytes.Equal(content, text) {
			t.Fatalf("content %q", content)
		}
	}
}
