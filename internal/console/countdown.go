package console

import "time"

// Countdown is the time left before a deadline as the case pages show it
// (the account's Compliance cases and the operator's Proof cases say it
// the same way): "2 d 5 h left", "5 h 29 min left", "past the deadline".
type Countdown struct {
	Text   string
	Urgent bool // under a day left, or past the deadline: shown in bold
}

// Countdown words the time left in the locale's language and digits.
func (l *Locale) Countdown(left time.Duration) Countdown {
	switch {
	case left <= 0:
		return Countdown{Text: l.T("countdown.overdue"), Urgent: true}
	case left >= 24*time.Hour:
		return Countdown{Text: l.T("countdown.left", l.T("left.days", int(left/(24*time.Hour)), int(left%(24*time.Hour)/time.Hour)))}
	default:
		return Countdown{Text: l.T("countdown.left", l.T("left.hours", int(left/time.Hour), int(left%time.Hour/time.Minute))), Urgent: true}
	}
}

func init() {
	addWords(map[string]map[string]string{
		"en": {"countdown.left": "%s left", "countdown.overdue": "past the deadline"},
		"fr": {"countdown.left": "reste %s", "countdown.overdue": "échéance dépassée"},
		"ar": {"countdown.left": "المتبقي: %s", "countdown.overdue": "تجاوزت الموعد النهائي"},
	})
}
