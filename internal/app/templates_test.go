package app

import (
	"strings"
	"testing"
)

// Templates through the account API: create with English, French and
// Arabic variants, read, list, replace, preview with language fallback and
// HTML escaping, clear errors for unknown templates and variables, delete.
func TestTemplatesAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := complianceServer(t, engine)
		tpl := map[string]any{
			"name": "welcome", "defaultLanguage": "en",
			"variables": map[string]any{"first_name": "there", "code": nil},
			"variants": []map[string]any{
				{"language": "en", "subject": "Welcome, {{first_name}}", "text": "Hi {{first_name}},\nyour code is {{code}}.",
					"html": "<p>Hi {{first_name}}, your code is <b>{{code}}</b>.</p>"},
				{"language": "fr", "subject": "Bienvenue {{first_name}}", "text": "Bonjour {{first_name}}, votre code est {{code}}."},
				{"language": "ar", "subject": "مرحبا {{first_name}}", "text": "أهلا {{first_name}}، رمزك {{code}}",
					"html": `<div dir="rtl" lang="ar">أهلا {{first_name}}، رمزك {{code}}</div>`},
			},
		}
		r := s.call("POST", "/templates", tpl)
		if r.status != 201 || r.json["name"] != "welcome" || len(r.json["variants"].([]any)) != 3 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		wantError := func(r response, status int, param, contains string) {
			t.Helper()
			_, p, desc := errorOf(t, r)
			if r.status != status || (param != "" && p != param) || !strings.Contains(desc, contains) {
				t.Fatalf("want %d on %s (%q), got %d %s", status, param, contains, r.status, r.raw)
			}
		}
		wantError(s.call("POST", "/templates", tpl), 409, "name", "exists")
		if r := s.get("/templates/welcome"); r.status != 200 || r.json["defaultLanguage"] != "en" || !strings.Contains(string(r.raw), `dir=\"rtl\"`) {
			t.Fatalf("get: %d %s", r.status, r.raw)
		}
		preview := func(lang string, vars map[string]string) response {
			return s.call("POST", "/templates/welcome/preview", map[string]any{"language": lang, "variables": vars})
		}
		r = preview("fr-CA", map[string]string{"code": "<42>"})
		if r.status != 200 || r.json["language"] != "fr" || r.json["subject"] != "Bienvenue there" || r.json["text"] != "Bonjour there, votre code est <42>." ||
			r.json["html"] != "" {
			t.Fatalf("preview fr-CA: %d %s", r.status, r.raw)
		}
		r = preview("en", map[string]string{"code": "<42>", "first_name": "Ann & Bob"})
		if r.json["html"] != "<p>Hi Ann &amp; Bob, your code is <b>&lt;42&gt;</b>.</p>" || r.json["text"] != "Hi Ann & Bob,\nyour code is <42>." {
			t.Fatalf("preview en: %s", r.raw)
		}
		r = preview("ar-EG", map[string]string{"code": "٤٢", "first_name": "سارة"})
		if r.json["language"] != "ar" || r.json["html"] != `<div dir="rtl" lang="ar">أهلا سارة، رمزك ٤٢</div>` {
			t.Fatalf("preview ar: %s", r.raw)
		}
		if r := preview("de", map[string]string{"code": "1"}); r.json["language"] != "en" {
			t.Fatalf("preview de: %s", r.raw)
		}
		wantError(preview("en", nil), 422, "variables.code", "needs variable code")
		wantError(preview("en", map[string]string{"code": "1", "frist_name": "x"}), 422, "variables.frist_name", "no variable frist_name")
		wantError(preview("en", map[string]string{"code": "1", "first_name": "x\r\nBcc: a@example.com"}), 422, "variables.first_name", "control character")
		wantError(s.call("POST", "/templates/nope/preview", map[string]any{}), 404, "name", `no template named "nope"`)

		// Bad templates: each error names its field.
		bad := func(mutate func(map[string]any), param, contains string) {
			t.Helper()
			b := map[string]any{"name": "x", "defaultLanguage": "en", "variants": []map[string]any{{"language": "en", "text": "hi {{who}}"}},
				"variables": map[string]any{"who": nil}}
			mutate(b)
			wantError(s.call("PUT", "/templates/x", b), 422, param, contains)
		}
		bad(func(b map[string]any) { b["variants"] = []map[string]any{{"language": "en", "text": "hi {{whom}}"}} }, "variants[en].text", "whom, which is not declared")
		bad(func(b map[string]any) { b["variants"] = []map[string]any{{"language": "en", "text": "hi {{who"}} }, "variants[en].text", "not closed")
		bad(func(b map[string]any) { b["defaultLanguage"] = "fr" }, "defaultLanguage", "has no variant")
		bad(func(b map[string]any) { b["name"] = "y" }, "name", "another template")
		bad(func(b map[string]any) {
			b["variants"] = []map[string]any{{"language": "en", "text": "x", "subject": strings.Repeat("s", 999)}}
		}, "variants[en].subject", "at most 998")
		wantError(s.call("PUT", "/templates/has%20space", map[string]any{"defaultLanguage": "en", "variants": []map[string]any{{"language": "en", "text": "x"}}}),
			422, "name", "letters, digits")
		if r := s.call("PUT", "/templates/x", map[string]any{"defaultLanguage": "en", "variants": []map[string]any{{"language": "en", "text": "x"}},
			"colour": "red"}); r.status != 400 && r.status != 422 {
			t.Fatalf("an unknown field: %d %s", r.status, r.raw)
		}

		// PUT replaces every variant at once.
		r = s.call("PUT", "/templates/welcome", map[string]any{"defaultLanguage": "fr", "variants": []map[string]any{{"language": "fr", "text": "Salut"}}})
		if r.status != 200 {
			t.Fatalf("replace: %d %s", r.status, r.raw)
		}
		if r := s.call("PUT", "/templates/receipt", map[string]any{"defaultLanguage": "en", "variants": []map[string]any{{"language": "en", "text": "Paid"}}}); r.status != 201 {
			t.Fatalf("put new: %d %s", r.status, r.raw)
		}
		r = s.get("/templates")
		if r.json["count"] != 2.0 || !strings.Contains(string(r.raw), `"name":"receipt"`) || strings.Contains(string(r.raw), "Salut") {
			t.Fatalf("list: %s", r.raw)
		}
		if r := preview("en", nil); r.status != 200 || r.json["text"] != "Salut" || r.json["language"] != "fr" {
			t.Fatalf("after replace: %s", r.raw)
		}
		if r := s.do("DELETE", "/templates/welcome", s.key, "", nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		wantError(s.do("DELETE", "/templates/welcome", s.key, "", nil), 404, "name", "no template")
		wantError(s.get("/templates/welcome"), 404, "name", "no template")
	})
}
