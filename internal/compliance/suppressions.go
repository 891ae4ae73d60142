package compliance

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/csvrows"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// SuppressionChannels are the channels an account may list suppressions
// for, each with its kind of address. A channel added to omnigate adds its
// row here.
var SuppressionChannels = map[string]string{
	message.ChannelSMS:   "phone",
	message.ChannelEmail: "email",
	// Push notifications (package push): a Beams user id or device id,
	// 1 to 164 bytes; a suppressed one receives no publish.
	PushChannel: "push",
}

// PushChannel is push notifications' channel in the suppression list (and
// the consent ledger's channel whose opt-outs suppress there).
const PushChannel = "push"

// Bounds of what an account gives for suppressions.
const (
	MaxSuppressionImportRows = 100000
	MaxRemovalReason         = 500 // bytes
	maxEmailAddress          = 254 // RFC 5321's path limit, less the brackets
)

// AddableReasons are the reasons an account may give a suppression; an
// opt-out is recorded in the consent ledger (which suppresses the address)
// and only a new opt-in lifts it.
var AddableReasons = []string{store.SuppressManual, store.SuppressBounce, store.SuppressComplaint, store.SuppressUnsubscribe}

// ParseSuppression validates a suppression an account gives: the channel
// ("" takes it from the address: an email address's is email, a number's
// sms), the address (a phone number normalised to its international
// digits; an email address lowercased, see store.SuppressionAddress) and
// the reason ("" is manual).
func ParseSuppression(channel, recipient, reason string) (store.Suppression, error) {
	recipient = strings.TrimSpace(recipient)
	if channel == "" {
		channel = store.AddressChannel(recipient)
	}
	sp := store.Suppression{Channel: channel, Reason: reason}
	if sp.Reason == "" {
		sp.Reason = store.SuppressManual
	}
	addr, err := ParseSuppressionAddress(channel, recipient)
	if err != nil {
		return sp, err
	}
	sp.Recipient = addr
	switch {
	case sp.Reason == store.SuppressOptOut:
		return sp, errors.New("reason opt_out is recorded through the consent ledger (POST /consents with action opt_out), which suppresses the address")
	case !slices.Contains(AddableReasons, sp.Reason):
		return sp, fmt.Errorf("reason %q: use %s", clip(sp.Reason), strings.Join(AddableReasons, ", "))
	}
	return sp, nil
}

// ParseSuppressionAddress checks an address for a channel's suppression
// list and returns it as the list stores it.
func ParseSuppressionAddress(channel, recipient string) (string, error) {
	kind, ok := SuppressionChannels[channel]
	if !ok {
		names := make([]string, 0, len(SuppressionChannels))
		for n := range SuppressionChannels {
			names = append(names, n)
		}
		slices.Sort(names)
		return "", fmt.Errorf("channel %q: use %s", clip(channel), strings.Join(names, " or "))
	}
	if recipient == "" {
		return "", errors.New("the recipient is missing")
	}
	switch kind {
	case "push":
		if len(recipient) > 164 {
			return "", fmt.Errorf("recipient %q is longer than a Beams user or device id (164 bytes)", clip(recipient))
		}
	case "email":
		if !ValidEmailAddress(recipient) {
			return "", fmt.Errorf("recipient %q is not an email address (local@domain)", clip(recipient))
		}
	default:
		n, err := phone.Parse(recipient)
		if err != nil {
			return "", fmt.Errorf("recipient %q is not a valid phone number in international format", clip(recipient))
		}
		recipient = n.MSISDN
	}
	return store.SuppressionAddress(channel, recipient), nil
}

// ValidEmailAddress reports whether s is a bare address local@domain (no
// display name, no angle brackets, no spaces or controls), at most 254
// bytes, its local part at most 64 (RFC 5321).
func ValidEmailAddress(s string) bool {
	if len(s) > maxEmailAddress || !utf8.ValidString(s) || strings.ContainsAny(s, " \t\r\n<>,;") {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 || at == len(s)-1 || strings.ContainsAny(s[at+1:], "\"()[]\\") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// clip shortens what a caller sent for an error message.
func clip(s string) string {
	if len(s) > 64 {
		for i := 64; i > 0; i-- {
			if utf8.RuneStart(s[i]) {
				return s[:i] + "…"
			}
		}
	}
	return s
}

// ParseSuppressionsCSV reads a suppression import: a header row naming the
// columns channel, recipient and optionally reason (default manual), then
// one row per suppression. Every bad row is reported with its line number
// and nothing is returned (all or nothing); more than
// MaxSuppressionImportRows rows is an error.
func ParseSuppressionsCSV(r io.Reader, actor string, now time.Time) ([]store.Suppression, error) {
	var out []store.Suppression
	rows := 0
	bad, err := csvrows.Each(r, SuppressionColumns, SuppressionRequired,
		func(_ int, get func(string) string) error {
			if rows++; rows > MaxSuppressionImportRows {
				return errTooManyRows
			}
			sp, err := SuppressionRow(get, actor, now)
			if err != nil {
				return err
			}
			out = append(out, sp)
			return nil
		})
	if err != nil {
		return nil, err
	}
	if rows > MaxSuppressionImportRows {
		return nil, fmt.Errorf("the file has more than %d rows; split it", MaxSuppressionImportRows)
	}
	if len(bad) > 0 {
		if len(bad) > 100 {
			bad = append(bad[:100], fmt.Sprintf("… and %d more bad rows", len(bad)-100))
		}
		return nil, &ImportError{Rows: bad}
	}
	if len(out) == 0 {
		return nil, errors.New(NoSuppressions)
	}
	return out, nil
}

// The columns of a suppression file: those it may have (for messages) and
// those it must.
const SuppressionColumns = "channel,recipient[,reason]"

var SuppressionRequired = []string{"channel", "recipient"}

// NoSuppressions is why a suppression file without rows is refused.
const NoSuppressions = "the file has no suppressions"

// SuppressionRow reads one row of a suppression file (its fields by
// column name), added by actor at now.
func SuppressionRow(get func(string) string, actor string, now time.Time) (store.Suppression, error) {
	sp, err := ParseSuppression(get("channel"), get("recipient"), get("reason"))
	if err != nil {
		return sp, err
	}
	sp.Actor, sp.CreatedAt = actor, now
	return sp, nil
}

var errTooManyRows = errors.New("too many rows")

// SuppressionCSVHeader is the export's header row; an export can be
// imported again (opt-outs excepted: they belong to the consent ledger).
var SuppressionCSVHeader = []string{"channel", "recipient", "reason", "actor", "created"}

// WriteSuppressionsCSV writes suppressions as the export's rows (without
// the header; see SuppressionCSVHeader).
func WriteSuppressionsCSV(cw *csv.Writer, list []store.Suppression) error {
	for _, sp := range list {
		if err := cw.Write([]string{sp.Channel, sp.Recipient, sp.Reason, csvSafe(sp.Actor), sp.CreatedAt.UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
	}
	return nil
}

// csvSafe keeps a free-text cell from being read as a formula by a
// spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
