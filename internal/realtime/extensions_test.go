package realtime_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/realtime/fossil"
)

// received collects the data of the named events a client gets until its
// ping is answered.
func received(c *client, event string) []string {
	c.t.Helper()
	c.send(map[string]any{"event": "pusher:ping", "data": map[string]any{}})
	var out []string
	for {
		f := c.next()
		switch f.Event {
		case "pusher:pong":
			return out
		case event:
			out = append(out, f.dataString(c.t))
		default:
			c.t.Fatalf("unexpected %s %s", f.Event, f.Data)
		}
	}
}

func subscribeWith(c *client, channel string, ext map[string]any) {
	c.t.Helper()
	d := map[string]any{"channel": channel}
	for k, v := range ext {
		d[k] = v
	}
	c.send(map[string]any{"event": "pusher:subscribe", "data": d})
	f := c.next()
	if f.Event != "pusher_internal:subscription_succeeded" || f.Channel != channel {
		c.t.Fatalf("subscribing to %s with %v: %s %s", channel, ext, f.Event, f.Data)
	}
}

func TestTagFiltering(t *testing.T) {
	b := setup(t, setupOpts{})
	all := b.connect(t)
	all.subscribe("market", "", "")
	btc := b.connect(t)
	subscribeWith(btc, "market", map[string]any{"filter": map[string]any{"key": "symbol", "cmp": "eq", "val": "BTC"}})
	// Sockudo's other field name, and a filter sent as a string.
	big := b.connect(t)
	subscribeWith(big, "market", map[string]any{"tags_filter": `{"op":"and","nodes":[{"key":"symbol","cmp":"in","vals":["BTC","ETH"]},{"key":"price","cmp":"gte","val":"1000"}]}`})
	// Two connections with the same filter share its evaluation.
	btc2 := b.connect(t)
	subscribeWith(btc2, "market", map[string]any{"filter": map[string]any{"val": "BTC", "cmp": "eq", "key": "symbol"}})

	b.trigger(t, []string{"market"}, "trade", "btc-1", map[string]any{"tags": map[string]string{"symbol": "BTC", "price": "50000"}})
	b.trigger(t, []string{"market"}, "trade", "eth-1", map[string]any{"tags": map[string]string{"symbol": "ETH", "price": "3000"}})
	b.trigger(t, []string{"market"}, "trade", "eth-cheap", map[string]any{"tags": map[string]string{"symbol": "ETH", "price": "999.5"}})
	b.trigger(t, []string{"market"}, "trade", "sol-1", map[string]any{"tags": map[string]string{"symbol": "SOL", "price": "150"}})
	b.trigger(t, []string{"market"}, "trade", "untagged", nil)
	r := b.api(t, "POST", "/batch_events", nil, map[string]any{"batch": []map[string]any{
		{"name": "trade", "channel": "market", "data": "btc-2", "tags": map[string]string{"symbol": "BTC", "price": "50001"}},
		{"name": "trade", "channel": "market", "data": "sol-2", "tags": map[string]string{"symbol": "SOL"}},
	}})
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}

	want := map[*client][]string{
		all:  {"btc-1", "eth-1", "eth-cheap", "sol-1", "untagged", "btc-2", "sol-2"},
		btc:  {"btc-1", "btc-2"},
		btc2: {"btc-1", "btc-2"},
		big:  {"btc-1", "eth-1", "btc-2"},
	}
	for c, w := range want {
		if got := received(c, "trade"); strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("got %v, want %v", got, w)
		}
	}

	// Internal events reach filtered subscribers as they are; after
	// unsubscribing, a filtered connection gets nothing more.
	btc.send(map[string]any{"event": "pusher:unsubscribe", "data": map[string]any{"channel": "market"}})
	btc.quiet() // frames are handled in order: the unsubscription is done
	b.trigger(t, []string{"market"}, "trade", "btc-3", map[string]any{"tags": map[string]string{"symbol": "BTC"}})
	if got := received(btc, "trade"); len(got) != 0 {
		t.Errorf("unsubscribed filtered connection got %v", got)
	}
	if got := received(btc2, "trade"); strings.Join(got, ",") != "btc-3" {
		t.Errorf("btc2 got %v after btc left the group", got)
	}
	if got := received(all, "trade"); strings.Join(got, ",") != "btc-3" {
		t.Errorf("all got %v", got)
	}

	// Bad tags are refused in the API's format and publish nothing.
	for _, tags := range []any{map[string]any{"n": 1}, "BTC", map[string]string{"": "x"}, map[string]string{"k": strings.Repeat("v", 257)}} {
		r := b.api(t, "POST", "/events", nil, map[string]any{"name": "trade", "channel": "market", "data": "bad", "tags": tags})
		if r.status != 400 || !strings.Contains(r.body, "Invalid tags") {
			t.Errorf("tags %v: %d %s", tags, r.status, r.body)
		}
	}
	all.quiet()
}

