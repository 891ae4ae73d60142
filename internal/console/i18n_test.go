package console

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/store"
)

// Every key is in every catalogue, with the same verbs.
func TestCataloguesComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[dvs]`)
	for _, lang := range Languages {
		for k, en := range catalogues["en"] {
			s, ok := catalogues[lang][k]
			if !ok || strings.TrimSpace(s) == "" {
				t.Errorf("%s: %q is missing", lang, k)
				continue
			}
			if a, b := verbs.FindAllString(en, -1), verbs.FindAllString(s, -1); strings.Join(a, "") != strings.Join(b, "") {
				t.Errorf("%s: %q has verbs %v, English %v", lang, k, b, a)
			}
		}
		for k := range catalogues[lang] {
			if _, ok := catalogues["en"][k]; !ok {
				t.Errorf("%s: %q is not in English", lang, k)
			}
		}
	}
}

// Every word of every template goes through the translator: once the
// actions ({{…}}), tags and entities are taken out, no letter is left;
// no attribute a person reads holds a literal word; and every literal key
// the templates pass to T exists. The dynamic keys (status., role.,
// language., title., error., nav.) are checked by listing them.
func TestTemplatesTranslated(t *testing.T) {
	actions := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tags := regexp.MustCompile(`(?s)<[^>]*>`)
	entities := regexp.MustCompile(`&[a-z]+;`)
	letters := regexp.MustCompile(`\p{L}{2,}`)
	readAttr := regexp.MustCompile(`(?:placeholder|title|alt|aria-label)="[^"{]*\p{L}`)
	keys := regexp.MustCompile(`T "([a-z_.0-9]+)"`)
	allowed := map[string]bool{"omnigate": true, "CSV": true}
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, path)
		src := string(b)
		for _, k := range keys.FindAllStringSubmatch(src, -1) {
			if _, ok := catalogues["en"][k[1]]; !ok {
				t.Errorf("%s: key %q is in no catalogue", path, k[1])
			}
		}
		if a := readAttr.FindString(src); a != "" {
			t.Errorf("%s: untranslated attribute %s", path, a)
		}
		text := entities.ReplaceAllString(tags.ReplaceAllString(actions.ReplaceAllString(src, " "), " "), " ")
		// <title> and <svg><title> content is an action; <script> has none.
		for _, w := range letters.FindAllString(text, -1) {
			if !allowed[w] {
				t.Errorf("%s: untranslated text %q", path, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dynamic []string
	for _, s := range []string{"scheduled", "sent", "buffered", "delivered", "expired", "delivery_failed"} {
		dynamic = append(dynamic, "status."+s)
	}
	for _, r := range []string{"owner", "admin", "developer", "compliance", "billing", "operator"} {
		dynamic = append(dynamic, "role."+r)
	}
	for _, l := range Languages {
		dynamic = append(dynamic, "language."+l)
	}
	for _, e := range []string{store.EventBounced, store.EventComplained, store.EventUnsubscribed, store.EventOpened, store.EventClicked, store.EventDelayed, store.EventRead, store.EventFallback} {
		if !store.ValidEvent(e) {
			t.Errorf("%s is no event", e)
		}
		dynamic = append(dynamic, "event."+e)
	}
	for _, p := range pageNames {
		dynamic = append(dynamic, "title."+p)
	}
	for _, n := range nav {
		dynamic = append(dynamic, n.key)
	}
	for _, s := range listStatuses {
		dynamic = append(dynamic, "status."+string(s))
	}
	for _, k := range dynamic {
		if _, ok := catalogues["en"][k]; !ok {
			t.Errorf("dynamic key %q is in no catalogue", k)
		}
	}
}

// The Go code's literal keys (errors, page titles) exist too.
func TestCodeKeys(t *testing.T) {
	keys := regexp.MustCompile(`"((?:error|title|profile|nav|status|role)\.[a-z_]+)"`)
	for _, f := range []string{"console.go", "pages.go", "opqueues.go", "opimports.go", "opsystem.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys.FindAllStringSubmatch(string(b), -1) {
			if _, ok := catalogues["en"][k[1]]; !ok {
				t.Errorf("%s: key %q is in no catalogue", f, k[1])
			}
		}
	}
}
