package smstext

import (
	"errors"
	"fmt"
	"strconv"
)

// Coding is the data coding used to carry an SMS body.
type Coding int

const (
	// GSM7 is the GSM 03.38 7-bit default alphabet with its extension table.
	GSM7 Coding = iota
	// UCS2 is UTF-16BE (called UCS-2 in the SMS standards).
	UCS2
)

// String returns the MessageBird name of the coding: "plain" for GSM7 and
// "unicode" for UCS2. Other values are shown as "Coding(n)".
func (c Coding) String() string {
	switch c {
	case GSM7:
		return "plain"
	case UCS2:
		return "unicode"
	}
	return "Coding(" + strconv.Itoa(int(c)) + ")"
}

// Mode says how the coding of a body is chosen. The zero value is ModeAuto.
type Mode int

const (
	// ModeAuto picks GSM7 if every character of the body is in the GSM 03.38
	// default alphabet or its extension table, and UCS2 otherwise.
	ModeAuto Mode = iota
	// ModePlain always uses GSM7; characters it cannot represent are sent as '?'.
	ModePlain
	// ModeUnicode always uses UCS2.
	ModeUnicode
)

// String returns the MessageBird "datacoding" name of the mode: "auto",
// "plain" or "unicode". Other values are shown as "Mode(n)".
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModePlain:
		return "plain"
	case ModeUnicode:
		return "unicode"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// ErrInvalidMode is wrapped by the error ParseMode returns for a value it
// does not know.
var ErrInvalidMode = errors.New("smstext: invalid data coding mode")

// ParseMode parses a MessageBird "datacoding" value. It accepts "plain",
// "unicode" and "auto" (lower case, as MessageBird documents them); the
// empty string means "auto". Any other value gives an error wrapping
// ErrInvalidMode.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "auto":
		return ModeAuto, nil
	case "plain":
		return ModePlain, nil
	case "unicode":
		return ModeUnicode, nil
	}
	return ModeAuto, fmt.Errorf("%w %q: want plain, unicode or auto", ErrInvalidMode, s)
}
