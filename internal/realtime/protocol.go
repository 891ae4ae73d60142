package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/jsonstr"
)

// Frame is one protocol message a client sends: a JSON object with an
// "event", an optional "channel" and any "data".
type Frame struct {
	Event   string
	Channel string
	// Data is the raw JSON value of "data", nil when absent. For pusher:
	// events it may be an object or a string holding one (see DecodeData).
	Data json.RawMessage
}

// Errors of ParseFrame and DecodeData.
var (
	ErrNotObject   = errors.New("message is not a JSON object")
	ErrNoEvent     = errors.New("message has no event")
	ErrInvalidUTF8 = errors.New("message is not valid UTF-8")
)

// ParseFrame decodes a client's message. It never panics, whatever the
// input (it is fuzzed).
func ParseFrame(b []byte) (Frame, error) {
	if !utf8.Valid(b) {
		return Frame{}, ErrInvalidUTF8
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Frame{}, ErrNotObject
	}
	// The usual frame without reflection (see quickjson.go); anything
	// else, errors included, through encoding/json.
	if f, ok := parseFrameQuick(b); ok {
		return f, nil
	}
	return parseFrameCareful(b)
}

// parseFrameCareful is ParseFrame for a trimmed object whose quick pass
// failed: it tells which member is wrong.
func parseFrameCareful(b []byte) (Frame, error) {
	var raw struct {
		Event   *json.RawMessage `json:"event"`
		Channel *json.RawMessage `json:"channel"`
		Data    json.RawMessage  `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Frame{}, fmt.Errorf("message is not valid JSON: %w", err)
	}
	var f Frame
	if raw.Event == nil || json.Unmarshal(*raw.Event, &f.Event) != nil || f.Event == "" {
		return Frame{}, ErrNoEvent
	}
	if raw.Channel != nil && string(*raw.Channel) != "null" {
		if err := json.Unmarshal(*raw.Channel, &f.Channel); err != nil {
			return Frame{}, errors.New("message channel is not a string")
		}
	}
	if len(raw.Data) > 0 && string(raw.Data) != "null" {
		f.Data = raw.Data
	}
	return f, nil
}

// DecodeData decodes the data of a pusher: event into v. Clients send it
// as an object or, as the protocol writes it, as a string holding the
// object's JSON; both are accepted.
func DecodeData(data json.RawMessage, v any) error {
	if len(data) == 0 {
		return errors.New("no data")
	}
	if data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		data = []byte(s)
	}
	return json.Unmarshal(data, v)
}

// encodeFrame encodes a message to clients: {"event","channel","data",
// "user_id"}, the last three when set. data is raw JSON that was produced
// here or checked by ParseFrame (a string literal for events published
// through the API); it is copied as is, so clients get the bytes that were
// sent.
func encodeFrame(event, channel string, data json.RawMessage, userID string) []byte {
	b := make([]byte, 0, 48+len(event)+len(channel)+len(data)+len(userID))
	b = append(b, `{"event":`...)
	b = append(b, jsonString(event)...)
	if channel != "" {
		b = append(b, `,"channel":`...)
		b = append(b, jsonString(channel)...)
	}
	if len(data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, data...)
	}
	if userID != "" {
		b = append(b, `,"user_id":`...)
		b = append(b, jsonString(userID)...)
	}
	return append(b, '}')
}

// jsonString encodes s as a JSON string literal.
func jsonString(s string) json.RawMessage {
	return jsonstr.Append(make([]byte, 0, len(s)+2), s)
}

// stringData encodes v as JSON and that text as a JSON string, the form of
// pusher: and pusher_internal: event data.
func stringData(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return jsonstr.Append(make([]byte, 0, len(b)+16), b)
}

// memberFrame is pusher_internal:member_added (info: the member's user_info,
// normalized by parseChannelData; nil for none) or member_removed (nil),
// encoded as stringData(memberData{…}) would, without reflection.
func memberFrame(event, channel, user string, info json.RawMessage) []byte {
	inner := make([]byte, 0, 32+len(user)+len(info))
	inner = append(inner, `{"user_id":`...)
	inner = jsonstr.Append(inner, user)
	if len(info) > 0 {
		inner = append(inner, `,"user_info":`...)
		inner = append(inner, info...)
	}
	inner = append(inner, '}')
	return encodeFrame(event, channel, jsonstr.Append(make([]byte, 0, len(inner)+16), inner), "")
}

// presenceSucceededData is the data of a presence channel's
// subscription_succeeded, as stringData(presenceData{…}) would encode it:
// ids sorted, infos[i] the (normalized) user_info of ids[i], nil for none.
func presenceSucceededData(ids []string, infos []json.RawMessage) json.RawMessage {
	n := 48
	for i, id := range ids {
		n += 2*len(id) + len(infos[i]) + 12
	}
	inner := make([]byte, 0, n)
	inner = append(inner, `{"presence":{"ids":[`...)
	for i, id := range ids {
		if i > 0 {
			inner = append(inner, ',')
		}
		inner = jsonstr.Append(inner, id)
	}
	inner = append(inner, `],"hash":{`...)
	for i, id := range ids {
		if i > 0 {
			inner = append(inner, ',')
		}
		inner = jsonstr.Append(inner, id)
		inner = append(inner, ':')
		if len(infos[i]) == 0 {
			inner = append(inner, "null"...)
		} else {
			inner = append(inner, infos[i]...)
		}
	}
	inner = append(inner, `},"count":`...)
	inner = strconv.AppendInt(inner, int64(len(ids)), 10)
	inner = append(inner, "}}"...)
	return jsonstr.Append(make([]byte, 0, len(inner)+len(inner)/4+8), inner)
}

// errorFrame is a pusher:error message; code 0 is sent as null.
func errorFrame(code Code, message string) []byte {
	var c any
	if code != 0 {
		c = int(code)
	}
	return encodeFrame("pusher:error", "", mustJSON(map[string]any{"code": c, "message": message}), "")
}

// subscriptionError is a pusher:subscription_error for a channel, with the
// HTTP-like status pusher-js reports to the application.
func subscriptionError(channel, typ, message string, status int) []byte {
	return encodeFrame("pusher:subscription_error", channel,
		mustJSON(map[string]any{"type": typ, "error": message, "status": status}), "")
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
