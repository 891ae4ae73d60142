package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxRecipients is MessageBird's limit per request.
const maxRecipients = 50

// createRequest is POST /messages after decoding, whatever the encoding.
type createRequest struct {
	Originator        string
	Body              string
	Recipients        []string
	GroupIDs          []string
	Type              string
	Reference         string
	ReportURL         string
	DataCoding        string
	Validity          *int
	Gateway           *int
	MClass            *int
	ScheduledDatetime string
	TypeDetails       map[string]any
	Purpose           string
	Categories        []string
	Urgent            bool
	// Unknown names the parameters given that the door does not know;
	// they are ignored, as MessageBird does, and counted.
	Unknown []string
}

// knownFields are the names POST /messages reads. Besides the documented
// parameters they include those the PHP SDK sends back from a whole message
// object (direction, id, href, createdDatetime …), which are ignored. Other
// names are ignored too (SDKs and older integrations send fields omnigate
// does not know, and MessageBird ignores them), but counted; a known
// parameter with a malformed value is an error.
var knownFields = map[string]bool{
	"originator": true, "body": true, "recipients": true, "groupIds": true, "type": true, "reference": true,
	"reportUrl": true, "datacoding": true, "validity": true, "gateway": true, "mclass": true,
	"scheduledDatetime": true, "typeDetails": true, "shortenUrls": true,
	"direction": true, "id": true, "href": true, "createdDatetime": true,
	// omnigate's own: compliance
	"purpose": true, "categories": true, "urgent": true,
}

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *Problem) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge(limit)
	}
	if err != nil {
		return nil, errMalformed("could not read the request body")
	}
	return body, nil
}

// bodyKind says how a request body is encoded.
func bodyKind(r *http.Request, body []byte) (string, *Problem) {
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
		return "form", nil
	}
	return "", errUnsupportedType(mt)
}

// decodeCreate reads POST /messages in JSON or form encoding.
func decodeCreate(w http.ResponseWriter, r *http.Request, limit int64) (*createRequest, *Problem) {
	body, p := readBody(w, r, limit)
	if p != nil {
		return nil, p
	}
	kind, p := bodyKind(r, body)
	if p != nil {
		return nil, p
	}
	switch kind {
	case "json":
		return decodeCreateJSON(body)
	case "form":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errMalformed("malformed form body: " + err.Error())
		}
		return decodeCreateForm(form)
	}
	return nil, errMissing("recipients")
}

func decodeCreateJSON(body []byte) (*createRequest, *Problem) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return nil, errMalformed("malformed JSON: " + err.Error())
	}
	if dec.More() {
		return nil, errMalformed("malformed JSON: data after the object")
	}
	var req createRequest
	for name, raw := range fields {
		if !knownFields[name] {
			req.Unknown = append(req.Unknown, name)
			continue
		}
		if !jsonTextValid(raw) {
			return nil, errNotUTF8(name)
		}
		var p *Problem
		switch name {
		case "originator":
			req.Originator, p = jsonText(name, raw)
		case "body":
			req.Body, p = jsonText(name, raw)
		case "type":
			req.Type, p = jsonText(name, raw)
		case "reference":
			req.Reference, p = jsonText(name, raw)
		case "reportUrl":
			req.ReportURL, p = jsonText(name, raw)
		case "datacoding":
			req.DataCoding, p = jsonText(name, raw)
		case "scheduledDatetime":
			req.ScheduledDatetime, p = jsonText(name, raw)
		case "direction":
			var dir string
			if dir, p = jsonText(name, raw); p == nil && dir != "" && dir != "mt" {
				p = errInvalid(name, "only mt (outbound) messages can be created")
			}
		case "validity":
			req.Validity, p = jsonInt(name, raw)
		case "gateway":
			req.Gateway, p = jsonInt(name, raw)
		case "mclass":
			req.MClass, p = jsonInt(name, raw)
		case "recipients":
			req.Recipients, p = jsonList(name, raw, true)
		case "groupIds":
			req.GroupIDs, p = jsonList(name, raw, false)
		case "typeDetails":
			req.TypeDetails, p = jsonObject(name, raw)
		case "purpose":
			req.Purpose, p = jsonText(name, raw)
		case "categories":
			req.Categories, p = jsonList(name, raw, true)
		case "urgent":
			req.Urgent, p = jsonBool(name, raw)
		}
		if p != nil {
			return nil, p
		}
	}
	return &req, nil
}

