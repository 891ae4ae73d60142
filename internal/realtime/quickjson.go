package realtime

import "encoding/json"

// A reader for the few JSON shapes every presence join and leave parses
// (the frame, the data of pusher:subscribe and pusher:unsubscribe):
// objects whose keys are plain strings, read without reflection. On
// anything else — an unknown or repeated key, a key with escapes or in
// another case, a value it does not expect — it gives up and the caller
// decodes with encoding/json, which then decides (FuzzParseFrame and
// FuzzSubscribeData check that both agree). encoding/json's decoder was a
// fifth of the server's CPU under presence churn.

// quickObject calls member for each member of the object b (which must be
// all of b, no space around it) with the key and the value's raw bytes. It
// reports false when b is not an object it can read or member refused.
// Values are found by their brackets and quotes, not checked: member
// checks what it keeps.
func quickObject(b []byte, member func(key string, val []byte) bool) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		return i == len(b)-1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end := plainStringEnd(b, i)
		if end < 0 {
			return false
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		end = valueEnd(b, i)
		if end < 0 || !member(string(key), b[i:end]) {
			return false
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i == len(b)-1
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainStringEnd returns the end of the string literal at b[i] when it has
// no escapes and no control characters (its text is then what is between
// the quotes, the input being valid UTF-8), else -1.
func plainStringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1
		case c == '\\' || c < 0x20:
			return -1
		}
	}
	return -1
}

// valueEnd returns where the value starting at b[i] ends, by its quotes
// and brackets (-1 if it does not), without checking what is inside.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && !endsScalar(b[j]) {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

func endsScalar(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// stringEnd returns the end of the string literal at b[i], escapes
// skipped, or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// quickString decodes a string value: text between plain quotes as is,
// one with escapes through encoding/json (which also checks it). ok is
// false for anything but a valid string.
func quickString(val []byte) (s string, ok bool) {
	if len(val) < 2 || val[0] != '"' {
		return "", false
	}
	if plainStringEnd(val, 0) == len(val) {
		return string(val[1 : len(val)-1]), true
	}
	if s, ok := unescapeSimple(val); ok {
		return s, true
	}
	if json.Unmarshal(val, &s) != nil {
		return "", false
	}
	return s, true
}

// unescapeSimple decodes a string literal whose escapes are all of one
// character (\" \\ \/ \b \f \n \r \t: a JSON text in a string, as
// channel_data is); ok is false for \u escapes, control characters or a
// literal that does not end at the end of val.
func unescapeSimple(val []byte) (string, bool) {
	out := make([]byte, 0, len(val))
	for i := 1; i < len(val); i++ {
		c := val[i]
		switch {
		case c == '"':
			return string(out), i == len(val)-1
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			continue
		}
		if i++; i >= len(val) {
			return "", false
		}
		switch val[i] {
		case '"', '\\', '/':
			out = append(out, val[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			return "", false
		}
	}
	return "", false
}

// parseFrameQuick is ParseFrame's reading of the usual frame: "event" (a
// non-empty string), "channel" (a string) and "data" (any valid JSON),
// each at most once, nothing else. b is trimmed, valid UTF-8 and starts
// with '{'. Data is a slice of b.
func parseFrameQuick(b []byte) (Frame, bool) {
	var f Frame
	var seen [3]bool
	ok := quickObject(b, func(key string, val []byte) bool {
		var n int
		switch key {
		case "event":
			n = 0
		case "channel":
			n = 1
		case "data":
			n = 2
		default:
			return false
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		var ok bool
		switch n {
		case 0:
			f.Event, ok = quickString(val)
		case 1:
			f.Channel, ok = quickString(val)
		case 2:
			ok = json.Valid(val)
			if ok && string(val) != "null" {
				f.Data = val
			}
		}
		return ok
	})
	return f, ok && f.Event != ""
}

// decodeSubscribeData is DecodeData into a subscribeData, quickly when the
// data is an object of its string members (as pusher-js sends it).
func decodeSubscribeData(data json.RawMessage, d *subscribeData) error {
	var got subscribeData
	var seen [3]bool
	ok := quickObject(data, func(key string, val []byte) bool {
		var n int
		var dst *string
		switch key {
		case "channel":
			n, dst = 0, &got.Channel
		case "auth":
			n, dst = 1, &got.Auth
		case "channel_data":
			n, dst = 2, &got.ChannelData
		default:
			return false
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		var ok bool
		*dst, ok = quickString(val)
		return ok
	})
	if ok {
		*d = got
		return nil
	}
	return DecodeData(data, d)
}

// parseChannelDataQuick reads channel_data that is an object of "user_id"
// (a string or a number) and "user_info" (any valid JSON), each at most
// once; ok is false for anything else (parseChannelDataCareful decides).
func parseChannelDataQuick(s string) (user string, info json.RawMessage, ok bool) {
	b := []byte(s)
	var seen [2]bool
	ok = quickObject(b, func(key string, val []byte) bool {
		switch key {
		case "user_id":
			if seen[0] {
				return false
			}
			seen[0] = true
			if val[0] == '"' {
				var ok bool
				user, ok = quickString(val)
				return ok
			}
			if val[0] == '-' || '0' <= val[0] && val[0] <= '9' {
				user = string(val)
				return json.Valid(val)
			}
			return false
		case "user_info":
			if seen[1] {
				return false
			}
			seen[1] = true
			info = val
			return json.Valid(val)
		}
		return false
	})
	return user, info, ok && seen[0]
}
