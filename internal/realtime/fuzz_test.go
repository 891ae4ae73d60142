package realtime

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
	"unicode/utf8"
)

// Frames as pusher-js, Laravel Echo and other clients send them.
var seedFrames = []string{
	`{"event":"pusher:ping","data":{}}`,
	`{"event":"pusher:ping","data":"{}"}`,
	`{"event":"pusher:pong","data":{}}`,
	`{"event":"pusher:subscribe","data":{"auth":"","channel":"news"}}`,
	`{"event":"pusher:subscribe","data":{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4","channel":"private-foo"}}`,
	`{"event":"pusher:subscribe","data":{"auth":"k:s","channel_data":"{\"user_id\":\"10\",\"user_info\":{\"name\":\"Mr. Channels\"}}","channel":"presence-foo"}}`,
	`{"event":"pusher:subscribe","data":"{\"channel\":\"news\"}"}`,
	`{"event":"pusher:unsubscribe","data":{"channel":"news"}}`,
	`{"event":"pusher:signin","data":{"auth":"k:s","user_data":"{\"id\":\"42\"}"}}`,
	`{"event":"client-typing","channel":"private-chat","data":{"user":"a","typing":true}}`,
	`{"event":"client-x","channel":"presence-p","data":"plain string"}`,
	`{"event":"client-x","channel":"presence-p","data":[1,2,{"a":null}]}`,
	`{"event":"pusher:subscribe","channel":null,"data":null}`,
	` {"event":"e"} `,
	`{"event":"a","event":null}`,
	`{"event":"a","channel":"c","channel":null}`,
	`{"EVENT":"a","Channel":"c\u0041","data":1}`,
	`{"event":"a","channel":5}`,
	`{"event":"pusher:subscribe","data":{"channel":"a","channel":"b"}}`,
	`{"event":"pusher:subscribe","data":{"Channel":"a","auth":"x\u0041"}}`,
	`{"event":"pusher:subscribe","data":{"channel":"a","other":[1,{"b":"}"}]}}`,
	`{"event":"pusher:subscribe","data":{"channel":null}}`,
	`{"event":"pusher:subscribe","data":{}}`,
	"{\"event\":\"e\",\"data\":{\"channel\":\"a\tb\"}}",
	`{"event" : "e" , "data" : { "channel" : "c" } , "channel" : "x" }`,
	`{"event":"e","data":01}`,
	`{"event":"e","data":"x",}`,
	`{"event":"e"}{}`,
	`{"event":"pusher:subscribe","data":{"channel":"presence-a","channel_data":"{\"user_id\":-12.5e3,\"user_info\":{\"a\":[1,\"<x>\"]}}"}}`,
	`{"event":"pusher:subscribe","data":{"channel":"presence-a","channel_data":"{\"user_id\":\"a\",\"user_id\":\"b\"}"}}`,
	`{"event":"pusher:subscribe","data":{"channel":"presence-a","channel_data":"{\"user_id\":true}"}}`,
	`{"event":"pusher:subscribe","data":{"channel":"presence-a","channel_data":"{\"user_id\":\"a\",\"user_info\":null}"}}`,
	`{"event":"pusher:subscribe","data":{"channel":"presence-a","channel_data":"{\"user_info\":1}"}}`,
	`{"event":"pusher:subscribe","data":{"channel":"presence-a","channel_data":"{\"user_id\":01}"}}`,
	`{"event":"\u00e9v\u00e9nement","data":"\ud83d\ude00"}`,
	// The protocol extensions (extensions.go), as Sockudo's clients send them.
	`{"event":"pusher:subscribe","data":{"channel":"market","filter":{"op":"and","nodes":[{"key":"symbol","cmp":"in","vals":["BTC","ETH"]},{"key":"price","cmp":"gte","val":"100"}]}}}`,
	`{"event":"pusher:subscribe","data":{"channel":"ticker","delta":{"enabled":true,"algorithm":"fossil"},"tags_filter":"{\"key\":\"s\",\"cmp\":\"ex\"}"}}`,
	`{"event":"pusher:enable_delta_compression","data":{"algorithms":["fossil","xdelta3"]}}`,
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range seedFrames {
		f.Add([]byte(s))
		// Also each frame cut in two, as a client that sends a partial
		// message would.
		f.Add([]byte(s[:len(s)/2]))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		// The quick pass and the careful one agree.
		if trimmed := bytes.TrimSpace(b); utf8.Valid(b) && len(trimmed) > 0 && trimmed[0] == '{' {
			careful, cerr := parseFrameCareful(trimmed)
			if (err == nil) != (cerr == nil) || err == nil && (fr.Event != careful.Event || fr.Channel != careful.Channel || !bytes.Equal(fr.Data, careful.Data)) {
				t.Fatalf("%q: quick %+v %v, careful %+v %v", b, fr, err, careful, cerr)
			}
		}
		if err != nil {
			return
		}
		if fr.Event == "" {
			t.Fatalf("accepted %q without an event", b)
		}
		// What was accepted survives a round trip through the encoder.
		out := encodeFrame(fr.Event, fr.Channel, fr.Data, "")
		again, err := ParseFrame(out)
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", out, err)
		}
		if again.Event != fr.Event || again.Channel != fr.Channel {
			t.Fatalf("round trip changed %q/%q to %q/%q", fr.Event, fr.Channel, again.Event, again.Channel)
		}
		var c1, c2 bytes.Buffer
		if len(fr.Data) > 0 {
			if json.Compact(&c1, fr.Data) != nil || json.Compact(&c2, again.Data) != nil || !bytes.Equal(c1.Bytes(), c2.Bytes()) {
				t.Fatalf("round trip changed data %s to %s", fr.Data, again.Data)
			}
		}
		// The handlers' decoders never panic on what the parser lets by.
		var sd, quick subscribeData
		err = DecodeData(fr.Data, &sd)
		if qerr := decodeSubscribeData(fr.Data, &quick); (err == nil) != (qerr == nil) || err == nil && !sameSubscribeData(sd, quick) {
			t.Fatalf("data %s: subscribe data quick %+v %v, encoding/json %+v %v", fr.Data, quick, qerr, sd, err)
		}
		if err == nil {
			validChannel(sd.Channel)
			kindOf(sd.Channel)
			user, info, msg := parseChannelData(sd.ChannelData, DefaultMaxUserInfoBytes)
			cuser, cinfo, cmsg := parseChannelDataCareful(sd.ChannelData, DefaultMaxUserInfoBytes)
			if user != cuser || !bytes.Equal(info, cinfo) || msg != cmsg {
				t.Fatalf("channel_data %q: quick %q %s %q, encoding/json %q %s %q", sd.ChannelData, user, info, msg, cuser, cinfo, cmsg)
			}
			if msg == "" {
				if user == "" || len(info) > DefaultMaxUserInfoBytes {
					t.Fatalf("accepted channel_data %q as user %q", sd.ChannelData, user)
				}
			}
			if x, code, msg := parseSubscribeExt(&sd, false); code != 0 && msg == "" || code == 0 && x.delta && kindOf(sd.Channel) == encryptedChannel {
				t.Fatalf("extensions of %s: code %d, message %q, delta %v", fr.Data, code, msg, x.delta)
			}
		}
		var si signinData
		DecodeData(fr.Data, &si)
	})
}

