package twilio

import (
	"strings"
	"testing"
)

func TestParseTwiML(t *testing.T) {
	cases := []struct {
		doc  string
		want []Reply
		bad  bool
	}{
		{doc: "", want: nil},
		{doc: "  \n", want: nil},
		{doc: `<Response/>`, want: []Reply{}},
		{doc: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hi there</Message></Response>`, want: []Reply{{Body: "Hi there"}}},
		{doc: `<Response><Message to="+31612345678" from="Omni"><Body>a</Body><Media>http://x/y.png</Media></Message><Message> b </Message></Response>`,
			want: []Reply{{To: "+31612345678", From: "Omni", Body: "a"}, {Body: "b"}}},
		{doc: `<Response><Redirect>http://x/</Redirect><Unknown><Message>nested</Message></Unknown><Message action="http://cb/">x</Message></Response>`,
			want: []Reply{{Body: "x", Action: "http://cb/"}}},
		{doc: `<Response><Message>&lt;b&gt; &amp; co</Message></Response><!-- done -->`, want: []Reply{{Body: "<b> & co"}}},
		{doc: `<Respons><Message>x</Message></Respons>`, bad: true},
		{doc: `<Response><Message>x</Response>`, bad: true},
		{doc: `OK`, bad: true},
		{doc: `<Response/><Response/>`, bad: true},
		{doc: `<Response>` + strings.Repeat(`<Message>x</Message>`, 11) + `</Response>`, bad: true},
		{doc: `<Response><Message>` + strings.Repeat("x", MaxTwiML) + `</Message></Response>`, bad: true},
		{doc: `<!DOCTYPE r [<!ENTITY e "boom">]><Response><Message>&e;</Message></Response>`, bad: true},
	}
	for _, c := range cases {
		got, err := ParseTwiML([]byte(c.doc))
		if c.bad {
			if err == nil {
				t.Errorf("%.60q: no error, got %+v", c.doc, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%.60q: %v", c.doc, err)
			continue
		}
		if len(got) != len(c.want) || (c.want == nil) != (got == nil) {
			t.Errorf("%.60q: got %+v, want %+v", c.doc, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%.60q: reply %d: got %+v, want %+v", c.doc, i, got[i], c.want[i])
			}
		}
	}
}

func FuzzParseTwiML(f *testing.F) {
	f.Add([]byte(`<Response><Message to="+1" from="x"><Body>hi</Body></Message></Response>`))
	f.Add([]byte(`<Response/>`))
	f.Add([]byte(`<Response><Message>a</Message><Message>b</Message></Response>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		replies, err := ParseTwiML(doc)
		if err != nil {
			return
		}
		if len(replies) > maxReplies {
			t.Fatalf("%d replies", len(replies))
		}
		for _, r := range replies {
			if len(r.Body) > len(doc) || len(r.To) > len(doc) || len(r.From) > len(doc) {
				t.Fatalf("reply larger than its document: %+v", r)
			}
		}
	})
}
