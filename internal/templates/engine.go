// Package templates stores and renders message templates: a variant per
// language (subject, text, HTML), variables with defaults, and a syntax
// with no logic — {{name}} and {{name|default text}} — so that rendering
// never runs anything an account wrote. One system for every channel: the
// subject is optional (email uses it; SMS and chat apps take the text).
//
// Syntax (docs/templates.md):
//
//	{{name}}               the variable's value
//	{{ name }}             the same; spaces around the name are ignored
//	{{name|default text}}  the value, or the text when the send gives none
//	{{{{                   a literal "{{"
//
// A name is a letter or '_' followed by up to 63 letters, digits, '_', '-'
// or '.'. Values are inserted as they are in subjects and text parts, and
// HTML-escaped in HTML parts.
package templates

import (
	"fmt"
	"html"
	"strings"
	"unicode/utf8"
)

// maxName bounds a variable's name.
const maxName = 64

// segment is literal text, or a variable when name is set.
type segment struct {
	text       string // the literal, or the inline default
	name       string
	hasDefault bool
}

// parsed is a template part split into literals and variables.
type parsed []segment

// parse splits a part; its errors say where (byte offset) and why.
func parse(src string) (parsed, error) {
	var out parsed
	var lit strings.Builder
	for i := 0; i < len(src); {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			lit.WriteString(src[i:])
			break
		}
		lit.WriteString(src[i : i+j])
		i += j
		if strings.HasPrefix(src[i:], "{{{{") {
			lit.WriteString("{{")
			i += 4
			continue
		}
		end := strings.Index(src[i+2:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("at byte %d: %q is not closed with }}", i, clip(src[i:]))
		}
		inner := src[i+2 : i+2+end]
		name, def, hasDefault := strings.Cut(inner, "|")
		name = strings.TrimSpace(name)
		if !validName(name) {
			return nil, fmt.Errorf("at byte %d: %q: a variable's name is a letter or _ then up to %d letters, digits, _, - or .", i, clip("{{"+inner+"}}"), maxName-1)
		}
		if strings.Contains(def, "{{") {
			return nil, fmt.Errorf("at byte %d: the default of %s may not contain {{", i, name)
		}
		if lit.Len() > 0 {
			out = append(out, segment{text: lit.String()})
			lit.Reset()
		}
		out = append(out, segment{name: name, text: def, hasDefault: hasDefault})
		i += 2 + end + 2
	}
	if lit.Len() > 0 {
		out = append(out, segment{text: lit.String()})
	}
	return out, nil
}

// validName: a letter or '_', then letters, digits, '_', '-', '.'.
func validName(s string) bool {
	if s == "" || len(s) > maxName {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// names are the variables a part uses, and whether every use has an
// inline default.
func (p parsed) names(into map[string]bool) {
	for _, s := range p {
		if s.name != "" {
			into[s.name] = into[s.name] || !s.hasDefault
		}
	}
}

// render fills in the variables: the send's value, else the inline
// default, else the template's default; escape HTML-escapes values (and
// defaults). A variable without any value is an error naming it.
func (p parsed) render(vars map[string]string, defaults map[string]*string, escape bool) (string, error) {
	var b strings.Builder
	for _, s := range p {
		if s.name == "" {
			b.WriteString(s.text)
			continue
		}
		v, ok := vars[s.name]
		if !ok && s.hasDefault {
			v, ok = s.text, true
		}
		if !ok {
			if d := defaults[s.name]; d != nil {
				v, ok = *d, true
			}
		}
		if !ok {
			return "", &Error{Field: "variables." + s.name, Reason: "the template needs variable " + s.name + " and it has no default"}
		}
		if escape {
			v = html.EscapeString(v)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 40
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
