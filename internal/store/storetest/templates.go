package storetest

import (
	"errors"
	"testing"

	"github.com/omnigate/omnigate/internal/store"
)

var templateBehaviours = []behaviour{
	{"Templates", testTemplates},
}

func testTemplates(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	there := "there"
	tpl := &store.Template{AccountID: a.ID, Name: "welcome", DefaultLanguage: "en",
		Variables: map[string]*string{"first_name": &there, "code": nil},
		Variants: []store.TemplateVariant{
			{Language: "en", Subject: "Welcome {{first_name}}", Text: "Hi {{first_name}}, code {{code}}", HTML: "<p>Hi {{first_name}}</p>"},
			{Language: "ar", Subject: "مرحبا {{first_name}}", Text: "أهلا {{first_name}}", HTML: `<p dir="rtl">أهلا {{first_name}}</p>`},
		}}
	created, err := st.PutTemplate(ctx, tpl)
	if err != nil || !created || tpl.CreatedAt.IsZero() {
		t.Fatalf("put: %v %v", created, err)
	}
	got, err := st.GetTemplate(ctx, a.ID, "welcome")
	if err != nil || got.DefaultLanguage != "en" || *got.Variables["first_name"] != "there" || got.Variables["code"] != nil ||
		len(got.Variants) != 2 || got.Variants[0].Language != "ar" || got.Variants[0].HTML != `<p dir="rtl">أهلا {{first_name}}</p>` {
		t.Fatalf("get %+v, %v", got, err)
	}
	// Replacing drops the variants not given and keeps the creation time.
	tpl2 := &store.Template{AccountID: a.ID, Name: "welcome", DefaultLanguage: "fr",
		Variants: []store.TemplateVariant{{Language: "fr", Text: "Bonjour"}}}
	if created, err := st.PutTemplate(ctx, tpl2); err != nil || created || !tpl2.CreatedAt.Equal(got.CreatedAt) {
		t.Fatalf("replace: %v %v %v/%v", created, err, tpl2.CreatedAt, got.CreatedAt)
	}
	got, _ = st.GetTemplate(ctx, a.ID, "welcome")
	if len(got.Variants) != 1 || got.Variants[0].Text != "Bonjour" || len(got.Variables) != 0 || got.DefaultLanguage != "fr" {
		t.Fatalf("replaced %+v", got)
	}
	st.PutTemplate(ctx, &store.Template{AccountID: a.ID, Name: "alert", DefaultLanguage: "en",
		Variants: []store.TemplateVariant{{Language: "en", Subject: "Alert", Text: "long body"}, {Language: "de", Text: "x"}}})
	list, err := st.ListTemplates(ctx, a.ID, 10, 0)
	if err != nil || len(list) != 2 || list[0].Name != "alert" || len(list[0].Variants) != 2 || list[0].Variants[1].Subject != "Alert" ||
		list[0].Variants[1].Text != "" || list[1].Name != "welcome" {
		t.Fatalf("list %+v, %v", list, err)
	}
	if list, _ := st.ListTemplates(ctx, a.ID, 1, 1); len(list) != 1 || list[0].Name != "welcome" {
		t.Fatalf("page %+v", list)
	}
	b := newAccount(t, st)
	if _, err := st.GetTemplate(ctx, b.ID, "welcome"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account reads it: %v", err)
	}
	if err := st.DeleteTemplate(ctx, b.ID, "welcome"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account deletes it: %v", err)
	}
	if err := st.DeleteTemplate(ctx, a.ID, "welcome"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetTemplate(ctx, a.ID, "welcome"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	// A template made again under the name has none of the old variants.
	st.PutTemplate(ctx, &store.Template{AccountID: a.ID, Name: "welcome", DefaultLanguage: "en", Variants: []store.TemplateVariant{{Language: "en", Text: "new"}}})
	if got, _ := st.GetTemplate(ctx, a.ID, "welcome"); len(got.Variants) != 1 {
		t.Fatalf("again %+v", got)
	}
}
