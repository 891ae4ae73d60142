package realtime

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"sync"

	"github.com/omnigate/omnigate/internal/realtime/fossil"
	"github.com/omnigate/omnigate/internal/realtime/tagfilter"
)

// Opt-in protocol extensions (docs/realtime.md, "Protocol extensions"),
// in Sockudo's wire shapes; stock Pusher clients never send them and never
// see their frames:
//
//   - tag filtering: an event published with "tags" reaches a subscriber
//     that sent a "filter" with pusher:subscribe only when its tags match;
//   - delta compression: a connection that sent
//     pusher:enable_delta_compression (or subscribed with "delta") gets an
//     event as pusher:delta, a fossil delta against the previous event of
//     the same name it got on the channel, when that is smaller.
//
// A subscriber that uses either is kept apart from the plain ones (a
// channel's extChannel), so that plain delivery is unchanged. Its
// subscribers are grouped by filter: an event is matched once per
// distinct filter, and each group keeps its own delta streams (one per
// event name, the last data and its sequence number), since every member
// of a group gets the same events. State is per channel and filter, not
// per connection; a connection keeps only the sequence number it last
// got per event name.

// Limits of the extensions.
const (
	// maxDeltaStreams bounds the delta streams (filter × event name) of
	// one channel on a node; events of further names go out whole.
	maxDeltaStreams = 64
	// deltaAlgorithm is the delta format offered.
	deltaAlgorithm = "fossil"
)

// Codes of the extensions' errors (pusher:error; the connection stays).
const (
	CodeInvalidFilter Code = 4310 // a pusher:subscribe filter that does not parse
	CodeInvalidDelta  Code = 4311 // a delta opt-in that cannot be honoured
)

// extChannel holds a channel's subscribers that use an extension (hub.mu
// guards subs and groups' membership; mu orders deliveries, which update
// the groups' streams and the subscribers' sequence numbers).
type extChannel struct {
	mu      sync.Mutex
	subs    map[*conn]*extSub
	groups  map[string]*extGroup // by filter key; "" is no filter
	streams int                  // delta streams of all groups
}

// extGroup is the subscribers of a channel with one filter.
type extGroup struct {
	key       string
	filter    *tagfilter.Filter // nil: every event
	refs      int
	deltaRefs int                     // members with delta compression on
	streams   map[string]*deltaStream // by event name; nil without delta members

	// The event being delivered (under extChannel.mu).
	match bool
	cur   *deltaStream // the event's stream; nil: no delta for it
	full  []byte       // the event with its __delta_seq
	delta []byte       // the event as pusher:delta; nil when not smaller
}

// deltaStream is the last event of one name a group's delta members got.
type deltaStream struct {
	seq  uint64
	last []byte // its data
}

// extSub is one connection's subscription with extensions.
type extSub struct {
	group *extGroup
	delta bool
	seen  map[string]uint64 // event name → sequence number last sent
}

// subscribeExt is what pusher:subscribe asked of the extensions.
type subscribeExt struct {
	filter *tagfilter.Filter
	delta  bool
}

func (e subscribeExt) used() bool { return e.filter != nil || e.delta }

// parseSubscribeExt reads the extension fields of pusher:subscribe's data:
// "filter" (or Sockudo's other name, "tags_filter") and "delta". deltaOn
// is the connection's own setting, which "delta" overrides.
func parseSubscribeExt(d *subscribeData, deltaOn bool) (subscribeExt, Code, string) {
	out := subscribeExt{delta: deltaOn}
	raw := d.Filter
	if len(raw) == 0 || string(raw) == "null" {
		raw = d.TagsFilter
	}
	if len(raw) > 0 && string(raw) != "null" {
		if raw[0] == '"' { // a filter sent as a string holding its JSON
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return out, CodeInvalidFilter, "Invalid filter for channel " + truncateReason(d.Channel) + ": not JSON"
			}
			raw = []byte(s)
		}
		f, err := tagfilter.Parse(raw)
		if err != nil {
			return out, CodeInvalidFilter, "Invalid filter for channel " + truncateReason(d.Channel) + ": " + err.Error()
		}
		out.filter = f
	}
	if len(d.Delta) > 0 && string(d.Delta) != "null" {
		on, err := parseDeltaSetting(d.Delta)
		if err != nil {
			return out, CodeInvalidDelta, "Invalid delta setting for channel " + truncateReason(d.Channel) + ": " + err.Error()
		}
		out.delta = on
	}
	if kindOf(d.Channel) == encryptedChannel {
		out.delta = false // ciphertexts share nothing: deltas would not be smaller
	}
	return out, 0, ""
}

var errDeltaSetting = errors.New(`use true, false, "fossil", "disabled" or {"enabled":bool,"algorithm":"fossil"}; fossil is the only algorithm`)