func FuzzCanonicalQuery(f *testing.F) {
	f.Add("auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c")
	f.Add("filter_by_prefix=presence-&info=user_count&AUTH_KEY=x")
	f.Add("a=1&a=2&b=%20c")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s := canonicalQuery(q)
		// Signing is deterministic and ignores auth_signature.
		q.Set("auth_signature", "anything")
		if canonicalQuery(q) != s {
			t.Fatalf("auth_signature changed the signed query of %q", raw)
		}
	})
}

func FuzzParseUserData(f *testing.F) {
	for _, s := range []string{`{"id":"42"}`, `{"id":"42","watchlist":["1","2"]}`, `{"id":"1","watchlist":null}`,
		`{"id":"1","watchlist":"2"}`, `{"id":"1","watchlist":[1,2]}`, `{"id":1}`, `[]`, `{"id":"1","watchlist":["","x"]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, list, err := ParseUserData(s)
		if err != nil {
			if id != "" || list != nil {
				t.Fatalf("error %v with id %q list %v", err, id, list)
			}
			return
		}
		if id == "" || len(id) > 200 || len(list) > MaxWatchlist {
			t.Fatalf("accepted id %q with %d watched", id, len(list))
		}
		seen := map[string]bool{}
		for _, w := range list {
			if w == "" || len(w) > 200 || seen[w] {
				t.Fatalf("accepted watchlist %q", list)
			}
			seen[w] = true
		}
	})
}

// sameSubscribeData compares two decodings of pusher:subscribe's data,
// the extensions' raw values byte for byte.
func sameSubscribeData(a, b subscribeData) bool {
	return a.Channel == b.Channel && a.Auth == b.Auth && a.ChannelData == b.ChannelData &&
		bytes.Equal(a.Filter, b.Filter) && bytes.Equal(a.TagsFilter, b.TagsFilter) && bytes.Equal(a.Delta, b.Delta)
}
