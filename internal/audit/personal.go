package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
)

// Personal data in the audit log. The log is append-only and hash-chained:
// erasure cannot edit it. So a person's identifiers (phone numbers, email
// addresses, chat ids) never go in: the values of personal fields
// (IsPersonal) in Before and After, and path segments that hold one
// (PseudonymousPath), are replaced at write time with a pseudonym,
// a keyed hash under a key derived from the account's data key
// (Log.UseKeys). The chain covers the pseudonyms, so it stays verifiable;
// the same identifier gets the same pseudonym within an account, so the
// log still shows that two changes concern one person; and once the
// account is shredded, nobody can compute the key to link a pseudonym to a
// person, in the database or in its backups.

// personalNames are field names (lower case, without '_' and '-') whose
// values identify a person.
var personalNames = map[string]bool{
	"recipient": true, "recipients": true, "msisdn": true, "msisdns": true, "phone": true, "phonenumber": true,
	"mobile": true, "email": true, "identifier": true, "to": true, "from": true, "address": true,
	"userid": true, "chatid": true,
}

// IsPersonal reports whether a field of this name holds a person's
// identifier.
func IsPersonal(name string) bool {
	return personalNames[strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(name))]
}

// Personal is what an identifier is recorded as when there is no key to
// pseudonymise it with.
const Personal = "[personal]"

// PseudonymPrefix starts every pseudonym.
const PseudonymPrefix = "pii:"

// Pseudonym is the pseudonym of an identifier under key: "pii:" and 128
// bits of HMAC-SHA256 in hex, of the identifier without spaces and a
// leading "+" (an email lower-cased). Personal without a key; "" stays "".
func Pseudonym(key []byte, identifier string) string {
	v := strings.TrimPrefix(strings.TrimSpace(identifier), "+")
	if v == "" {
		return identifier
	}
	if key == nil {
		return Personal
	}
	if strings.Contains(v, "@") {
		v = strings.ToLower(v)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(v))
	return PseudonymPrefix + hex.EncodeToString(mac.Sum(nil)[:16])
}

// pseudonymise replaces a personal field's value: a string (each of a
// comma-separated list), a number, or a list or object of those.
func pseudonymise(v any, pseudo func(string) string) any {
	switch t := v.(type) {
	case string:
		if strings.Contains(t, ",") {
			parts := strings.Split(t, ",")
			for i, p := range parts {
				parts[i] = pseudo(p)
			}
			return strings.Join(parts, ",")
		}
		return pseudo(t)
	case json.Number:
		return pseudo(t.String())
	case []any:
		for i := range t {
			t[i] = pseudonymise(t[i], pseudo)
		}
	case map[string]any:
		for k, x := range t {
			if IsSecret(k) {
				if x != nil && x != "" {
					t[k] = Masked
				}
				continue
			}
			t[k] = pseudonymise(x, pseudo)
		}
	}
	return v
}

// PseudonymisedJSON is MaskedJSON that also replaces the values of
// personal fields (IsPersonal) with their pseudonyms under key (Personal
// without one): what the log stores as Before and After.
func PseudonymisedJSON(v any, key []byte) (string, error) {
	return maskedJSON(v, func(s string) string { return Pseudonym(key, s) })
}

// PseudonymousPath replaces the segments of a request path that hold a
// person's identifier with their pseudonyms under key: those where the
// route's pattern (action, "DELETE /suppressions/{recipient}") has a
// wildcard with a personal name ({recipient}, {phoneNumber}, {user} …),
// and any that is an email address. Numeric ids (a realtime app's) stay.
// It is what the log stores as Object.
func PseudonymousPath(action, path string, key []byte) string {
	if path == "" || !strings.Contains(path, "/") {
		return path
	}
	pattern := action
	if _, p, ok := strings.Cut(action, " "); ok {
		pattern = p
	}
	pat := strings.Split(pattern, "/")
	segs := strings.Split(path, "/")
	changed := false
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil || u == "" {
			continue
		}
		personal := strings.Contains(u, "@") && strings.Contains(u, ".")
		if len(pat) == len(segs) && strings.HasPrefix(pat[i], "{") && strings.HasSuffix(pat[i], "}") {
			name := strings.TrimSuffix(strings.Trim(pat[i], "{}"), "...")
			personal = personal || IsPersonal(name) || strings.EqualFold(name, "user")
		}
		if personal {
			segs[i], changed = Pseudonym(key, u), true
		}
	}
	if !changed {
		return path
	}
	return strings.Join(segs, "/")
}
