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
// note; and a PEM key (a Beams instance's APNs .p8 key, a service
// account's private_key) or a key file given as text.
var multilineParams = map[string]bool{"body": true, "text": true, "html": true, "helpText": true, "proof": true, "reason": true, "note": true, "template": true,
	"key": true, "private_key": true, "service_account": true}

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
		if r == utf8.RuneError && size <= 1 {
			return notUTF8
		}
		if why := runeFault(r, multiline); why != "" {
			return why
		}
		i += size
	}
	return ""
}

const notUTF8 = "is not valid UTF-8 text; send text encoded as UTF-8"

// runeFault says why r cannot be in text ("" when it can).
func runeFault(r rune, multiline bool) string {
	switch {
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
// is not a JSON object passes: its decoder reports it as malformed.
func CheckJSON(raw []byte) *Problem {
	raw = bytes.TrimSpace(raw)
	if plainJSON(raw) || len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	s := jsonScan{raw: raw}
	s.path = s.depth[:0]
	_, p, _ := s.value(0)
	return p
}

// plainJSON is the quick check that lets almost every body pass: valid
// UTF-8 with no DEL or C1 control character and no escape other than \"
// \\ \/ and \u of a character that is neither a control character nor a
// surrogate.
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

// jsonScan walks a JSON body once, without decoding it, and checks each
// name and string where it stands: it knows the parameter (the path of
// names) each string belongs to, so a line break is refused in a
// reference and accepted in a body. Malformed JSON ends the walk without
// a problem: the body's decoder reports it.
type jsonScan struct {
	raw []byte
	// path holds the names from the top to the value being read, as
	// written (escapes and all).
	path  [][]byte
	depth [8][]byte // path's first backing array
}

// param is the parameter the path names: its names joined with dots.
func (s *jsonScan) param() string {
	var b strings.Builder
	for i, n := range s.path {
		name := string(n)
		if bytes.IndexByte(n, '\\') >= 0 {
			json.Unmarshal(append(append([]byte{'"'}, n...), '"'), &name)
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
	}
	return b.String()
}

// multiline reports whether the path's last name holds several lines.
func (s *jsonScan) multiline() bool {
	return len(s.path) > 0 && multilineParams[string(s.path[len(s.path)-1])]
}

func (s *jsonScan) ws(i int) int {
	for i < len(s.raw) && (s.raw[i] == ' ' || s.raw[i] == '\t' || s.raw[i] == '\n' || s.raw[i] == '\r') {
		i++
	}
	return i
}

// after reads what follows an item of an object or array at i: a comma
// (more items follow) or its closing bracket; ok is false for anything else.
func (s *jsonScan) after(i int, closing byte) (next int, more, ok bool) {
	switch i = s.ws(i); {
	case i < len(s.raw) && s.raw[i] == ',':
		return i + 1, true, true
	case i < len(s.raw) && s.raw[i] == closing:
		return i + 1, false, true
	}
	return i, false, false
}

// value checks the value at i, at the path; it returns where the value
// ends, a problem, and false when the JSON is malformed.
func (s *jsonScan) value(i int) (int, *Problem, bool) {
	i = s.ws(i)
	if i >= len(s.raw) {
		return i, nil, false
	}
	switch s.raw[i] {
	case '{':
		i = s.ws(i + 1)
		if i < len(s.raw) && s.raw[i] == '}' {
			return i + 1, nil, true
		}
		for {
			i = s.ws(i)
			if i >= len(s.raw) || s.raw[i] != '"' {
				return i, nil, false
			}
			end, why, ok := s.str(i, false)
			if !ok {
				return end, nil, false
			}
			if why != "" {
				return end, Invalid(TextName(s.param()), "a parameter name "+why), true
			}
			name := s.raw[i+1 : end-1]
			if i = s.ws(end); i >= len(s.raw) || s.raw[i] != ':' {
				return i, nil, false
			}
			s.path = append(s.path, name)
			var p *Problem
			if i, p, ok = s.value(i + 1); !ok || p != nil {
				return i, p, ok
			}
			s.path = s.path[:len(s.path)-1]
			var more bool
			if i, more, ok = s.after(i, '}'); !ok || !more {
				return i, nil, ok
			}
		}
	case '[':
		i = s.ws(i + 1)
		if i < len(s.raw) && s.raw[i] == ']' {
			return i + 1, nil, true
		}
		for {
			var p *Problem
			var ok, more bool
			if i, p, ok = s.value(i); !ok || p != nil {
				return i, p, ok
			}
			if i, more, ok = s.after(i, ']'); !ok || !more {
				return i, nil, ok
			}
		}
	case '"':
		end, why, ok := s.str(i, s.multiline())
		if ok && why != "" {
			name := s.param()
			return end, Invalid(name, name+" "+why), true
		}
		return end, nil, ok
	default: // a number, true, false or null: its decoder judges it
		j := i
		for j < len(s.raw) && strings.IndexByte(",]} \t\r\n", s.raw[j]) < 0 {
			j++
		}
		return j, nil, j > i
	}
}

// str checks the string whose opening quote is at i: it returns the index
// after its closing quote, what breaks the text rules ("" if nothing), and
// false when the string is malformed.
func (s *jsonScan) str(i int, multiline bool) (int, string, bool) {
	raw := s.raw
	for j := i + 1; j < len(raw); {
		c := raw[j]
		switch {
		case c == '"':
			return j + 1, "", true
		case c < 0x20: // raw control characters are not JSON
			return j, "", false
		case c == '\\':
			if j+1 >= len(raw) {
				return j, "", false
			}
			var r rune
			switch e := raw[j+1]; e {
			case '"', '\\', '/':
				j += 2
				continue
			case 'b':
				r, j = '\b', j+2
			case 'f':
				r, j = '\f', j+2
			case 'n':
				r, j = '\n', j+2
			case 'r':
				r, j = '\r', j+2
			case 't':
				r, j = '\t', j+2
			case 'u':
				v, ok := hex4(raw[j+2:])
				if !ok {
					return j, "", false
				}
				r = v
				j += 6
				switch {
				case r >= 0xd800 && r < 0xdc00: // a high surrogate needs a low one next
					lo, ok := rune(0), j+6 <= len(raw) && raw[j] == '\\' && raw[j+1] == 'u'
					if ok {
						lo, ok = hex4(raw[j+2:])
					}
					if !ok || lo < 0xdc00 || lo >= 0xe000 {
						return j, notUTF8, true
					}
					j += 6
					continue
				case r >= 0xdc00 && r < 0xe000:
					return j, notUTF8, true
				}
			default:
				return j, "", false
			}
			if why := runeFault(r, multiline); why != "" {
				return j, why, true
			}
		case c < utf8.RuneSelf:
			if c == 0x7f {
				return j, runeFault(0x7f, multiline), true
			}
			j++
		default:
			r, size := utf8.DecodeRune(raw[j:])
			if r == utf8.RuneError && size <= 1 {
				return j, notUTF8, true
			}
			if why := runeFault(r, multiline); why != "" {
				return j, why, true
			}
			j += size
		}
	}
	return len(raw), "", false
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
