package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings are what a Conversations webhook's `settings` object asks of
// the calls made to it (MessageBird's shape: expected_http_code, headers,
// username, password, query_params, retry, timeout). The zero value asks
// nothing: the sender's defaults (a 2xx answer, its timeout and attempts).
type Settings struct {
	Headers  http.Header   // added to every call
	Username string        // with Password: HTTP basic authentication
	Password string        //
	Query    url.Values    // added to the URL's own query
	Retry    int           // retries after the first attempt; 0: the sender's default
	Timeout  time.Duration // per attempt; 0: the sender's default
	Expect   []CodeRange   // answers that count as success; none: 2xx
}

// CodeRange is an inclusive range of HTTP status codes.
type CodeRange struct{ Lo, Hi int }

// Settings bounds.
const (
	MaxSettingsRetry   = 10
	MaxSettingsTimeout = 30 // seconds
	maxSettingsHeaders = 20
	maxHeaderValue     = 1024
	// PasswordMask stands for a stored password when settings are read
	// back; settings that carry it keep the stored password.
	PasswordMask = "********"
)

// reservedHeaders are set by omnigate on every call; settings cannot
// replace them (the signature headers prove the call is omnigate's).
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Content-Type": true, "Transfer-Encoding": true, "Connection": true,
	"User-Agent": true, textproto.CanonicalMIMEHeaderKey(HeaderSignatureJWT): true,
	textproto.CanonicalMIMEHeaderKey(HeaderSignature): true, textproto.CanonicalMIMEHeaderKey(HeaderTimestamp): true,
}

// SettingsError names the setting that is wrong and why.
type SettingsError struct{ Field, Msg string }

func (e *SettingsError) Error() string { return e.Field + ": " + e.Msg }

func settingsErr(field, format string, a ...any) error {
	return &SettingsError{Field: "settings." + field, Msg: fmt.Sprintf(format, a...)}
}

// settingsJSON is the settings object as MessageBird's SDKs send it; the
// Go SDK sends every field, zero values included, so 0 and "" mean "not
// set". Headers' values may be strings, numbers or booleans.
type settingsJSON struct {
	ExpectedHTTPCode *string                    `json:"expected_http_code"`
	Headers          map[string]json.RawMessage `json:"headers"`
	Username         *string                    `json:"username"`
	Password         *string                    `json:"password"`
	QueryParams      *string                    `json:"query_params"`
	Retry            *int                       `json:"retry"`
	Timeout          *int                       `json:"timeout"`
}

// ParseSettings reads and checks a settings object. An empty raw is the
// zero Settings.
func ParseSettings(raw []byte) (Settings, error) {
	var s Settings
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return s, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var j settingsJSON
	if err := dec.Decode(&j); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return s, settingsErr(strings.Trim(f, `"`), "is not a setting; settings are expected_http_code, headers, username, password, query_params, retry, timeout")
		}
		return Settings{}, &SettingsError{Field: "settings", Msg: "settings must be an object of expected_http_code (string), headers (object), username, password, query_params (strings), retry, timeout (integers)"}
	}
	if dec.More() {
		return s, &SettingsError{Field: "settings", Msg: "settings must be one object"}
	}
	if j.ExpectedHTTPCode != nil && strings.TrimSpace(*j.ExpectedHTTPCode) != "" {
		exp, err := parseExpect(*j.ExpectedHTTPCode)
		if err != nil {
			return Settings{}, err
		}
		s.Expect = exp
	}
	if len(j.Headers) > maxSettingsHeaders {
		return Settings{}, settingsErr("headers", "at most %d headers", maxSettingsHeaders)
	}
	if len(j.Headers) > 0 {
		s.Headers = http.Header{}
		names := make([]string, 0, len(j.Headers))
		for name := range j.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			value, err := headerValue(name, j.Headers[name])
			if err != nil {
				return Settings{}, err
			}
			s.Headers.Set(name, value)
		}
	}
	if j.Username != nil {
		s.Username = *j.Username
	}
	if j.Password != nil {
		s.Password = *j.Password
	}
	if s.Username == "" && s.Password != "" && s.Password != PasswordMask {
		return Settings{}, settingsErr("username", "a password needs a username")
	}
	if strings.ContainsAny(s.Username, ":\r\n") || len(s.Username) > 256 {
		return Settings{}, settingsErr("username", "a username has at most 256 characters and no colon or line break")
	}
	if len(s.Password) > 256 || strings.ContainsAny(s.Password, "\r\n") {
		return Settings{}, settingsErr("password", "a password has at most 256 characters and no line break")
	}
	if s.Username != "" && s.Headers.Get("Authorization") != "" {
		return Settings{}, settingsErr("headers.Authorization", "give either an Authorization header or a username and password")
	}
	if j.QueryParams != nil && *j.QueryParams != "" {
		q, err := url.ParseQuery(strings.TrimPrefix(*j.QueryParams, "?"))
		if err != nil || len(*j.QueryParams) > 1024 {
			return Settings{}, settingsErr("query_params", "query_params is a query string such as a=1&b=2, at most 1024 characters")
		}
		s.Query = q
	}
	if j.Retry != nil {
		if *j.Retry < 0 || *j.Retry > MaxSettingsRetry {
			return Settings{}, settingsErr("retry", "retry is 0 (the default) to %d", MaxSettingsRetry)
		}
		s.Retry = *j.Retry
	}
	if j.Timeout != nil {
		if *j.Timeout < 0 || *j.Timeout > MaxSettingsTimeout {
			return Settings{}, settingsErr("timeout", "timeout is 0 (the default) to %d seconds", MaxSettingsTimeout)
		}
		s.Timeout = time.Duration(*j.Timeout) * time.Second
	}
	return s, nil
}

