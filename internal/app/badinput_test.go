package app

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Every bad request gets MessageBird's error format with the right status,
// code and parameter, and changes nothing.
func TestBadInput(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		valid := `{"originator":"Shop","recipients":["31612345678"],"body":"x"}`
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprintf(`"316123456%02d"`, i)
		}
		for _, tc := range []struct {
			name        string
			method      string
			path        string
			key         string
			contentType string
			body        string
			status      int
			code        float64 // 0: expect {"errors":[]}
			param       any
		}{
			{"no key", "POST", "/messages", "-", "application/json", valid, 401, 2, "access_key"},
			{"wrong key", "POST", "/messages", "live_wrong", "application/json", valid, 401, 2, "access_key"},
			{"wrong scheme", "GET", "/balance", "Bearer", "", "", 401, 2, "access_key"},
			{"malformed JSON", "POST", "/messages", "", "application/json", `{"originator":`, 400, 10, nil},
			{"JSON array", "POST", "/messages", "", "application/json", `[1,2]`, 400, 10, nil},
			{"trailing data", "POST", "/messages", "", "application/json", valid + `{}`, 400, 10, nil},
			{"unknown content type", "POST", "/messages", "", "text/csv", "a,b", 415, 10, nil},
			{"body over 1 MiB", "POST", "/messages", "", "application/json", `{"body":"` + strings.Repeat("a", 1<<20) + `"}`, 413, 10, nil},
			{"empty body", "POST", "/messages", "", "application/json", "", 422, 9, "recipients"},
			{"no recipients", "POST", "/messages", "", "application/json", `{"originator":"Shop","body":"x"}`, 422, 9, "recipients"},
			{"51 recipients", "POST", "/messages", "", "application/json", `{"originator":"Shop","body":"x","recipients":[` + strings.Join(many, ",") + `]}`, 422, 10, "recipients"},
			{"invalid recipient", "POST", "/messages", "", "application/json", `{"originator":"Shop","body":"x","recipients":["31612345678","12345"]}`, 422, 10, "recipients"},
			{"letters in recipient", "POST", "/messages", "", "application/json", `{"originator":"Shop","body":"x","recipients":"3161234567a"}`, 422, 10, "recipients"},
			{"no originator", "POST", "/messages", "", "application/json", `{"recipients":["31612345678"],"body":"x"}`, 422, 9, "originator"},
			{"originator of 12 letters", "POST", "/messages", "", "application/json", `{"originator":"ABCDEFGHIJKL","recipients":["31612345678"],"body":"x"}`, 422, 10, "originator"},
			{"originator of 13 characters", "POST", "/messages", "", "application/json", `{"originator":"MessageBird13","recipients":["31612345678"],"body":"x"}`, 422, 10, "originator"},
			{"originator with symbols", "POST", "/messages", "", "application/json", `{"originator":"Shop<>","recipients":["31612345678"],"body":"x"}`, 422, 10, "originator"},
			{"no body", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"]}`, 422, 9, "body"},
			{"bad scheduledDatetime", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","scheduledDatetime":"tomorrow"}`, 422, 10, "scheduledDatetime"},
			{"bad type", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","type":"fax"}`, 422, 10, "type"},
			{"bad datacoding", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","datacoding":"ebcdic"}`, 422, 10, "datacoding"},
			{"bad mclass", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","mclass":7}`, 422, 10, "mclass"},
			{"negative validity", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","validity":-1}`, 422, 10, "validity"},
			{"validity as text", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","validity":"soon"}`, 422, 10, "validity"},
			{"bad reportUrl", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","reportUrl":"ftp://x"}`, 422, 10, "reportUrl"},
			{"unknown field, known one malformed", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","colour":"red","validity":"soon"}`, 422, 10, "validity"},
			{"unknown form field, known one malformed", "POST", "/messages", "", "application/x-www-form-urlencoded", "originator=Shop&recipients=31612345678&body=x&colour=red&mclass=x", 422, 10, "mclass"},
			{"recipients object", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":{"a":1},"body":"x"}`, 422, 10, "recipients"},
			{"body not text", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":{}}`, 422, 10, "body"},
			{"binary body not hex", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"zz","type":"binary"}`, 422, 10, "body"},
			{"body too long", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"` + strings.Repeat("a", 153*16+1) + `"}`, 422, 10, "body"},
			{"groups", "POST", "/messages", "", "application/json", `{"originator":"Shop","groupIds":["g1"],"body":"x"}`, 422, 10, "groupIds"},
			{"mo direction", "POST", "/messages", "", "application/json", `{"originator":"Shop","recipients":["31612345678"],"body":"x","direction":"mo"}`, 422, 10, "direction"},
			{"unknown id", "GET", "/messages/" + strings.Repeat("a", 32), "", "", "", 404, 20, nil},
			{"garbage id", "GET", "/messages/..%2f..%2fetc", "", "", "", 404, 20, nil},
			{"delete unknown", "DELETE", "/messages/nope", "", "", "", 404, 20, nil},
			{"bad limit", "GET", "/messages?limit=201", "", "", "", 422, 10, "limit"},
			{"huge limit", "GET", "/messages?limit=100000", "", "", "", 422, 10, "limit"},
			{"bad offset", "GET", "/messages?offset=-1", "", "", "", 422, 10, "offset"},
			{"bad status filter", "GET", "/messages?status=lost", "", "", "", 422, 10, "status"},
			{"wrong method", "PUT", "/messages", "", "application/json", valid, 405, 0, nil},
			{"wrong method on id", "PATCH", "/messages/abc", "", "application/json", "{}", 405, 0, nil},
			{"unknown path", "GET", "/nothing-here", "", "", "", 404, 20, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := s.key
				switch tc.key {
				case "-":
					key = ""
				case "":
				default:
					key = tc.key
				}
				req, _ := http.NewRequest(tc.method, s.url+tc.path, bytes.NewReader([]byte(tc.body)))
				if key != "" {
					req.Header.Set("Authorization", "AccessKey "+key)
				}
				if tc.key == "Bearer" {
					req.Header.Set("Authorization", "Bearer "+s.key)
				}
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var buf bytes.Buffer
				buf.ReadFrom(resp.Body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, buf.String())
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type %q", ct)
				}
				if tc.code == 0 {
					if strings.TrimSpace(buf.String()) != `{"errors":[]}` {
						t.Fatalf("body %s, want {\"errors\":[]}", buf.String())
					}
					return
				}
				code, param, desc := errorOf(t, response{status: resp.StatusCode, raw: buf.Bytes(), json: mustJSON(t, buf.Bytes())})
				if code != tc.code || param != tc.param || desc == "" {
					t.Fatalf("error code %v param %v (%q), want code %v param %v", code, param, desc, tc.code, tc.param)
				}
			})
		}
		// Nothing was stored or charged, and the server still works.
		if r := s.get("/messages"); r.json["totalCount"] != 0.0 {
			t.Fatalf("bad requests stored messages: %s", r.raw)
		}
		if r := s.get("/balance"); r.json["amount"] != 1000.0 {
			t.Fatalf("bad requests changed the balance: %s", r.raw)
		}
		s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "still fine"})
	})
}
