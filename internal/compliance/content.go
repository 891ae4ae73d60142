package compliance

import (
	"math/big"
	"regexp"
	"strings"
	"unicode"
)

// ContentRule is one check of a message's text.
type ContentRule struct {
	Name    string  // rule id, e.g. "content.card_number"
	Outcome Outcome // Reject or Hold
	Reason  string
	Match   func(text string) bool
}

// DefaultContentRules are the checks every message's text passes.
func DefaultContentRules() []ContentRule {
	return []ContentRule{
		{"content.hidden_characters", Reject, "invisible characters used to evade filters (zero-width, soft hyphen, byte-order mark)", hasHiddenCharacters},
		{"content.lookalike", Reject, "a word mixes Latin with Cyrillic or Greek lookalike letters", hasMixedScriptWord},
		{"content.card_number", Reject, "a payment card number (passes the Luhn check)", hasCardNumber},
		{"content.credentials_request", Hold, "asks for a PIN, password, card number or login details", asksForCredentials},
		{"content.link_shortener", Hold, "a link shortener hides where the link goes", hasShortener},
		{"content.iban", Hold, "a bank account number (IBAN)", hasIBAN},
		{"content.government_id", Hold, "a government id number pattern", hasGovernmentID},
		{"content.password", Hold, "a password or passcode given in the message", hasPassword},
		{"content.bulk_category", Hold, "a category of unsolicited bulk mail the platform does not carry (affiliate offers, lead generation, penny stocks, credit repair, online casinos, multi-level marketing, payday loans, chain letters)", isBulkCategory},
	}
}

func hasHiddenCharacters(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		switch {
		case r >= 0x200B && r <= 0x200F, r >= 0x2060 && r <= 0x2064, r == 0xFEFF, r == 0x00AD, r == 0x180E, r == 0x034F:
			return true
		}
		return false
	})
}

// hasMixedScriptWord finds a word written with letters of Latin and of
// Cyrillic or Greek together ("Pаypal" with a Cyrillic а).
func hasMixedScriptWord(s string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		latin, other := false, false
		for _, r := range w {
			switch {
			case unicode.Is(unicode.Latin, r):
				latin = true
			case unicode.Is(unicode.Cyrillic, r), unicode.Is(unicode.Greek, r):
				other = true
			}
		}
		if latin && other {
			return true
		}
	}
	return false
}

var cardPattern = regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`)

// digits counts ASCII digits: the number rules need some before their
// patterns are worth running.
func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

func hasCardNumber(s string) bool {
	if digits(s) < 13 {
		return false
	}
	for _, m := range cardPattern.FindAllString(s, -1) {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if len(digits) >= 13 && len(digits) <= 19 && luhn(digits) && !allSame(digits) {
			return true
		}
	}
	return false
}

func luhn(digits string) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func allSame(s string) bool { return strings.Count(s, s[:1]) == len(s) }

var (
	credentialAsk = regexp.MustCompile(`(?i)\b(send|reply|text|share|confirm|enter|provide|give|update|verify|tell)\b[^.!?\n]{0,30}\b(pin|password|passcode|cvv|cvc|card number|login details|security code|bank details)\b`)
	credentialNot = regexp.MustCompile(`(?i)\b(never|don'?t|do not|not|no one)\b[^.!?\n]{0,20}$`)
)

// asksForCredentials finds requests for secrets ("reply with your PIN"),
// not warnings ("never share your PIN").
func asksForCredentials(s string) bool {
	lower := strings.ToLower(s)
	if !containsAny(lower, secrets) {
		return false
	}
	for _, loc := range credentialAsk.FindAllStringIndex(s, -1) {
		if !credentialNot.MatchString(s[max(0, loc[0]-30):loc[0]]) {
			return true
		}
	}
	return false
}

// secrets are the words credentialAsk needs one of.
var secrets = []string{"pin", "password", "passcode", "cvv", "cvc", "card number", "login details", "security code", "bank details"}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

