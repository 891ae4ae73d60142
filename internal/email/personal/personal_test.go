package personal

import (
	"testing"

	"github.com/omnigate/omnigate/internal/message"
)

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"name": "Ann", "code": "{{name}}"}
	for in, want := range map[string]string{
		"Hi {{name}}!":         "Hi Ann!",
		"Hi {{ name }}":        "Hi Ann",
		"{{code}} {{unknown}}": "{{name}} {{unknown}}", // values are not substituted again
		"open {{name":          "open {{name",
		"":                     "",
		"{{name}}{{name}}":     "AnnAnn",
	} {
		if got := Substitute(in, vars); got != want {
			t.Errorf("Substitute(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForLeavesTheMessageAlone(t *testing.T) {
	m := &message.Message{Body: "Hi {{name}}", Content: &message.Content{Email: &message.Email{Subject: "For {{name}}", HTML: "<p>{{name}}</p>",
		Substitute: true, Recipients: []message.EmailRecipient{{Name: "Ann A", Variables: map[string]string{"name": "Ann"}}, {}}}}}
	a := For(m, 0)
	if a.Body != "Hi Ann" || a.Content.Email.Subject != "For Ann" || a.Content.Email.HTML != "<p>Ann</p>" || Name(m, 0) != "Ann A" {
		t.Fatalf("recipient 0: %+v %+v", a, a.Content.Email)
	}
	if m.Body != "Hi {{name}}" || m.Content.Email.Subject != "For {{name}}" {
		t.Fatal("For changed the message")
	}
	if b := For(m, 1); b.Body != "Hi {{name}}" || Name(m, 5) != "" {
		t.Fatalf("recipient 1: %+v", b)
	}
}

func FuzzSubstitute(f *testing.F) {
	f.Add("Hi {{name}} {{", "name", "x")
	f.Fuzz(func(t *testing.T, s, k, v string) {
		Substitute(s, map[string]string{k: v})
	})
}