// TestExtensionErrors: malformed filters and delta requests get a
// pusher:error with the extension's code, subscribe nothing, and leave
// the connection open.
func TestExtensionErrors(t *testing.T) {
	b := setup(t, setupOpts{})
	c := b.connect(t)
	for _, tc := range []struct {
		msg  map[string]any
		code realtime.Code
	}{
		{map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "x", "filter": map[string]any{"key": "a", "cmp": "like", "val": "b"}}}, realtime.CodeInvalidFilter},
		{map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "x", "filter": "{not json"}}, realtime.CodeInvalidFilter},
		{map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "x", "filter": 42}}, realtime.CodeInvalidFilter},
		{map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "x", "tags_filter": map[string]any{"op": "not", "nodes": []any{}}}}, realtime.CodeInvalidFilter},
		{map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "x", "delta": "xdelta3"}}, realtime.CodeInvalidDelta},
		{map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "x", "delta": 7}}, realtime.CodeInvalidDelta},
		{map[string]any{"event": "pusher:subscribe", "data": map[string]any{"channel": "x", "delta": map[string]any{"algorithm": "vcdiff"}}}, realtime.CodeInvalidDelta},
		{map[string]any{"event": "pusher:enable_delta_compression", "data": map[string]any{"algorithms": []string{"xdelta3"}}}, realtime.CodeInvalidDelta},
		{map[string]any{"event": "pusher:enable_delta_compression", "data": "[1,2]"}, realtime.CodeInvalidDelta},
		{map[string]any{"event": "pusher:enable_delta_compression", "data": 5}, realtime.CodeInvalidDelta},
		{map[string]any{"event": "pusher:delta_sync_error", "data": map[string]any{}}, realtime.CodeInvalidDelta},
		{map[string]any{"event": "pusher:delta_sync_error"}, realtime.CodeInvalidDelta},
	} {
		c.send(tc.msg)
		f := c.expect("pusher:error")
		var d struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		f.decode(t, &d)
		if d.Code != int(tc.code) || d.Message == "" {
			t.Errorf("%v: pusher:error %s, want code %d", tc.msg, f.Data, tc.code)
		}
	}
	// Nothing was subscribed: an event on x does not arrive.
	b.trigger(t, []string{"x"}, "ev", "d", nil)
	if got := received(c, "ev"); len(got) != 0 {
		t.Fatalf("refused subscription got %v", got)
	}
	// The connection still works.
	subscribeWith(c, "x", map[string]any{"filter": map[string]any{"key": "a", "cmp": "ex"}})
}

// deltaClient applies deltas as a client would: it keeps the data of the
// last event per name that carried a sequence number.
type deltaClient struct {
	*client
	base map[string][]byte
	seq  map[string]uint64
	// bytes received for events, and what they would have been whole
	got, deltas, fulls int
}

func newDeltaClient(c *client) *deltaClient {
	return &deltaClient{client: c, base: map[string][]byte{}, seq: map[string]uint64{}}
}

