package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings([]byte(`{"expected_http_code":"2xx, 302","headers":{"X-Token":"abc","X-N":3,"X-B":true},"username":"u","password":"p","query_params":"?a=1&b=2","retry":4,"timeout":7}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Headers.Get("X-Token") != "abc" || s.Headers.Get("X-N") != "3" || s.Headers.Get("X-B") != "true" || s.Username != "u" || s.Password != "p" ||
		s.Query.Get("a") != "1" || s.Query.Get("b") != "2" || s.Retry != 4 || s.Timeout != 7*time.Second {
		t.Fatalf("parsed %+v", s)
	}
	for code, want := range map[int]bool{200: true, 299: true, 302: true, 301: false, 404: false} {
		if s.Accepts(code) != want {
			t.Errorf("Accepts(%d) = %v", code, !want)
		}
	}
	// The Go SDK sends every field, zero values included: the defaults.
	z, err := ParseSettings([]byte(`{"expected_http_code":"","headers":null,"username":"","password":"","query_params":"","retry":0,"timeout":0}`))
	if err != nil || z.Retry != 0 || z.Timeout != 0 || len(z.Expect) != 0 || !z.Accepts(204) || z.Accepts(302) {
		t.Fatalf("zero settings %+v, %v", z, err)
	}
	for raw, field := range map[string]string{
		`[]`:                               "settings",
		`{"retry":"3"}`:                    "settings",
		`{"retry":-1}`:                     "settings.retry",
		`{"timeout":31}`:                   "settings.timeout",
		`{"expected_http_code":"600"}`:     "settings.expected_http_code",
		`{"expected_http_code":"299-200"}`: "settings.expected_http_code",
		`{"headers":{"Bad Name":"x"}}`:     "settings.headers",
		`{"headers":{"user-agent":"x"}}`:   "settings.headers.user-agent",
		`{"headers":{"X":{"a":1}}}`:        "settings.headers.X",
		`{"headers":{"Authorization":"x"},"username":"u"}`: "settings.headers.Authorization",
		`{"username":"a:b"}`: "settings.username",
		`{"other":1}`:        "settings.other",
	} {
		_, err := ParseSettings([]byte(raw))
		se, ok := err.(*SettingsError)
		if !ok || se.Field != field {
			t.Errorf("ParseSettings(%s) = %v; want an error naming %s", raw, err, field)
		}
	}
}

func TestPasswordMask(t *testing.T) {
	stored := `{"username":"u","password":"p"}`
	masked := MaskPassword(stored)
	if strings.Contains(masked, `"p"`) || !strings.Contains(masked, PasswordMask) {
		t.Fatalf("masked %s", masked)
	}
	if kept := KeepPassword(masked, stored); !strings.Contains(kept, `"password":"p"`) {
		t.Fatalf("kept %s", kept)
	}
	if fresh := KeepPassword(`{"username":"u","password":"new"}`, stored); !strings.Contains(fresh, `"new"`) {
		t.Fatalf("a new password was replaced: %s", fresh)
	}
}

func FuzzParseSettings(f *testing.F) {
	for _, seed := range []string{`{}`, `{"expected_http_code":"2xx,200-204","headers":{"X":"1"},"username":"u","password":"p","query_params":"a=b","retry":3,"timeout":5}`,
		`{"headers":{"Host":"x"}}`, `null`, `{"retry":1e9}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ParseSettings(raw)
		if err != nil {
			return
		}
		if s.Retry < 0 || s.Retry > MaxSettingsRetry || s.Timeout < 0 || s.Timeout > MaxSettingsTimeout*time.Second {
			t.Fatalf("out of bounds: %+v", s)
		}
		for k, vs := range s.Headers {
			if reservedHeaders[k] {
				t.Fatalf("reserved header %s accepted", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n") {
					t.Fatalf("header %s value %q", k, v)
				}
			}
		}
		_ = s.Accepts(200)
	})
}
