package conversations

import (
	"encoding/json"
	"testing"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
)

// param is the parameter a problem names ("" for none).
func param(p *rest.Problem) string {
	if len(p.Errors) == 0 || p.Errors[0].Parameter == nil {
		return ""
	}
	return *p.Errors[0].Parameter
}

func TestCheckComponents(t *testing.T) {
	for _, c := range []struct {
		json   string
		params int
		param  string // "" when valid
	}{
		{`[{"type":"BODY","text":"Hello"}]`, 0, ""},
		{`[{"type":"HEADER","format":"TEXT","text":"Order {{1}}"},{"type":"BODY","text":"{{1}} ships {{2}}"},{"type":"FOOTER","text":"bye"},
		   {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"OK"},{"type":"URL","text":"Track","url":"https://t.example/{{1}}"}]}]`, 4, ""},
		{`[{"type":"HEADER","format":"IMAGE"},{"type":"body","text":"x"}]`, 1, ""},
		{`[]`, 0, "components"},
		{`null`, 0, "components"},
		{`{"type":"BODY"}`, 0, "components"},
		{`[{"type":"BODY","text":"{{1}} {{3}}"}]`, 0, "components[0].text"},
		{`[{"type":"BODY","text":"a"},{"type":"BODY","text":"b"}]`, 0, "components[1].type"},
		{`[{"type":"HEADER","format":"TEXT","text":"{{1}} {{2}}"},{"type":"BODY","text":"b"}]`, 0, "components[0].text"},
		{`[{"type":"BODY","text":"a"},{"type":"FOOTER","text":"{{1}}"}]`, 0, "components[1].text"},
		{`[{"type":"BODY","text":"a"},{"type":"BUTTONS","buttons":[{"type":"CALL","text":"x"}]}]`, 0, "components[1].buttons[0].type"},
		{`[{"type":"CAROUSEL"}]`, 0, "components[0].type"},
	} {
		n, p := CheckComponents(json.RawMessage(c.json))
		switch {
		case c.param == "" && (p != nil || n != c.params):
			t.Errorf("%s: %d %v, want %d", c.json, n, p, c.params)
		case c.param != "" && (p == nil || param(p) != c.param):
			t.Errorf("%s: %v, want a problem naming %s", c.json, p, c.param)
		}
	}
}

func TestSendParamsSkipQuickReplies(t *testing.T) {
	tpl := &message.Template{Components: []message.TemplateComponent{
		{Type: "body", Parameters: []message.TemplateParam{{Type: "text", Text: "a"}, {Type: "text", Text: "b"}}},
		{Type: "button", SubType: "quick_reply", Parameters: []message.TemplateParam{{Type: "payload", Payload: "p"}}},
		{Type: "button", SubType: "url", Index: 1, Parameters: []message.TemplateParam{{Type: "text", Text: "x"}}},
	}}
	if n := sendParams(tpl); n != 3 {
		t.Errorf("%d parameters, want 3", n)
	}
}

// FuzzCheckComponents: any body is a count or a problem naming a field,
// never a panic; a count is never negative.
func FuzzCheckComponents(f *testing.F) {
	f.Add([]byte(`[{"type":"HEADER","format":"TEXT","text":"Order {{1}}"},{"type":"BODY","text":"{{1}} ships {{2}}"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"T","url":"https://t.example/{{1}}"}]}]`))
	f.Add([]byte(`[{"type":"BODY","text":"{{ 1 }} {{2}}{{10}}"}]`))
	f.Add([]byte(`[{"type":"BODY"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, p := CheckComponents(b)
		if p == nil && n < 0 {
			t.Fatalf("negative count %d", n)
		}
		if p != nil && param(p) == "" {
			t.Fatalf("a problem naming no field: %v", p)
		}
	})
}
