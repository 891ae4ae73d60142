package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

// AppendRequest writes what NewRequest asks for: net/http reads both back
// to the same method, path, query, headers and body.
func TestAppendRequestMatchesNewRequest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	targets := []Target{
		&Omnigate{BaseURL: "http://127.0.0.1:8080", Key: "live_k3y"},
		&Omnigate{BaseURL: "http://127.0.0.1:8080/prefix/", Key: "k", Originator: "Shop <&>"},
		&Kannel{BaseURL: "http://127.0.0.1:13013", Username: "u", Password: "p&w d", Originator: "Bench"},
	}
	for _, target := range targets {
		for _, kind := range []Kind{KindGSM, KindArabic, KindLong} {
			for _, report := range []string{"", "http://127.0.0.1:9999/report"} {
				m := NewMessage(rng, kind, 3)
				want, err := target.NewRequest(context.Background(), m, 42, report)
				if err != nil {
					t.Fatal(err)
				}
				wantBody := readAll(t, want.Body)
				raw := target.AppendRequest([]byte("junk before "), m, 42, report)[len("junk before "):]
				got, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
				if err != nil {
					t.Fatalf("%s %s: net/http cannot read %q: %v", target.Name(), kind, raw, err)
				}
				gotBody := readAll(t, got.Body)
				if got.Method != want.Method || got.URL.Path != want.URL.Path || got.Host != want.URL.Host ||
					!reflect.DeepEqual(got.URL.Query(), want.URL.Query()) || got.URL.RawQuery != want.URL.RawQuery {
					t.Fatalf("%s %s: request line\n got %s %s (host %s)\nwant %s %s (host %s)", target.Name(), kind,
						got.Method, got.URL.RequestURI(), got.Host, want.Method, want.URL.RequestURI(), want.URL.Host)
				}
				for k := range want.Header {
					if got.Header.Get(k) != want.Header.Get(k) {
						t.Fatalf("%s: header %s = %q, want %q", target.Name(), k, got.Header.Get(k), want.Header.Get(k))
					}
				}
				if !bytes.Equal(gotBody, wantBody) || got.ContentLength != int64(len(wantBody)) && len(wantBody) > 0 {
					t.Fatalf("%s %s: body\n got %s\nwant %s", target.Name(), kind, gotBody, wantBody)
				}
			}
		}
	}
}

func readAll(t *testing.T, r io.ReadCloser) []byte {
	t.Helper()
	if r == nil {
		return nil
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// omnigate's answer is read from where its id is, or decoded in full when
// it has another shape.
func TestOmnigateReadResponse(t *testing.T) {
	o := &Omnigate{}
	for _, tc := range []struct {
		status int
		body   string
		want   Answer
	}{
		{201, `{"id":"abc123","href":"x","recipients":{}}`, Answer{Accepted: true, Ref: "abc123"}},
		{201, `{ "href":"x", "id":"def" }`, Answer{Accepted: true, Ref: "def"}},
		{201, `{"id":"a\"b"}`, Answer{Accepted: true, Ref: `a"b`}},
		{201, `{"id":""}`, Answer{ErrKind: "HTTP 201 without a message id"}},
		{201, `{"id":"unterminated`, Answer{ErrKind: "HTTP 201 without a message id"}},
		{422, `{"errors":[{"code":9,"description":"x"}]}`, Answer{ErrKind: "HTTP 422 code 9"}},
		{503, `busy`, Answer{ErrKind: "HTTP 503"}},
	} {
		if got := o.ReadResponse(tc.status, []byte(tc.body), Message{}); got != tc.want {
			t.Errorf("%d %s: %+v, want %+v", tc.status, tc.body, got, tc.want)
		}
	}
}

// Reports are read as net/url reads them.
func TestParseReport(t *testing.T) {
	o, k := &Omnigate{}, &Kannel{}
	if r, ok := o.ParseReport("rid=7&id=x&recipient=31612345678&status=delivered&statusDatetime=2026-12-06T10%3A00%3A00%2B00%3A00"); !ok || r != (Report{RID: 7, Recipient: "31612345678", Outcome: Delivered}) {
		t.Fatalf("omnigate delivered: %+v %v", r, ok)
	}
	if r, ok := o.ParseReport("rid=8&recipient=316&status=delivery_failed"); !ok || r.Outcome != Failed {
		t.Fatalf("omnigate failed: %+v %v", r, ok)
	}
	if _, ok := o.ParseReport("rid=x&recipient=316"); ok {
		t.Fatal("a bad rid was read")
	}
	if r, ok := k.ParseReport("rid=9&to=%2B31612345678&type=1"); !ok || r != (Report{RID: 9, Recipient: "+31612345678", Outcome: Delivered}) {
		t.Fatalf("kannel delivered: %+v %v", r, ok)
	}
	if r, ok := k.ParseReport("rid=9&to=316&type=16"); !ok || r.Outcome != Failed {
		t.Fatalf("kannel rejected: %+v %v", r, ok)
	}
	if _, ok := k.ParseReport("rid=9"); ok {
		t.Fatal("a report without a recipient was read")
	}
}

func FuzzAppendQueryEscaped(f *testing.F) {
	for _, s := range []string{"", "a b", "p&w=d", "رمز", "%p&type=%d", "~-_."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendQueryEscaped(nil, s)), url.QueryEscape(s); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

func FuzzQueryValue(f *testing.F) {
	for _, s := range []string{"rid=1&to=%2B316", "a=1&a=2", "rid", "rid=%zz&rid=2", "x;y=1&rid=3", "r%69d=4", "rid=a+b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		for _, key := range []string{"rid", "to", "a", "x"} {
			if got, want := queryValue(raw, key), q.Get(key); got != want {
				t.Fatalf("%q key %s: got %q, want %q", raw, key, got, want)
			}
		}
	})
}