var shorteners = []string{"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "cutt.ly", "rebrand.ly",
	"shorturl.at", "tiny.cc", "rb.gy", "s.id", "t.ly", "v.gd", "bl.ink", "short.io", "lnkd.in", "shorte.st", "adf.ly"}

var linkHost = regexp.MustCompile(`(?i)(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?:/\S*)?`)

func hasShortener(s string) bool {
	if !containsAny(strings.ToLower(s), shorteners) {
		return false
	}
	for _, m := range linkHost.FindAllStringSubmatch(s, -1) {
		host := strings.ToLower(m[1])
		for _, sh := range shorteners {
			if host == sh {
				return true
			}
		}
	}
	return false
}

var ibanPattern = regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`)

func hasIBAN(s string) bool {
	if digits(s) < 2 { // the check digits
		return false
	}
	for _, m := range ibanPattern.FindAllString(strings.ToUpper(s), -1) {
		if ibanValid(strings.ReplaceAll(m, " ", "")) {
			return true
		}
	}
	return false
}

// ibanValid checks the ISO 13616 mod-97 check digits.
func ibanValid(iban string) bool {
	if len(iban) < 15 || len(iban) > 34 {
		return false
	}
	var b strings.Builder
	for _, r := range iban[4:] + iban[:4] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteString(big.NewInt(int64(r - 'A' + 10)).String())
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// Government id patterns: US social security numbers, UK national
// insurance numbers.
var governmentID = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b|\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b`)

func hasGovernmentID(s string) bool { return digits(s) >= 6 && governmentID.MatchString(s) }

// passwordGiven is a password in the text: "password: hunter22", "your
// passcode is 4f!x9q" — a value with a digit or symbol, so that "your
// password is changed" passes.
var passwordGiven = regexp.MustCompile(`(?i)\b(?:password|passcode|passwd|pwd)\b\s*(?:is\s*:?|:|=)\s*["'“]?([^\s"'”<>]{6,})`)

func hasPassword(s string) bool {
	if !containsAny(strings.ToLower(s), []string{"pass", "pwd"}) {
		return false
	}
	for _, m := range passwordGiven.FindAllStringSubmatch(s, -1) {
		if strings.ContainsFunc(m[1], func(r rune) bool { return !unicode.IsLetter(r) }) {
			return true
		}
	}
	return false
}

// bulkWords are the words bulkCategory needs one of, so that most texts
// skip the pattern.
var bulkWords = []string{"payday", "penny stock", "credit repair", "your credit", "multi-level", "multilevel", "mlm",
	"network marketing", "chain letter", "forward this", "send this", "affiliate", "lead generation", "leads", "casino",
	"get rich", "work from home", "earn"}

// bulkCategory are the unsolicited bulk categories email platforms do not
// carry (EMAIL-7).
var bulkCategory = regexp.MustCompile(`(?i)\bpayday\s+(?:loans?|lenders?|advances?)\b|\bpenny\s+stocks?\b|\bcredit\s+repair\b|\b(?:fix|repair|erase)\s+your\s+(?:bad\s+)?credit\b|` +
	`\bmulti-?level\s+marketing\b|\bmlm\b|\bnetwork\s+marketing\s+(?:opportunity|business)\b|\bchain\s+letter\b|` +
	`\b(?:forward|send)\s+this\s+(?:message|email|e-mail|letter|mail)\s+to\s+(?:\d+|ten|five|seven|all\s+your)\b|` +
	`\baffiliate\s+(?:offers?|links?|commissions?|programs?|programmes?)\b|\b(?:buy|fresh|verified)\s+leads\b|\blead\s+generation\s+(?:offers?|lists?)\b|` +
	`\b(?:online|offshore)\s+casinos?\b|\bno[\s-]+deposit\s+bonus\b|\bget\s+rich\s+quick\b|\bwork\s+from\s+home\s+and\s+earn\b|\bearn\s+\$?\d[\d,]*\s+(?:a|per)\s+(?:day|week)\s+from\s+home\b`)

func isBulkCategory(s string) bool {
	return containsAny(strings.ToLower(s), bulkWords) && bulkCategory.MatchString(s)
}
