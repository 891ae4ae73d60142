package loadgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is one sort of message in a mix.
type Kind string

// The kinds of message a mix draws from.
const (
	// KindGSM is a one-part message of GSM 03.38 characters (a one-time code).
	KindGSM Kind = "gsm"
	// KindArabic is a one-part UCS-2 message.
	KindArabic Kind = "arabic"
	// KindLong is a two-part GSM message (concatenated, 8-bit UDH).
	KindLong Kind = "long"
)

// DefaultMix is the mix when none is given: mostly short codes, some
// Arabic, some long messages.
const DefaultMix = "gsm=80,arabic=10,long=10"

// Mix draws message kinds by weight.
type Mix struct {
	kinds   []Kind
	weights []int
	total   int
}

// ParseMix reads weights written like "gsm=80,arabic=10,long=10". Kinds
// left out have weight 0; at least one weight must be positive.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[Kind]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix %q: %q is not kind=weight", s, part)
		}
		k := Kind(strings.TrimSpace(name))
		if !slices.Contains([]Kind{KindGSM, KindArabic, KindLong}, k) {
			return Mix{}, fmt.Errorf("mix %q: unknown kind %q (gsm, arabic, long)", s, k)
		}
		if seen[k] {
			return Mix{}, fmt.Errorf("mix %q: %s given twice", s, k)
		}
		seen[k] = true
		w, err := strconv.Atoi(strings.TrimSpace(weight))
		if err != nil || w < 0 {
			return Mix{}, fmt.Errorf("mix %q: weight of %s must be a whole number ≥ 0", s, k)
		}
		if w > 0 {
			m.kinds = append(m.kinds, k)
			m.weights = append(m.weights, w)
			m.total += w
		}
	}
	if m.total == 0 {
		return Mix{}, fmt.Errorf("mix %q: no kind has a positive weight", s)
	}
	return m, nil
}

// String writes the mix back in the form ParseMix reads.
func (m Mix) String() string {
	parts := make([]string, len(m.kinds))
	for i, k := range m.kinds {
		parts[i] = fmt.Sprintf("%s=%d", k, m.weights[i])
	}
	return strings.Join(parts, ",")
}

// Pick draws a kind.
func (m Mix) Pick(r *rand.Rand) Kind {
	n := r.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			return m.kinds[i]
		}
		n -= w
	}
	return m.kinds[len(m.kinds)-1]
}

// Message is one request's content.
type Message struct {
	Kind       Kind
	Body       string
	Unicode    bool     // needs UCS-2
	Parts      int      // SMS parts per recipient
	Recipients []string // E.164 digits without '+'
}

// longText is 290 GSM characters: two parts of at most 153.
var longText = strings.Repeat("Your parcel 0000 is on its way and will arrive tomorrow between 9 and 12. ", 4)[:290]

// NewMessage makes a message of kind k for n recipients. Bodies vary (a
// fresh code), so no layer can cache them.
func NewMessage(r *rand.Rand, k Kind, n int) Message {
	code := zeroPadded(r.IntN(1_000_000), 6)
	m := Message{Kind: k, Parts: 1}
	switch k {
	case KindArabic:
		m.Body = "رمز التحقق الخاص بك هو " + code + ". صالح لمدة 10 دقائق."
		m.Unicode = true
	case KindLong:
		m.Body = strings.Replace(longText, "0000", code[:4], 1)
	default:
		m.Body = "Your verification code is " + code + ". It expires in 10 minutes."
	}
	m.Parts = Segments(m.Body, m.Unicode)
	m.Recipients = make([]string, n)
	for i := range m.Recipients {
		m.Recipients[i] = Number(r)
	}
	return m
}

// Number is a random Dutch mobile number, 3161xxxxxxx.
func Number(r *rand.Rand) string {
	return "3161" + zeroPadded(r.IntN(10_000_000), 7)
}

// zeroPadded is n in decimal, zero-padded to width digits (fmt's %0*d,
// without fmt: the load generator makes a few of these per request).
func zeroPadded(n, width int) string {
	var b [20]byte
	d := strconv.AppendInt(b[:0], int64(n), 10)
	if len(d) >= width {
		return string(d)
	}
	out := make([]byte, width)
	pad := width - len(d)
	for i := range pad {
		out[i] = '0'
	}
	copy(out[pad:], d)
	return string(out)
}

// Segments counts the SMS parts of a body the way a carrier splits it with
// 8-bit concatenation headers: 160/153 GSM septets or 70/67 UCS-2 units.
// It is only exact for the texts NewMessage makes (no GSM escapes).
func Segments(body string, unicode bool) int {
	n, single, multi := utf8.RuneCountInString(body), 160, 153
	if unicode {
		n, single, multi = 0, 70, 67
		for _, r := range body {
			n += utf16.RuneLen(r)
		}
	}
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