// parseDeltaSetting reads a "delta" field: true/false, an algorithm name
// or "disabled", or {"enabled","algorithm"}.
func parseDeltaSetting(raw json.RawMessage) (bool, error) {
	switch raw[0] {
	case 't', 'f':
		var on bool
		if json.Unmarshal(raw, &on) != nil {
			return false, errDeltaSetting
		}
		return on, nil
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		switch s {
		case deltaAlgorithm:
			return true, nil
		case "disabled":
			return false, nil
		}
		return false, errDeltaSetting
	case '{':
		var o struct {
			Enabled   *bool  `json:"enabled"`
			Algorithm string `json:"algorithm"`
		}
		if json.Unmarshal(raw, &o) != nil || (o.Algorithm != "" && o.Algorithm != deltaAlgorithm) {
			return false, errDeltaSetting
		}
		return o.Enabled == nil || *o.Enabled, nil
	}
	return false, errDeltaSetting
}

// enableDelta answers pusher:enable_delta_compression: data may be absent,
// {} or name the algorithms the client can apply ("algorithm" or
// "algorithms"), of which fossil must be one.
func (c *conn) enableDelta(f Frame) {
	if len(f.Data) > 0 {
		var d struct {
			Algorithm  string   `json:"algorithm"`
			Algorithms []string `json:"algorithms"`
		}
		if err := DecodeData(f.Data, &d); err != nil {
			c.send(errorFrame(CodeInvalidDelta, "Invalid pusher:enable_delta_compression: data must be an object"))
			return
		}
		ok := d.Algorithm == "" && len(d.Algorithms) == 0 || d.Algorithm == deltaAlgorithm
		for _, a := range d.Algorithms {
			ok = ok || a == deltaAlgorithm
		}
		if !ok {
			c.send(errorFrame(CodeInvalidDelta, "Delta compression: this server offers the fossil algorithm only"))
			return
		}
	}
	c.deltaOn = true
	c.send(deltaEnabledFrame)
}

// deltaSyncError answers pusher:delta_sync_error {channel}: a client
// that could not apply a delta (it lost its base) asks for whole events;
// the connection's next event of every name on the channel goes whole.
func (c *conn) deltaSyncError(f Frame) {
	var d struct {
		Channel string `json:"channel"`
	}
	if err := DecodeData(f.Data, &d); err != nil || d.Channel == "" {
		c.send(errorFrame(CodeInvalidDelta, "Invalid pusher:delta_sync_error: data must be an object with the channel"))
		return
	}
	if _, ok := c.subs[d.Channel]; ok {
		c.srv.hub.resetDelta(c, d.Channel)
	}
}

// resetDelta forgets what c was last sent on a channel's delta streams.
func (h *hub) resetDelta(c *conn, channel string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	a := h.apps[c.appID]
	if a == nil {
		return
	}
	if e := a.ext[channel]; e != nil {
		e.mu.Lock()
		if s := e.subs[c]; s != nil {
			s.seen = nil
		}
		e.mu.Unlock()
	}
}

var deltaEnabledFrame = encodeFrame("pusher:delta_compression_enabled", "",
	mustJSON(map[string]any{"enabled": true, "algorithm": deltaAlgorithm}), "")

// add puts c in the channel's group for its filter (hub.mu held).
func (e *extChannel) add(c *conn, x subscribeExt) *extSub {
	key := ""
	if x.filter != nil {
		key = x.filter.Key()
	}
	g := e.groups[key]
	if g == nil {
		g = &extGroup{key: key, filter: x.filter}
		e.groups[key] = g
	}
	g.refs++
	s := &extSub{group: g, delta: x.delta}
	if x.delta {
		g.deltaRefs++
		if g.streams == nil {
			g.streams = map[string]*deltaStream{}
		}
	}
	e.subs[c] = s
	return s
}

// remove takes c out (hub.mu held); it reports whether the channel has no
// such subscribers left.
func (e *extChannel) remove(c *conn) bool {
	s := e.subs[c]
	if s == nil {
		return len(e.subs) == 0
	}
	delete(e.subs, c)
	g := s.group
	g.refs--
	if s.delta {
		if g.deltaRefs--; g.deltaRefs == 0 {
			e.streams -= len(g.streams)
			g.streams = nil
		}
	}
	if g.refs == 0 {
		delete(e.groups, g.key)
	}
	return len(e.subs) == 0
}

// published is an event being fanned out: the frame plain subscribers get
// and what the extensions need, read from the frame when first needed.
type published struct {
	frame []byte
	tags  map[string]string

	parsed bool
	name   string
	data   []byte // the data string's text; nil when data is not a string
}

// readFrame reads the event's name and data string from its frame.
func (p *published) readFrame() {
	if p.parsed {
		return
	}
	p.parsed = true
	f, err := ParseFrame(p.frame)
	if err != nil || len(f.Data) == 0 || f.Data[0] != '"' {
		return
	}
	var s string
	if json.Unmarshal(f.Data, &s) == nil {
		p.name, p.data = f.Event, []byte(s)
	}
}

