package templates

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
)

func strp(s string) *string { return &s }

func welcome() *store.Template {
	return &store.Template{Name: "welcome", DefaultLanguage: "en",
		Variables: map[string]*string{"first_name": strp("there"), "code": nil},
		Variants: []store.TemplateVariant{
			{Language: "en", Subject: "Welcome, {{first_name}}", Text: "Hi {{first_name}}, your code is {{code}}. {{{{literal}}",
				HTML: "<p>Hi {{ first_name }}, your code is <b>{{code}}</b>. {{shop|Our shop}}</p>"},
			{Language: "fr", Subject: "Bienvenue {{first_name}}", Text: "Bonjour {{first_name}}, code {{code}}"},
			{Language: "fr-ca", Subject: "Bienvenue {{first_name}}!", Text: "Allô {{first_name}}, code {{code}}"},
			{Language: "AR", Subject: "مرحبا {{first_name}}", Text: "أهلا {{first_name}}، رمزك {{code}}",
				HTML: `<div dir="rtl" lang="ar">أهلا {{first_name}}، رمزك {{code}}</div>`},
		}}
}

func TestCheckAndRender(t *testing.T) {
	tpl := welcome()
	if err := Check(tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.Variants[2].Language != "fr-CA" || tpl.Variants[3].Language != "ar" {
		t.Fatalf("languages not normalised: %+v", tpl.Variants)
	}
	for _, c := range []struct {
		lang string
		vars map[string]string
		want Rendered
	}{
		{"en", map[string]string{"first_name": "Ann & Bob", "code": "<42>"}, Rendered{Name: "welcome", Language: "en", Subject: "Welcome, Ann & Bob",
			Text: "Hi Ann & Bob, your code is <42>. {{literal}}", HTML: "<p>Hi Ann &amp; Bob, your code is <b>&lt;42&gt;</b>. Our shop</p>"}},
		{"fr-CA", map[string]string{"code": "7"}, Rendered{Name: "welcome", Language: "fr-CA", Subject: "Bienvenue there!", Text: "Allô there, code 7"}},
		{"fr-BE", map[string]string{"code": "7", "first_name": "Léa"}, Rendered{Name: "welcome", Language: "fr", Subject: "Bienvenue Léa", Text: "Bonjour Léa, code 7"}},
		{"de", map[string]string{"code": "7", "shop": "Laden"}, Rendered{Name: "welcome", Language: "en", Subject: "Welcome, there",
			Text: "Hi there, your code is 7. {{literal}}", HTML: "<p>Hi there, your code is <b>7</b>. Laden</p>"}},
		{"", map[string]string{"code": "7"}, Rendered{Name: "welcome", Language: "en", Subject: "Welcome, there",
			Text: "Hi there, your code is 7. {{literal}}", HTML: "<p>Hi there, your code is <b>7</b>. Our shop</p>"}},
		{"ar", map[string]string{"code": "٤٢", "first_name": "سارة"}, Rendered{Name: "welcome", Language: "ar", Subject: "مرحبا سارة",
			Text: "أهلا سارة، رمزك ٤٢", HTML: `<div dir="rtl" lang="ar">أهلا سارة، رمزك ٤٢</div>`}},
	} {
		got, err := RenderTemplate(tpl, c.lang, c.vars)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v\nwant %+v", c.lang, got, err, c.want)
		}
	}
	for _, c := range []struct {
		lang  string
		vars  map[string]string
		field string
	}{
		{"en", map[string]string{}, "variables.code"},
		{"en", map[string]string{"code": "1", "frist_name": "x"}, "variables.frist_name"},
		{"en", map[string]string{"code": "1", "first_name": "a\r\nBcc: x@example.com"}, "variables"},
		{"en", map[string]string{"code": strings.Repeat("x", MaxValue+1)}, "variables.code"},
		{"not a tag", map[string]string{"code": "1"}, "language"},
	} {
		_, err := RenderTemplate(tpl, c.lang, c.vars)
		var te *Error
		if !errors.As(err, &te) || te.Field != c.field {
			t.Errorf("%s %v: %v, want an error on %s", c.lang, c.vars, err, c.field)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	for _, c := range []struct {
		mutate func(*store.Template)
		field  string
	}{
		{func(t *store.Template) { t.Name = "has space" }, "name"},
		{func(t *store.Template) { t.Name = strings.Repeat("n", 65) }, "name"},
		{func(t *store.Template) { t.DefaultLanguage = "de" }, "defaultLanguage"},
		{func(t *store.Template) { t.DefaultLanguage = "english" }, "defaultLanguage"},
		{func(t *store.Template) { t.Variants = nil }, "variants"},
		{func(t *store.Template) { t.Variants[1].Language = "EN" }, "variants[en]"},
		{func(t *store.Template) { t.Variants[1].Language = "f" }, "variants[1].language"},
		{func(t *store.Template) { t.Variants[1].Text, t.Variants[1].HTML = "", "" }, "variants[fr]"},
		{func(t *store.Template) { t.Variants[0].Subject = "a\nb" }, "variants[en].subject"},
		{func(t *store.Template) { t.Variants[0].Text = "Hi {{first_name" }, "variants[en].text"},
		{func(t *store.Template) { t.Variants[0].Text = "Hi {{1x}}" }, "variants[en].text"},
		{func(t *store.Template) { t.Variants[0].HTML = "{{order_id}}" }, "variants[en].html"},
		{func(t *store.Template) { t.Variants[0].Text = strings.Repeat("x", MaxText+1) }, "variants[en].text"},
		{func(t *store.Template) { t.Variants[0].Text = "\xff" }, "variants[en].text"},
		{func(t *store.Template) { t.Variables["bad name"] = nil }, "variables.bad name"},
		{func(t *store.Template) { t.Variables["x"] = strp(strings.Repeat("d", MaxDefault+1)) }, "variables.x"},
	} {
		tpl := welcome()
		c.mutate(tpl)
		err := Check(tpl)
		var te *Error
		if !errors.As(err, &te) || te.Field != c.field {
			t.Errorf("want an error on %s, got %v", c.field, err)
		}
	}
	// An undeclared variable with an inline default is fine.
	tpl := welcome()
	tpl.Variants[0].Text = "{{order_id|none}}"
	if err := Check(tpl); err != nil {
		t.Fatal(err)
	}
}

// The service over a real store: put, render, unknown template.
func TestService(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &store.Account{ID: ids.New(), Name: "a", Currency: "EUR", SigningKey: "k"}
	if err := st.CreateAccount(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	s := New(st)
	tpl := welcome()
	tpl.AccountID = a.ID
	if created, err := s.Put(ctx, tpl); err != nil || !created {
		t.Fatalf("put %v %v", created, err)
	}
	r, err := s.Render(ctx, a.ID, "welcome", "fr-CA", map[string]string{"code": "9"})
	if err != nil || r.Text != "Allô there, code 9" || r.Language != "fr-CA" {
		t.Fatalf("render %+v %v", r, err)
	}
	_, err = s.Render(ctx, a.ID, "nope", "en", nil)
	var te *Error
	if !errors.As(err, &te) || te.Field != "template" || !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown template: %v", err)
	}
	if _, err := s.Render(ctx, ids.New(), "welcome", "en", map[string]string{"code": "9"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's template: %v", err)
	}
}

// FuzzRender: any template text either fails to check with an *Error or
// renders with any values without panicking; HTML parts never carry a
// value's '<' unescaped.
func FuzzRender(f *testing.F) {
	f.Add("Hi {{name}}", "<script>")
	f.Add("{{{{x}} {{a|b|c}} {{ b }}", "v")
	f.Add("{{", "")
	f.Add("{{name|}}}}", "}}")
	f.Fuzz(func(t *testing.T, src, value string) {
		tpl := &store.Template{Name: "f", DefaultLanguage: "en", Variables: map[string]*string{"name": nil, "b": strp("d")},
			Variants: []store.TemplateVariant{{Language: "en", Text: src, HTML: src}}}
		if err := Check(tpl); err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("check: %v is not an *Error", err)
			}
			return
		}
		r, err := RenderTemplate(tpl, "en", map[string]string{"name": value})
		if err != nil {
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("render: %v is not an *Error", err)
			}
			return
		}
		if strings.Count(r.HTML, "<") > strings.Count(src, "<") {
			t.Fatalf("a value's < reached the HTML: %q from %q", r.HTML, src)
		}
	})
}