// event returns the next event's name, data and whether it came as a
// delta, applying it.
func (d *deltaClient) event() (string, string, bool) {
	d.t.Helper()
	f := d.next()
	if f.Event != "pusher:delta" {
		data := f.dataString(d.t)
		if f.DeltaSeq != 0 {
			d.base[f.Event], d.seq[f.Event] = []byte(data), f.DeltaSeq
			d.fulls++
		}
		return f.Event, data, false
	}
	var m struct {
		Event     string `json:"event"`
		Delta     string `json:"delta"`
		Seq       uint64 `json:"seq"`
		BaseSeq   uint64 `json:"base_seq"`
		Algorithm string `json:"algorithm"`
	}
	f.decode(d.t, &m)
	if m.Algorithm != "fossil" || m.Seq != m.BaseSeq+1 {
		d.t.Fatalf("pusher:delta %s", f.Data)
	}
	if d.seq[m.Event] != m.BaseSeq {
		d.t.Fatalf("delta against seq %d, the client has %d (a gap the server should have sent whole)", m.BaseSeq, d.seq[m.Event])
	}
	raw, err := base64.StdEncoding.DecodeString(m.Delta)
	if err != nil {
		d.t.Fatal(err)
	}
	out, err := fossil.Apply(d.base[m.Event], raw, 1<<20)
	if err != nil {
		d.t.Fatalf("applying delta: %v", err)
	}
	d.base[m.Event], d.seq[m.Event] = out, m.Seq
	d.deltas++
	return m.Event, string(out), true
}

