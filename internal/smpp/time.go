package smpp

import (
	"errors"
	"strconv"
	"time"
)

// SMPP time fields (schedule_delivery_time, validity_period, final_date)
// are empty or 16 characters, SMPP 3.4 §7.1.1:
//
//	YYMMDDhhmmsstnn+   absolute time, nn quarter hours ahead of UTC
//	YYMMDDhhmmsstnn-   absolute time, nn quarter hours behind UTC
//	YYMMDDhhmmss000R   relative time: years, months, days … from now

// FormatAbsoluteTime returns t as an SMPP absolute time, in t's own zone
// when its offset from UTC is a whole number of quarter hours up to 12
// hours, and in UTC otherwise. Years outside 2000–2099 cannot be
// represented in the two-digit year and are formatted modulo 100.
func FormatAbsoluteTime(t time.Time) string {
	_, off := t.Zone()
	if off%900 != 0 || off > 48*900 || off < -48*900 {
		t = t.UTC()
		off = 0
	}
	sign := byte('+')
	if off < 0 {
		sign = '-'
		off = -off
	}
	b := make([]byte, 0, 16)
	b = append2(b, t.Year()%100)
	b = append2(b, int(t.Month()))
	b = append2(b, t.Day())
	b = append2(b, t.Hour())
	b = append2(b, t.Minute())
	b = append2(b, t.Second())
	b = append(b, byte('0'+t.Nanosecond()/100_000_000))
	b = append2(b, off/900)
	b = append(b, sign)
	return string(b)
}

// FormatRelativeTime returns d as an SMPP relative time in days, hours,
// minutes and seconds (fractions of a second are dropped), for example
// "000001020304000R" for 1 day 2 h 3 min 4 s. It returns an error for a
// negative d or one of 100 days or more.
func FormatRelativeTime(d time.Duration) (string, error) {
	if d < 0 || d >= 100*24*time.Hour {
		return "", errors.New("smpp: relative time " + d.String() + " is outside 0 to 99 days")
	}
	s := int(d / time.Second)
	b := make([]byte, 0, 16)
	b = append(b, "0000"...)
	b = append2(b, s/86400)
	b = append2(b, s/3600%24)
	b = append2(b, s/60%60)
	b = append2(b, s%60)
	b = append(b, "000R"...)
	return string(b), nil
}

// ParseTime parses an SMPP time field. An absolute time is returned in a
// fixed zone with its UTC offset; a relative time is added to now. The
// empty string gives the zero time and no error.
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if r := checkTime(s); r != "" {
		return time.Time{}, errors.New("smpp: time " + strconv.Quote(s) + " " + r)
	}
	n := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	if s[15] == 'R' {
		return now.AddDate(n(0), n(2), n(4)).Add(time.Duration(n(6))*time.Hour +
			time.Duration(n(8))*time.Minute + time.Duration(n(10))*time.Second), nil
	}
	off := n(13) * 900
	if off > 48*900 {
		return time.Time{}, errors.New("smpp: time " + strconv.Quote(s) + " has a UTC offset over 48 quarter hours")
	}
	if s[15] == '-' {
		off = -off
	}
	mon, day, hh, mm, ss := n(2), n(4), n(6), n(8), n(10)
	if mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, errors.New("smpp: time " + strconv.Quote(s) + " is not a valid date and time")
	}
	loc := time.FixedZone("", off)
	t := time.Date(2000+n(0), time.Month(mon), day, hh, mm, ss, int(s[12]-'0')*100_000_000, loc)
	if t.Day() != day {
		return time.Time{}, errors.New("smpp: time " + strconv.Quote(s) + " is not a valid date")
	}
	return t, nil
}

// append2 appends v as two decimal digits.
func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}