// headerValue checks one header of the settings.
func headerValue(name string, raw json.RawMessage) (string, error) {
	if name == "" || !validToken(name) {
		return "", settingsErr("headers", "%q is not a header name", name)
	}
	canon := textproto.CanonicalMIMEHeaderKey(name)
	if reservedHeaders[canon] {
		return "", settingsErr("headers."+name, "omnigate sets %s itself", canon)
	}
	var value string
	var str string
	var num json.Number
	var b bool
	switch {
	case json.Unmarshal(raw, &str) == nil:
		value = str
	case json.Unmarshal(raw, &num) == nil:
		value = num.String()
	case json.Unmarshal(raw, &b) == nil:
		value = strconv.FormatBool(b)
	default:
		return "", settingsErr("headers."+name, "a header's value is a string, number or boolean")
	}
	if len(value) > maxHeaderValue || strings.ContainsAny(value, "\r\n\x00") {
		return "", settingsErr("headers."+name, "a header's value has at most %d characters and no line break", maxHeaderValue)
	}
	return value, nil
}

// validToken says whether name is an RFC 9110 token.
func validToken(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// parseExpect reads expected_http_code: codes and classes separated by
// commas, such as "2xx", "200", "200,202" or "200-299".
func parseExpect(text string) ([]CodeRange, error) {
	bad := settingsErr("expected_http_code", "expected_http_code lists status codes or classes such as 2xx, 200, 200,202 or 200-204")
	var out []CodeRange
	for _, part := range strings.Split(text, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		var r CodeRange
		switch {
		case len(part) == 3 && strings.HasSuffix(part, "xx") && part[0] >= '1' && part[0] <= '5':
			r = CodeRange{Lo: int(part[0]-'0') * 100, Hi: int(part[0]-'0')*100 + 99}
		case strings.Contains(part, "-"):
			lo, hi, _ := strings.Cut(part, "-")
			a, err1 := strconv.Atoi(strings.TrimSpace(lo))
			b, err2 := strconv.Atoi(strings.TrimSpace(hi))
			if err1 != nil || err2 != nil || a > b {
				return nil, bad
			}
			r = CodeRange{Lo: a, Hi: b}
		default:
			n, err := strconv.Atoi(part)
			if err != nil {
				return nil, bad
			}
			r = CodeRange{Lo: n, Hi: n}
		}
		if r.Lo < 100 || r.Hi > 599 {
			return nil, bad
		}
		out = append(out, r)
	}
	return out, nil
}

// Accepts says whether an answer with code counts as success.
func (s Settings) Accepts(code int) bool {
	if len(s.Expect) == 0 {
		return code >= 200 && code <= 299
	}
	for _, r := range s.Expect {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

// MaskPassword returns the settings object raw with its password, if
// any, replaced by PasswordMask: what the API shows when settings are
// read back. raw that does not parse is returned as is.
func MaskPassword(raw string) string {
	if raw == "" || !strings.Contains(raw, `"password"`) {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &m) != nil {
		return raw
	}
	var pw string
	if json.Unmarshal(m["password"], &pw) != nil || pw == "" {
		return raw
	}
	m["password"], _ = json.Marshal(PasswordMask)
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return string(out)
}

// KeepPassword returns the settings object raw with a masked password
// replaced by the one in stored: settings read back and sent again keep
// their password.
func KeepPassword(raw, stored string) string {
	if !strings.Contains(raw, PasswordMask) {
		return raw
	}
	var m, old map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &m) != nil {
		return raw
	}
	var pw string
	if json.Unmarshal(m["password"], &pw) != nil || pw != PasswordMask {
		return raw
	}
	var oldPW string
	if json.Unmarshal([]byte(stored), &old) == nil {
		json.Unmarshal(old["password"], &oldPW)
	}
	m["password"], _ = json.Marshal(oldPW)
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return string(out)
}
