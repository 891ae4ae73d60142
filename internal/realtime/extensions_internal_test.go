package realtime

import (
	"bytes"
	"maps"
	"testing"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	frame := []byte(`{"event":"e","channel":"c","data":"d"}`)
	for _, c := range []struct {
		exclude string
		tags    map[string]string
	}{
		{"", nil},
		{"123.456", nil},
		{"", map[string]string{"symbol": "BTC"}},
		{"123.456", map[string]string{"symbol": "BTC", "kind": "trade"}},
	} {
		ex, f, tags, ok := openEnvelope(envelope(c.exclude, frame, c.tags))
		if !ok || ex != c.exclude || !bytes.Equal(f, frame) || !maps.Equal(tags, c.tags) {
			t.Errorf("round trip of %q %v: %q %q %v %v", c.exclude, c.tags, ex, f, tags, ok)
		}
	}
}

// FuzzOpenEnvelope: what other nodes send is never trusted to be well
// formed; opening it never panics and accepts only tags within limits.
func FuzzOpenEnvelope(f *testing.F) {
	frame := []byte(`{"event":"e","channel":"c","data":"d"}`)
	f.Add(envelope("", frame, nil))
	f.Add(envelope("1.2", frame, map[string]string{"a": "b"}))
	f.Add([]byte{tagEnvelope, 0, 0xff, 0xff})
	f.Add([]byte{tagEnvelope})
	f.Fuzz(func(t *testing.T, p []byte) {
		_, _, tags, ok := openEnvelope(p)
		if ok && len(tags) > 16 {
			t.Fatalf("accepted %d tags", len(tags))
		}
	})
}