// deliver queues the event to the channel's extension subscribers, except
// the one with socket id exclude (hub.mu read-held).
func (e *extChannel) deliver(channel string, ev *published, exclude string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.groups {
		g.match = g.filter == nil || g.filter.Match(ev.tags)
		g.cur, g.full, g.delta = nil, nil, nil
		if g.match && g.deltaRefs > 0 {
			e.advance(g, channel, ev)
		}
	}
	n := 0
	for c, s := range e.subs {
		g := s.group
		if !g.match || c.socketID == exclude {
			continue
		}
		frame := ev.frame
		if s.delta && g.cur != nil {
			frame = g.full
			if g.delta != nil && s.seen[ev.name] == g.cur.seq-1 {
				frame = g.delta
			}
			if s.seen == nil {
				s.seen = map[string]uint64{}
			}
			s.seen[ev.name] = g.cur.seq
		}
		if c.send(frame) {
			n++
		}
	}
	return n
}

// advance moves the group's stream for the event on, and encodes the
// event for the group's delta members: whole with its sequence number,
// and as a delta against the stream's previous data when that is smaller.
func (e *extChannel) advance(g *extGroup, channel string, ev *published) {
	ev.readFrame()
	if ev.data == nil {
		return // not a string: sent as it is, outside any stream
	}
	st := g.streams[ev.name]
	if st == nil {
		if e.streams >= maxDeltaStreams {
			return
		}
		st = &deltaStream{}
		g.streams[ev.name] = st
		e.streams++
	}
	prev, hadPrev := st.last, st.seq > 0
	st.seq++
	st.last = ev.data
	g.cur = st
	g.full = withDeltaSeq(ev.frame, st.seq)
	if hadPrev {
		d := deltaFrame(channel, ev.name, fossil.Create(prev, ev.data), st.seq)
		if len(d) < len(g.full) {
			g.delta = d
		}
	}
}

// withDeltaSeq adds "__delta_seq" to an event's frame (a JSON object).
func withDeltaSeq(frame []byte, seq uint64) []byte {
	b := make([]byte, 0, len(frame)+32)
	b = append(b, frame[:len(frame)-1]...)
	b = append(b, `,"__delta_seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, '}')
}

// deltaFrame is a pusher:delta message: the event's name, the fossil
// delta (base64) that turns the data of event base_seq into this one's,
// and this one's sequence number.
func deltaFrame(channel, event string, delta []byte, seq uint64) []byte {
	b := make([]byte, 0, 128+len(channel)+len(event)+base64.StdEncoding.EncodedLen(len(delta)))
	b = append(b, `{"event":"pusher:delta","channel":`...)
	b = append(b, jsonString(channel)...)
	b = append(b, `,"data":{"event":`...)
	b = append(b, jsonString(event)...)
	b = append(b, `,"delta":"`...)
	b = base64.StdEncoding.AppendEncode(b, delta)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"base_seq":`...)
	b = strconv.AppendUint(b, seq-1, 10)
	b = append(b, `,"algorithm":"fossil"}}`...)
	return b
}

// Envelopes to the other nodes: envelope writes the plain form (one byte
// of length, the socket id to exclude, the frame) for an untagged event,
// and for a tagged one the tagged form: tagEnvelope, the id's length and
// id, two bytes of length and the tags' JSON, the frame. A socket id is
// never tagEnvelope bytes long.
const tagEnvelope = 0xff

func envelope(exclude string, frame []byte, tags map[string]string) []byte {
	if len(tags) == 0 {
		b := make([]byte, 0, 1+len(exclude)+len(frame))
		b = append(b, byte(len(exclude)))
		b = append(b, exclude...)
		return append(b, frame...)
	}
	t, _ := json.Marshal(tags) // bounded by tagfilter's limits: < 64 KiB
	b := make([]byte, 0, 4+len(exclude)+len(t)+len(frame))
	b = append(b, tagEnvelope, byte(len(exclude)))
	b = append(b, exclude...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(t)))
	b = append(b, t...)
	return append(b, frame...)
}

func openEnvelope(p []byte) (exclude string, frame []byte, tags map[string]string, ok bool) {
	if len(p) == 0 {
		return "", nil, nil, false
	}
	if p[0] != tagEnvelope {
		if len(p) < 1+int(p[0]) {
			return "", nil, nil, false
		}
		return string(p[1 : 1+int(p[0])]), p[1+int(p[0]):], nil, true
	}
	p = p[1:]
	if len(p) == 0 || len(p) < 1+int(p[0])+2 {
		return "", nil, nil, false
	}
	exclude, p = string(p[1:1+int(p[0])]), p[1+int(p[0]):]
	n := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if len(p) < n || json.Unmarshal(p[:n], &tags) != nil || tagfilter.CheckTags(tags) != nil {
		return "", nil, nil, false
	}
	return exclude, p[n:], tags, true
}
