package jsonstr

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzAppend checks the encoder against encoding/json byte for byte, for
// strings and byte slices, appended after what the buffer held.
func FuzzAppend(f *testing.F) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "<script>&amp;</script>",
		"\b\f\n\r\t\x00\x01\x1f\x7f", "é 😀 \u2028 \u2029", "bad \xff\xfe utf-8 \xe2\x80",
		"presence-churn-1", "u123",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := Append([]byte("x"), s); !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Fatalf("Append(x, %q) = %s, want x%s", s, got, want)
		}
		if got := Append([]byte("x"), []byte(s)); !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Fatalf("Append(x, []byte(%q)) = %s, want x%s", s, got, want)
		}
	})
}
