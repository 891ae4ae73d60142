package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func TestMix(t *testing.T) {
	m, err := ParseMix(" gsm=2, long=0 ,arabic=1")
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != "gsm=2,arabic=1" {
		t.Errorf("String() = %q", m.String())
	}
	for _, bad := range []string{"", "gsm=0", "sms=1", "gsm=-1", "gsm", "gsm=1,gsm=2"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
	r := newTestRand()
	for _, k := range []Kind{KindGSM, KindArabic, KindLong} {
		msg := NewMessage(r, k, 3)
		want := map[Kind]int{KindGSM: 1, KindArabic: 1, KindLong: 2}[k]
		if msg.Parts != want || len(msg.Recipients) != 3 || msg.Unicode != (k == KindArabic) {
			t.Errorf("%s: %+v", k, msg)
		}
		for _, n := range msg.Recipients {
			if len(n) != 11 || !strings.HasPrefix(n, "3161") {
				t.Errorf("number %q", n)
			}
		}
	}
	if Segments(strings.Repeat("a", 160), false) != 1 || Segments(strings.Repeat("a", 161), false) != 2 ||
		Segments(strings.Repeat("ب", 70), true) != 1 || Segments(strings.Repeat("ب", 135), true) != 3 {
		t.Error("Segments miscounts")
	}
}

func TestZeroPadded(t *testing.T) {
	for _, n := range []int{0, 7, 42, 999_999, 1_000_000, 12_345_678} {
		for _, width := range []int{1, 6, 7} {
			if got, want := zeroPadded(n, width), fmt.Sprintf("%0*d", width, n); got != want {
				t.Errorf("zeroPadded(%d, %d) = %q, want %q", n, width, got, want)
			}
		}
	}
}
