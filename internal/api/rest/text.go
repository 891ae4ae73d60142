package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// The text rules of every HTTP door. Every text a client sends — path
// segments, query parameters, the names and values of JSON and form
// bodies, files — must be UTF-8 without NUL and without control
// characters (U+0000–U+001F, U+007F–U+009F). Tab, line feed and carriage
// return are allowed only in the parameters that hold text of several
// lines (multilineParams); every other parameter is one line. PostgreSQL
// cannot store NUL or invalid UTF-8 at all, SQLite would store them and
// hand them to carriers, so they are refused at the door, before anything
// is stored.

// multilineParams are the names (the last key of a nested one) of the
// parameters whose text may hold tab, line feed and carriage return: a
// message body, consent evidence text, a HELP reply, a proof, a reason, a
// note.
var multilineParams = map[string]bool{"body": true, "text": true, "helpText": true, "proof": true, "reason": true, "note": true}

// Multiline reports whether the parameter named name (or ending in .name)
// is text of several lines.
func Multiline(name string) bool {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	return multilineParams[name]
}

// TextFault says why s is not acceptable text ("" when it is): not UTF-8,
// a NUL, or a control character (tab, line feed and carriage return are
// accepted when multiline).
func TextFault(s string, multiline bool) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return "is not valid UTF-8 text; send text encoded as UTF-8"
		case r == 0:
			return "contains a NUL character (U+0000), which text cannot hold"
		case r == '\t' || r == '\n' || r == '\r':
			if !multiline {
				return fmt.Sprintf("contains the control character %U; it is one line of text, without tabs or line breaks", r)
			}
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			if multiline {
				return fmt.Sprintf("contains the control character %U; text may hold tabs and line breaks but no other control character", r)
			}
			return fmt.Sprintf("contains the control character %U; it is one line of text, without control characters", r)
		}
		i += size
	}
	return ""
}

// CheckText refuses s as the text of param with 422 code 10 naming it.
func CheckText(param, s string, multiline bool) *Problem {
	if why := TextFault(s, multiline); why != "" {
		return Invalid(param, param+" "+why)
	}
	return nil
}

// CheckRequest applies the text rules to a request's path values (named
// by the route's pattern) and query parameters.
func CheckRequest(r *http.Request) *Problem {
	for _, name := range patternNames(r.Pattern) {
		if p := CheckText(name, r.PathValue(name), false); p != nil {
			return p
		}
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	q, _ := url.ParseQuery(r.URL.RawQuery) // malformed pairs are dropped, as r.URL.Query does
	return CheckForm(q)
}

// patternNames are the wildcards of a ServeMux pattern such as
// "GET /messages/{id}".
func patternNames(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		pattern = pattern[i+1:]
		j := strings.IndexByte(pattern, '}')
		if j < 0 {
			return names
		}
		if name := strings.TrimSuffix(pattern[:j], "..."); name != "$" {
			names = append(names, name)
		}
		pattern = pattern[j+1:]
	}
}

// CheckForm applies the text rules to form or query values; a key such as
// typeDetails[udh] names the parameter typeDetails.udh, recipients[] the
// parameter recipients.
func CheckForm(form url.Values) *Problem {
	for key, vals := range form {
		name := formName(key)
		if why := TextFault(key, false); why != "" {
			return Invalid(TextName(name), "a parameter name "+why)
		}
		for _, v := range vals {
			if p := CheckText(name, v, Multiline(name)); p != nil {
				return p
			}
		}
	}
	return nil
}

// formName turns a PHP-style form key into a parameter name:
// "a[b][]" is "a.b".
func formName(key string) string {
	base, rest, ok := strings.Cut(key, "[")
	if !ok {
		return base
	}
	for _, part := range strings.Split(strings.TrimSuffix(rest, "]"), "][") {
		if part != "" {
			base += "." + part
		}
	}
	return base
}

// TextName is a parameter name fit to be shown: itself when it is valid
// text, else "" (the error then names no parameter).
func TextName(name string) string {
	if TextFault(name, false) != "" {
		return ""
	}
	return name
}

// CheckJSON applies the text rules to every name and string of a JSON
// body: the problem names the parameter, nested ones with dots
// (evidence.text); strings in arrays are named by the array. A body that
// is not JSON passes: its decoder reports it as malformed.
func CheckJSON(raw []byte) *Problem {
	raw = bytes.TrimSpace(raw)
	if plainJSON(raw) || len(raw) == 0 || raw[0] != '{' {
		return nil // a body that is not an object is the decoder's to refuse
	}
	return checkJSONValue("", "", raw)
}

// plainJSON is the quick check that lets almost every body pass without
// decoding it twice: valid UTF-8 with no DEL or C1 control character and
// no escape other than \" \\ \/ and \u of a character that is neither a
// control character nor a surrogate.
func plainJSON(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == 0x7f:
			return false
		case c == 0xc2 && i+1 < len(raw) && raw[i+1] >= 0x80 && raw[i+1] < 0xa0:
			return false
		case c == '\\':
			i++
			if i >= len(raw) {
				return false
			}
			switch raw[i] {
			case '"', '\\', '/':
			case 'u':
				r, ok := hex4(raw[i+1:])
				if !ok || r < 0x20 || r >= 0x7f && r < 0xa0 || r >= 0xd800 && r < 0xe000 {
					return false
				}
				i += 4
			default: // \b \f \n \r \t: decide per parameter
				return false
			}
		}
	}
	return true
}

// checkJSONValue checks one value at path (leaf is the name deciding
// whether it may hold several lines).
func checkJSONValue(path, leaf string, raw []byte) *Problem {
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		if !ValidJSONText(raw) {
			return NotUTF8(path)
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return CheckText(path, s, Multiline(leaf))
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for _, it := range items {
			if p := checkJSONValue(path, leaf, bytes.TrimSpace(it)); p != nil {
				return p
			}
		}
	case '{':
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil {
			return nil
		}
		for key, v := range fields {
			if why := TextFault(key, false); why != "" {
				return Invalid(TextName(path), "a parameter name "+why)
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			if p := checkJSONValue(sub, key, bytes.TrimSpace(v)); p != nil {
				return p
			}
		}
		// A name that is not UTF-8 reaches the map as U+FFFD.
		if !ValidJSONText(raw) && !anyInvalid(fields) {
			return Invalid(TextName(path), "a parameter name is not valid UTF-8 text; send text encoded as UTF-8")
		}
	}
	return nil
}

func anyInvalid(fields map[string]json.RawMessage) bool {
	for _, v := range fields {
		if !ValidJSONText(v) {
			return true
		}
	}
	return false
}

// CheckFile applies the text rules to a file of lines (a CSV file, a
// document): tabs and line breaks are allowed, and the problem names the
// line.
func CheckFile(param string, file []byte) *Problem {
	if TextFault(string(file), true) == "" {
		return nil
	}
	for n, line := range bytes.Split(file, []byte("\n")) {
		if why := TextFault(string(line), true); why != "" {
			return Invalid(param, fmt.Sprintf("%s: line %d %s", param, n+1, why))
		}
	}
	return nil
}