// book is a larger document (an order book) of which each update changes
// its sequence number and one level's size.
func book(i int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"symbol":"BTC-EUR","seq":%d,"bids":[`, 1000+i)
	for l := range 12 {
		if l > 0 {
			sb.WriteByte(',')
		}
		size := 1 + l
		if l <= i%12 {
			size += i
		}
		fmt.Fprintf(&sb, `{"price":"%d.50","size":"%d.125"}`, 49990-l, size)
	}
	sb.WriteString(`],"venue":"omnigate-test","status":"open"}`)
	return sb.String()
}

func price(i int) string {
	return fmt.Sprintf(`{"symbol":"BTC","price":"%d.%02d","volume":"1.5","bids":[[49999,2],[49998,4]],"asks":[[50001,1],[50002,3]],"venue":"omnigate-test"}`, 50000+i/7, i%100)
}

func TestDeltaCompression(t *testing.T) {
	b := setup(t, setupOpts{})
	plain := b.connect(t)
	plain.subscribe("ticker", "", "")
	dc := newDeltaClient(b.connect(t))
	dc.send(map[string]any{"event": "pusher:enable_delta_compression", "data": map[string]any{}})
	f := dc.expect("pusher:delta_compression_enabled")
	if !strings.Contains(string(f.Data), `"fossil"`) {
		t.Fatalf("delta_compression_enabled %s", f.Data)
	}
	dc.subscribe("ticker", "", "")
	// A subscription that asks for delta itself, without the connection
	// opting in.
	sub := newDeltaClient(b.connect(t))
	subscribeWith(sub.client, "ticker", map[string]any{"delta": map[string]any{"enabled": true, "algorithm": "fossil"}})

	const n = 20
	for i := range n {
		b.trigger(t, []string{"ticker"}, "price", price(i), nil)
		if i%5 == 0 { // another event name is a stream of its own
			b.trigger(t, []string{"ticker"}, "note", fmt.Sprintf("note %d", i), nil)
		}
	}
	for _, c := range []*deltaClient{dc, sub} {
		seen := 0
		for seen < n {
			name, data, _ := c.event()
			if name == "note" {
				continue
			}
			if data != price(seen) {
				t.Fatalf("event %d reconstructed as %s, want %s", seen, data, price(seen))
			}
			seen++
		}
		if c.deltas < n-2 || c.fulls != 1+4 { // the first price whole, then deltas; notes are short: whole
			t.Errorf("%d deltas and %d whole events, want %d and 5", c.deltas, c.fulls, n-1)
		}
		c.quiet()
	}
	// The plain subscriber gets every event whole, without a sequence.
	for i := 0; i < n; {
		f := plain.next()
		if f.DeltaSeq != 0 || f.Event == "pusher:delta" {
			t.Fatalf("plain subscriber got %s with __delta_seq %d", f.Event, f.DeltaSeq)
		}
		if f.Event == "price" {
			if f.dataString(t) != price(i) {
				t.Fatalf("plain got %s", f.Data)
			}
			i++
		}
	}
	plain.quiet()

	// A gap: an event published with dc's socket id excluded does not reach
	// it; the next one reaches it whole, not as a delta against what it
	// does not have. sub gets both as deltas.
	b.trigger(t, []string{"ticker"}, "price", price(n), map[string]any{"socket_id": dc.socketID})
	b.trigger(t, []string{"ticker"}, "price", price(n+1), nil)
	if _, data, isDelta := dc.event(); isDelta || data != price(n+1) {
		t.Fatalf("after a gap: delta %v, data %s", isDelta, data)
	}
	for i := n; i <= n+1; i++ {
		if _, data, isDelta := sub.event(); !isDelta || data != price(i) {
			t.Fatalf("sub: delta %v, data %s", isDelta, data)
		}
	}
	// A client that lost its base asks for whole events again
	// (pusher:delta_sync_error, Sockudo's name): the next one is whole.
	sub.send(map[string]any{"event": "pusher:delta_sync_error", "data": map[string]any{"channel": "ticker"}})
	sub.quiet()
	b.trigger(t, []string{"ticker"}, "price", price(n+2), nil)
	if _, data, isDelta := sub.event(); isDelta || data != price(n+2) {
		t.Fatalf("after delta_sync_error: delta %v, data %s", isDelta, data)
	}
	if _, data, isDelta := dc.event(); !isDelta || data != price(n+2) {
		t.Fatalf("dc after sub's resync: delta %v, data %s", isDelta, data)
	}
	// A late subscriber starts with a whole event.
	late := newDeltaClient(b.connect(t))
	subscribeWith(late.client, "ticker", map[string]any{"delta": "fossil"})
	b.trigger(t, []string{"ticker"}, "price", price(n+3), nil)
	if _, data, isDelta := late.event(); isDelta || data != price(n+3) {
		t.Fatalf("late subscriber: delta %v, data %s", isDelta, data)
	}
	// An unrelated payload goes whole: its delta would not be smaller.
	other := strings.Repeat("z", 300)
	b.trigger(t, []string{"ticker"}, "price", other, nil)
	if _, data, isDelta := late.event(); isDelta || data != other {
		t.Fatalf("unrelated payload: delta %v", isDelta)
	}
	// Filter and delta together: the group's stream is its own.
	fd := newDeltaClient(b.connect(t))
	subscribeWith(fd.client, "ticker", map[string]any{"delta": true, "filter": map[string]any{"key": "s", "cmp": "eq", "val": "A"}})
	for i := range 4 {
		b.trigger(t, []string{"ticker"}, "price", price(100+i), map[string]any{"tags": map[string]string{"s": "A"}})
		b.trigger(t, []string{"ticker"}, "price", strings.Repeat("q", 200+i), map[string]any{"tags": map[string]string{"s": "B"}})
	}
	for i := range 4 {
		_, data, isDelta := fd.event()
		if data != price(100+i) || isDelta != (i > 0) {
			t.Fatalf("filtered delta %d: delta %v, data %s", i, isDelta, data)
		}
	}
	fd.quiet()
}

// TestDeltaSavesBytes: on a feed of similar messages the delta
// subscriber reads fewer bytes than the plain one.
func TestDeltaSavesBytes(t *testing.T) {
	b := setup(t, setupOpts{})
	plain := b.connect(t)
	plain.subscribe("feed", "", "")
	dc := b.connect(t)
	subscribeWith(dc, "feed", map[string]any{"delta": true})
	const n = 30
	for i := range n {
		b.trigger(t, []string{"feed"}, "book", book(i), nil)
	}
	sum := func(c *client) int {
		total := 0
		for range n {
			total += c.next().Size
		}
		return total
	}
	p, d := sum(plain), sum(dc)
	t.Logf("plain %d bytes, delta %d bytes (%.0f%% saved)", p, d, 100*(1-float64(d)/float64(p)))
	if d*2 > p {
		t.Errorf("delta subscriber read %d bytes, plain %d: less than half saved", d, p)
	}
}

func TestClusterExtensions(t *testing.T) {
	t.Run("MemoryBus", func(t *testing.T) { testClusterExtensions(t, false) })
	t.Run("NATS", func(t *testing.T) { testClusterExtensions(t, true) })
}

// testClusterExtensions: tags travel to the other node, which filters
// and delta-encodes for its own subscribers.
func testClusterExtensions(t *testing.T, overNATS bool) {
	a, b, _, _ := newCluster(t, overNATS, nil)
	onB := b.connect(t)
	subscribeWith(onB, "market", map[string]any{"filter": map[string]any{"key": "symbol", "cmp": "eq", "val": "BTC"}, "delta": true})
	eventually(t, "A to see B's subscription", func() bool { return subscriptions(t, a, "market") == 1 })
	dc := newDeltaClient(onB)
	for i := range 6 {
		sym := "ETH"
		if i%2 == 0 {
			sym = "BTC"
		}
		a.trigger(t, []string{"market"}, "price", price(i), map[string]any{"tags": map[string]string{"symbol": sym}})
	}
	for i := 0; i < 6; i += 2 {
		_, data, isDelta := dc.event()
		if data != price(i) || isDelta != (i > 0) {
			t.Fatalf("event %d on B: delta %v, data %s", i, isDelta, data)
		}
	}
	dc.quiet()
}

func TestExtensionFramesAreJSON(t *testing.T) {
	// The extension's frames parse as the protocol's messages.
	for _, s := range []string{
		`{"event":"pusher:enable_delta_compression","data":{}}`,
		`{"event":"pusher:enable_delta_compression"}`,
		`{"event":"pusher:subscribe","data":{"channel":"m","filter":{"key":"s","cmp":"eq","val":"BTC"},"delta":"fossil"}}`,
	} {
		if _, err := realtime.ParseFrame([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			t.Errorf("%s is not JSON", s)
		}
	}
}

// A cache channel replays its last event to a filtered subscriber only if
// the event matches its filter; otherwise the subscriber gets cache_miss.
func TestCacheChannelFilter(t *testing.T) {
	b := setup(t, setupOpts{})
	b.trigger(t, []string{"cache-market"}, "trade", "eth", map[string]any{"tags": map[string]string{"symbol": "ETH"}})
	eth := b.connect(t)
	subscribeWith(eth, "cache-market", map[string]any{"filter": map[string]any{"key": "symbol", "cmp": "eq", "val": "ETH"}})
	if f := eth.expect("trade"); f.dataString(t) != "eth" {
		t.Fatalf("cached event %s", f.Data)
	}
	btc := b.connect(t)
	subscribeWith(btc, "cache-market", map[string]any{"filter": map[string]any{"key": "symbol", "cmp": "eq", "val": "BTC"}})
	btc.expect("pusher:cache_miss")
}

// Client events carry no tags and their data is the client's JSON: a
// delta subscriber gets them as they are, outside any delta stream, and a
// filter sees them untagged.
func TestExtensionsClientEvents(t *testing.T) {
	b := setup(t, setupOpts{})
	const ch = "private-room"
	sender := b.connect(t)
	sender.subscribe(ch, b.auth(sender, ch, ""), "")
	untagged := b.connect(t)
	subscribeWith(untagged, ch, map[string]any{"auth": b.auth(untagged, ch, ""), "delta": true, "filter": map[string]any{"key": "symbol", "cmp": "nex"}})
	btc := b.connect(t)
	subscribeWith(btc, ch, map[string]any{"auth": b.auth(btc, ch, ""), "filter": map[string]any{"key": "symbol", "cmp": "eq", "val": "BTC"}})
	for i := range 3 {
		sender.send(map[string]any{"event": "client-move", "channel": ch, "data": map[string]any{"x": i, "pad": strings.Repeat("p", 100)}})
	}
	for i := range 3 {
		f := untagged.expect("client-move")
		var d struct{ X int }
		f.decode(t, &d)
		if f.DeltaSeq != 0 || d.X != i {
			t.Fatalf("client event %d: %s with __delta_seq %d", i, f.Data, f.DeltaSeq)
		}
	}
	untagged.quiet()
	btc.quiet()
}
