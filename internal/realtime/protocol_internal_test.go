package realtime

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzJSONString checks the frames' string encoder against encoding/json
// byte for byte: clients get the frames they got before (the encoder
// itself, internal/jsonstr, is fuzzed there).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "presence-churn-1", "u123", "<&> \u2028 \xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := jsonString(s); !bytes.Equal(got, want) {
			t.Fatalf("jsonString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}

// FuzzNormalizeJSON checks that a member's user_info is kept as
// encoding/json writes a RawMessage.
func FuzzNormalizeJSON(f *testing.F) {
	for _, s := range []string{`{"name": "Mr. Channels"}`, ` [1, 2 , {"a" : "<&>"}] `, `"\u2028"`, "\"\u2029\"", `{"a":{"b":[true,false,null,1.5e3]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		want, err := json.Marshal(json.RawMessage(s))
		if err != nil {
			t.Fatal(err)
		}
		if got := normalizeJSON(json.RawMessage(s)); !bytes.Equal(got, want) {
			t.Fatalf("normalizeJSON(%s) = %s, encoding/json %s", s, got, want)
		}
	})
}

// TestPresenceFramesAsBefore checks member_added, member_removed and a
// presence subscription_succeeded against the reflection-based encoding
// they replace.
func TestPresenceFramesAsBefore(t *testing.T) {
	infos := []json.RawMessage{nil, normalizeJSON(json.RawMessage(` {"name" : "A <b> & \u2028", "n": [1, 2]} `)), json.RawMessage(`"x"`)}
	users := []string{"1", `we"ird<id>`, "é\u2029"}
	for i, user := range users {
		want := encodeFrame("pusher_internal:member_added", "presence-a", stringData(memberData{UserID: user, UserInfo: infos[i]}), "")
		if got := memberFrame("pusher_internal:member_added", "presence-a", user, infos[i]); !bytes.Equal(got, want) {
			t.Errorf("member_added %q:\n got %s\nwant %s", user, got, want)
		}
		want = encodeFrame("pusher_internal:member_removed", "presence-a", stringData(memberData{UserID: user}), "")
		if got := memberFrame("pusher_internal:member_removed", "presence-a", user, nil); !bytes.Equal(got, want) {
			t.Errorf("member_removed %q:\n got %s\nwant %s", user, got, want)
		}
	}
	for n := 0; n <= len(users); n++ {
		ids, in := users[:n], infos[:n]
		hash := map[string]json.RawMessage{}
		for i, id := range ids {
			hash[id] = in[i]
		}
		sorted := append([]string{}, ids...)
		// users is sorted already: "1" < `we"…` < "é…".
		want := stringData(presenceData{presenceHash{IDs: sorted, Hash: hash, Count: len(sorted)}})
		if got := presenceSucceededData(ids, in); !bytes.Equal(got, want) {
			t.Errorf("%d members:\n got %s\nwant %s", n, got, want)
		}
	}
}

// FuzzQuickString checks the string decoder of quickjson.go against
// encoding/json.
func FuzzQuickString(f *testing.F) {
	for _, s := range []string{`"a"`, `"{\"user_id\":\"1\"}"`, `"\\\/\b\f\n\r\t"`, `"\u00e9"`, `"a\"`, `"a"b"`, `"\x"`, "\"\x01\"", `"\ud83d"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		if !utf8.ValidString(lit) || lit != strings.Trim(lit, " \t\r\n") {
			return // refused by ParseFrame first; values have no space around them
		}
		s, ok := quickString([]byte(lit))
		var want string
		err := json.Unmarshal([]byte(lit), &want)
		if ok != (err == nil) || ok && s != want {
			t.Fatalf("quickString(%s) = %q %v; encoding/json %q %v", lit, s, ok, want, err)
		}
	})
}
