package loadgen

import (
	"net/url"
	"strconv"
	"strings"
)

// The byte-level writers and readers behind Target.AppendRequest and
// ParseReport. They write what net/url would, without its maps and
// intermediate strings (JSON strings go through internal/jsonstr): the
// load generator shares the cores with the system it measures (issue 20,
// the harness ceiling). encode_test.go holds them to the standard
// library's output.

// splitBase splits a target's base URL ("http://host:port[/prefix]") into
// the Host header and the path prefix requests go under.
func splitBase(base string) (host, prefix string) {
	rest := base
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	rest = strings.TrimRight(rest, "/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i], rest[i:]
	}
	return rest, ""
}

// appendRequestLine appends an HTTP/1.1 request line and the Host header.
func appendRequestLine(dst []byte, method, host, prefix, path string) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, prefix...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n"...)
}

// appendBody ends a header block with the body's Content-Length, and
// appends the body.
func appendBody(dst, body []byte) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// appendQueryEscaped appends s escaped as url.QueryEscape escapes it.
func appendQueryEscaped[S string | []byte](dst []byte, s S) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&0xf])
		}
	}
	return dst
}

// queryValue is the first value of key in a raw query string, unescaped
// as url.ParseQuery unescapes it ("" when absent or badly escaped).
func queryValue(rawQuery, key string) string {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if strings.Contains(pair, ";") {
			continue // url.ParseQuery refuses it too
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != key {
			continue
		}
		if !strings.ContainsAny(v, "%+") {
			return v
		}
		u, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		return u
	}
	return ""
}
