package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ReadBody reads at most limit bytes of the request body.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *Problem) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge(limit)
	}
	if err != nil {
		return nil, Malformed("could not read the request body")
	}
	return body, nil
}

// BodyKind says how a request body is encoded: "empty", "json" or "form".
func BodyKind(r *http.Request, body []byte) (string, *Problem) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		trimmed := bytes.TrimSpace(body)
		switch {
		case len(trimmed) == 0:
			return "empty", nil
		case trimmed[0] == '{':
			return "json", nil
		default:
			return "form", nil
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", errUnsupportedType(ct)
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json":
		if len(bytes.TrimSpace(body)) == 0 {
			return "empty", nil
		}
		return "json", nil
	case mt == "application/x-www-form-urlencoded":
		if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' && json.Valid(t) {
			// A JSON object labelled a form: Ruby's Net::HTTP gives a POST
			// that Content-Type when the caller sets none, as the Ruby
			// SDK's number client does. No form starts with "{".
			return "json", nil
		}
		return "form", nil
	}
	return "", errUnsupportedType(mt)
}

// ValidJSONText reports whether a raw JSON value holds only valid text:
// UTF-8 throughout, and no \u escape of half a surrogate pair.
// encoding/json turns either into U+FFFD without a word, so a body that is
// not text would be stored mangled (and billed as UCS-2).
func ValidJSONText(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character; "\\" skips the second backslash
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex4(raw[i+1:])
		if !ok {
			return false
		}
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00: // a high surrogate needs a low one next
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(raw[i+3:])
			if !ok || utf16.DecodeRune(r, lo) == utf8.RuneError {
				return false
			}
			i += 6
		case r >= 0xDC00 && r < 0xE000:
			return false
		}
	}
	return true
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(v), err == nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// JSONText accepts a string, a number (as its text) or null.
func JSONText(name string, raw json.RawMessage) (string, *Problem) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", Invalid(name, name+" must be a string")
}

// JSONInt accepts an integer, a string holding one, or null.
func JSONInt(name string, raw json.RawMessage) (*int, *Problem) {
	s, p := JSONText(name, raw)
	if p != nil || s == "" {
		return nil, p
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return nil, Invalid(name, name+" must be an integer")
	}
	return &v, nil
}

// JSONList accepts an array of strings or integers, or (when commaText) a
// comma-separated string or a single number, or null.
func JSONList(name string, raw json.RawMessage, commaText bool) ([]string, *Problem) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err == nil {
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, p := JSONText(name, it)
			if p != nil {
				return nil, Invalid(name, name+" must hold strings or numbers")
			}
			out = append(out, s)
		}
		return out, nil
	}
	if !commaText {
		return nil, Invalid(name, name+" must be an array")
	}
	s, p := JSONText(name, raw)
	if p != nil {
		return nil, Invalid(name, name+" must be an array or a comma-separated string")
	}
	return SplitList(s), nil
}

// JSONBool accepts true, false, "true", "false" or null.
func JSONBool(name string, raw json.RawMessage) (bool, *Problem) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	s, p := JSONText(name, raw)
	if p == nil {
		switch s {
		case "", "false":
			return false, nil
		case "true":
			return true, nil
		}
	}
	return false, Invalid(name, name+" must be true or false")
}

// JSONObject accepts an object, an empty array (PHP's empty array) or null.
func JSONObject(name string, raw json.RawMessage) (map[string]any, *Problem) {
	trimmed := bytes.TrimSpace(raw)
	if isNull(trimmed) || string(trimmed) == "[]" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return nil, Invalid(name, name+" must be an object")
	}
	return m, nil
}

// SplitList splits "a, b,c" into its non-empty items.
func SplitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// Quote quotes s for an error description, cut after 64 bytes (with …).
func Quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
