package message

import (
	"fmt"
	"strconv"
	"strings"
)

// TimeLayout is how times appear on MessageBird's REST host:
// 2022-01-05T10:02:59+00:00.
const TimeLayout = "2006-01-02T15:04:05-07:00"

// MicrosPerUnit is the number of stored micro-units in one currency unit.
const MicrosPerUnit = 1_000_000

// FormatMicros writes an amount of micro-units as a decimal with no
// trailing zeros ("0.075", "12", "-1.5").
func FormatMicros(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v/MicrosPerUnit, 10)
	if frac := v % MicrosPerUnit; frac != 0 {
		f := strings.TrimRight(strconv.FormatInt(frac+MicrosPerUnit, 10)[1:], "0")
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MaxAmountText is the largest amount ParseMicros reads: every amount a
// client or operator gives (prices, top-ups, movements, credit and usage
// limits, balances) is below a thousand million, so that sums of them stay
// far from int64's limit.
const MaxAmountText = "999999999.999999"

// ParseMicros reads a decimal amount ("12", "0.075", "-1.5") into
// micro-units, exactly: no floating point, at most six decimals, at most
// MaxAmountText either way.
func ParseMicros(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 6 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an amount with at most 6 decimals", s)
	}
	if whole = strings.TrimLeft(whole, "0"); len(whole) > 9 {
		return 0, fmt.Errorf("%q is more than %s", s, MaxAmountText)
	}
	var v int64
	for _, c := range whole {
		v = v*10 + int64(c-'0')
	}
	f := frac + strings.Repeat("0", 6-len(frac))
	for _, c := range f {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, nil
}