// jsonTextValid reports whether a raw JSON value holds only valid text:
// UTF-8 throughout, and no \u escape of half a surrogate pair.
// encoding/json turns either into U+FFFD without a word, so a body that is
// not text would be stored mangled (and billed as UCS-2).
func jsonTextValid(raw []byte) bool {
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

// jsonText accepts a string, a number (as its text) or null.
func jsonText(name string, raw json.RawMessage) (string, *Problem) {
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
	return "", errInvalid(name, name+" must be a string")
}

// jsonInt accepts an integer, a string holding one, or null.
func jsonInt(name string, raw json.RawMessage) (*int, *Problem) {
	s, p := jsonText(name, raw)
	if p != nil || s == "" {
		return nil, p
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return nil, errInvalid(name, name+" must be an integer")
	}
	return &v, nil
}

// jsonList accepts an array of strings or integers, or (when commaText) a
// comma-separated string or a single number, or null.
func jsonList(name string, raw json.RawMessage, commaText bool) ([]string, *Problem) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err == nil {
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, p := jsonText(name, it)
			if p != nil {
				return nil, errInvalid(name, name+" must hold strings or numbers")
			}
			out = append(out, s)
		}
		return out, nil
	}
	if !commaText {
		return nil, errInvalid(name, name+" must be an array")
	}
	s, p := jsonText(name, raw)
	if p != nil {
		return nil, errInvalid(name, name+" must be an array or a comma-separated string")
	}
	return splitList(s), nil
}

// jsonBool accepts true, false, "true", "false" or null.
func jsonBool(name string, raw json.RawMessage) (bool, *Problem) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	s, p := jsonText(name, raw)
	if p == nil {
		switch s {
		case "", "false":
			return false, nil
		case "true":
			return true, nil
		}
	}
	return false, errInvalid(name, name+" must be true or false")
}

// jsonObject accepts an object, an empty array (PHP's empty array) or null.
func jsonObject(name string, raw json.RawMessage) (map[string]any, *Problem) {
	trimmed := bytes.TrimSpace(raw)
	if isNull(trimmed) || string(trimmed) == "[]" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return nil, errInvalid(name, name+" must be an object")
	}
	return m, nil
}

func decodeCreateForm(form url.Values) (*createRequest, *Problem) {
	var req createRequest
	for key, vals := range form {
		name, sub, hasSub := strings.Cut(key, "[")
		if !knownFields[name] {
			req.Unknown = append(req.Unknown, name)
			continue
		}
		for _, v := range vals {
			if !utf8.ValidString(v) || !utf8.ValidString(key) {
				return nil, errNotUTF8(name)
			}
		}
		last := vals[len(vals)-1]
		switch name {
		case "recipients":
			for _, v := range vals {
				req.Recipients = append(req.Recipients, splitList(v)...)
			}
		case "groupIds":
			for _, v := range vals {
				req.GroupIDs = append(req.GroupIDs, splitList(v)...)
			}
		case "categories":
			for _, v := range vals {
				req.Categories = append(req.Categories, splitList(v)...)
			}
		case "typeDetails":
			sub = strings.TrimSuffix(sub, "]")
			if !hasSub || sub == "" {
				return nil, errInvalid(name, "send typeDetails as typeDetails[key]=value")
			}
			if req.TypeDetails == nil {
				req.TypeDetails = map[string]any{}
			}
			req.TypeDetails[sub] = last
		default:
			if p := req.setFormField(name, last); p != nil {
				return nil, p
			}
		}
	}
	return &req, nil
}

func (req *createRequest) setFormField(name, v string) *Problem {
	intField := func(dst **int) *Problem {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return errInvalid(name, name+" must be an integer")
		}
		*dst = &n
		return nil
	}
	switch name {
	case "originator":
		req.Originator = v
	case "body":
		req.Body = v
	case "type":
		req.Type = v
	case "reference":
		req.Reference = v
	case "reportUrl":
		req.ReportURL = v
	case "datacoding":
		req.DataCoding = v
	case "scheduledDatetime":
		req.ScheduledDatetime = v
	case "direction":
		if v != "" && v != "mt" {
			return errInvalid(name, "only mt (outbound) messages can be created")
		}
	case "purpose":
		req.Purpose = v
	case "urgent":
		switch v {
		case "", "false", "0":
		case "true", "1":
			req.Urgent = true
		default:
			return errInvalid(name, name+" must be true or false")
		}
	case "validity":
		return intField(&req.Validity)
	case "gateway":
		return intField(&req.Gateway)
	case "mclass":
		return intField(&req.MClass)
	}
	return nil
}

// splitList splits "a, b,c" into its non-empty items.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
