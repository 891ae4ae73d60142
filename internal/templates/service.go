package templates

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/store"
)

// Bounds of what a template may hold, and of a send's variables.
const (
	MaxName      = 64
	MaxVariants  = 32
	MaxVariables = 100
	MaxDefault   = 1024 // bytes of a variable's default
	MaxSubject   = 998  // bytes: one header line (RFC 5322)
	MaxText      = 256 << 10
	MaxHTML      = 512 << 10
	MaxValue     = 16 << 10 // bytes of one variable's value in a send
	MaxLanguage  = 35
)

// Error is a template or a send that cannot be used: Field names what is
// wrong ("name", "variants[fr].html", "variables.first_name", "template"),
// Reason says why.
type Error struct {
	Field, Reason string
	notFound      bool
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

// Is makes an unknown template errors.Is store.ErrNotFound.
func (e *Error) Is(target error) bool { return e.notFound && target == store.ErrNotFound }

// Rendered is a template filled in for one send.
type Rendered struct {
	Name     string `json:"name"`
	Language string `json:"language"` // the variant used
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	HTML     string `json:"html"`
}

// Store is what the service keeps templates in (store.Store is one).
type Store interface {
	PutTemplate(ctx context.Context, t *store.Template) (bool, error)
	GetTemplate(ctx context.Context, accountID, name string) (*store.Template, error)
	ListTemplates(ctx context.Context, accountID string, limit, offset int) ([]store.Template, error)
	DeleteTemplate(ctx context.Context, accountID, name string) error
}

// Service checks, stores and renders templates.
type Service struct{ st Store }

// New makes a service over st.
func New(st Store) *Service { return &Service{st: st} }

// Put checks a template and stores it (replacing one of the same name);
// it reports whether it is new. Languages are normalised (fr-ca → fr-CA).
func (s *Service) Put(ctx context.Context, t *store.Template) (bool, error) {
	if err := Check(t); err != nil {
		return false, err
	}
	t.UpdatedAt = time.Now().UTC()
	t.CreatedAt = t.UpdatedAt
	return s.st.PutTemplate(ctx, t)
}

// Get reads one template.
func (s *Service) Get(ctx context.Context, accountID, name string) (*store.Template, error) {
	t, err := s.st.GetTemplate(ctx, accountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unknown(name)
	}
	return t, err
}

// List lists an account's templates by name.
func (s *Service) List(ctx context.Context, accountID string, limit, offset int) ([]store.Template, error) {
	return s.st.ListTemplates(ctx, accountID, limit, offset)
}

// Delete deletes one template.
func (s *Service) Delete(ctx context.Context, accountID, name string) error {
	err := s.st.DeleteTemplate(ctx, accountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return unknown(name)
	}
	return err
}

// NotFound is the error for a template that does not exist (or that the
// caller may not see).
func NotFound(name string) error { return unknown(name) }

func unknown(name string) *Error {
	return &Error{Field: "template", Reason: fmt.Sprintf("no template named %q", clip(name)), notFound: true}
}

// Render fills in a stored template for a send: the variant for language
// (exact, then its base language, then the template's default), each
// variable from vars, else its inline default, else the template's.
// Unknown templates and variables — given but not declared, or needed and
// given nowhere — are *Error naming them.
func (s *Service) Render(ctx context.Context, accountID, name, language string, vars map[string]string) (Rendered, error) {
	t, err := s.st.GetTemplate(ctx, accountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return Rendered{}, unknown(name)
	}
	if err != nil {
		return Rendered{}, err
	}
	return RenderTemplate(t, language, vars)
}

// RenderTemplate renders t (see Render).
func RenderTemplate(t *store.Template, language string, vars map[string]string) (Rendered, error) {
	if language != "" {
		l, ok := NormalizeLanguage(language)
		if !ok {
			return Rendered{}, &Error{Field: "language", Reason: fmt.Sprintf("%q is not a language tag such as en, fr or fr-CA", clip(language))}
		}
		language = l
	}
	v := pick(t, language)
	if v == nil {
		return Rendered{}, &Error{Field: "language", Reason: "the template has no variant in " + language + ", its base language or its default language " + t.DefaultLanguage}
	}
	if len(vars) > MaxVariables {
		return Rendered{}, &Error{Field: "variables", Reason: fmt.Sprintf("at most %d variables", MaxVariables)}
	}
	used := map[string]bool{}
	parts := make([]parsed, 3)
	for i, src := range []string{v.Subject, v.Text, v.HTML} {
		p, err := parse(src)
		if err != nil { // stored templates were checked; this is a damaged row
			return Rendered{}, fmt.Errorf("template %s (%s): %w", t.Name, v.Language, err)
		}
		parts[i] = p
	}
	for _, tv := range t.Variants {
		for _, src := range []string{tv.Subject, tv.Text, tv.HTML} {
			if p, err := parse(src); err == nil {
				p.names(used)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		_, declared := t.Variables[k]
		if _, inUse := used[k]; !declared && !inUse {
			return Rendered{}, &Error{Field: "variables." + clip(k), Reason: "the template " + t.Name + " has no variable " + clip(k)}
		}
		if val := vars[k]; len(val) > MaxValue || !utf8.ValidString(val) {
			return Rendered{}, &Error{Field: "variables." + k, Reason: fmt.Sprintf("a value has at most %d bytes of UTF-8", MaxValue)}
		}
	}
	r := Rendered{Name: t.Name, Language: v.Language}
	var err error
	if r.Subject, err = parts[0].render(vars, t.Variables, false); err != nil {
		return Rendered{}, err
	}
	if strings.ContainsAny(r.Subject, "\r\n") {
		return Rendered{}, &Error{Field: "variables", Reason: "a variable put a line break into the subject"}
	}
	if r.Text, err = parts[1].render(vars, t.Variables, false); err != nil {
		return Rendered{}, err
	}
	if r.HTML, err = parts[2].render(vars, t.Variables, true); err != nil {
		return Rendered{}, err
	}
	return r, nil
}

// pick chooses the variant for a language: exact, then the base
// language (fr for fr-CA), then the template's default language.
func pick(t *store.Template, language string) *store.TemplateVariant {
	find := func(l string) *store.TemplateVariant {
		for i := range t.Variants {
			if strings.EqualFold(t.Variants[i].Language, l) {
				return &t.Variants[i]
			}
		}
		return nil
	}
	if language != "" {
		if v := find(language); v != nil {
			return v
		}
		if base, _, ok := strings.Cut(language, "-"); ok {
			if v := find(base); v != nil {
				return v
			}
		}
	}
	return find(t.DefaultLanguage)
}

// NormalizeLanguage checks a BCP 47 language tag of the common shape
// (language[-script][-region][-variant…]) and writes it in its usual case:
// fr-ca → fr-CA, zh-hant-tw → zh-Hant-TW.
func NormalizeLanguage(s string) (string, bool) {
	if s == "" || len(s) > MaxLanguage {
		return "", false
	}
	subs := strings.Split(strings.ReplaceAll(s, "_", "-"), "-")
	for i, sub := range subs {
		if sub == "" || len(sub) > 8 {
			return "", false
		}
		for _, r := range sub {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return "", false
			}
		}
		switch {
		case i == 0:
			if len(sub) < 2 || len(sub) > 3 {
				return "", false
			}
			subs[i] = strings.ToLower(sub)
		case len(sub) == 2:
			subs[i] = strings.ToUpper(sub)
		case len(sub) == 4:
			subs[i] = strings.ToUpper(sub[:1]) + strings.ToLower(sub[1:])
		default:
			subs[i] = strings.ToLower(sub)
		}
	}
	return strings.Join(subs, "-"), true
}

// ValidName reports whether s may name a template: 1 to 64 letters,
// digits, '_', '-' or '.', starting with a letter or digit.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxName {
		return false
	}
	for i, r := range s {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || r != '_' && r != '-' && r != '.') {
			return false
		}
	}
	return true
}

// Check validates a template before it is stored, normalising its
// languages: its name, default language (which must have a variant),
// variables and defaults, and each variant's parts (size, UTF-8, syntax,
// and every variable used without an inline default declared).
func Check(t *store.Template) error {
	if !ValidName(t.Name) {
		return &Error{Field: "name", Reason: fmt.Sprintf("a name is 1 to %d letters, digits, _, - or ., starting with a letter or digit", MaxName)}
	}
	def, ok := NormalizeLanguage(t.DefaultLanguage)
	if !ok {
		return &Error{Field: "defaultLanguage", Reason: "give the default language as a tag such as en, fr or ar"}
	}
	t.DefaultLanguage = def
	if len(t.Variables) > MaxVariables {
		return &Error{Field: "variables", Reason: fmt.Sprintf("at most %d variables", MaxVariables)}
	}
	for name, d := range t.Variables {
		if !validName(name) {
			return &Error{Field: "variables." + clip(name), Reason: "a variable's name is a letter or _ then up to 63 letters, digits, _, - or ."}
		}
		if d != nil && (len(*d) > MaxDefault || !utf8.ValidString(*d) || strings.ContainsRune(*d, 0)) {
			return &Error{Field: "variables." + name, Reason: fmt.Sprintf("a default has at most %d bytes of UTF-8", MaxDefault)}
		}
	}
	if len(t.Variants) == 0 || len(t.Variants) > MaxVariants {
		return &Error{Field: "variants", Reason: fmt.Sprintf("give 1 to %d variants, one per language", MaxVariants)}
	}
	seen := map[string]bool{}
	hasDefault := false
	for i := range t.Variants {
		v := &t.Variants[i]
		l, ok := NormalizeLanguage(v.Language)
		if !ok {
			return &Error{Field: fmt.Sprintf("variants[%d].language", i), Reason: "give a language tag such as en, fr, fr-CA or ar"}
		}
		if seen[l] {
			return &Error{Field: "variants[" + l + "]", Reason: "two variants for " + l}
		}
		seen[l], v.Language = true, l
		hasDefault = hasDefault || l == def
		if v.Text == "" && v.HTML == "" {
			return &Error{Field: "variants[" + l + "]", Reason: "a variant needs text, html or both"}
		}
		for _, part := range []struct {
			field, src string
			max        int
		}{{"subject", v.Subject, MaxSubject}, {"text", v.Text, MaxText}, {"html", v.HTML, MaxHTML}} {
			field := "variants[" + l + "]." + part.field
			switch {
			case len(part.src) > part.max:
				return &Error{Field: field, Reason: fmt.Sprintf("at most %d bytes", part.max)}
			case !utf8.ValidString(part.src) || strings.ContainsRune(part.src, 0):
				return &Error{Field: field, Reason: "not UTF-8 text"}
			case part.field == "subject" && strings.ContainsAny(part.src, "\r\n"):
				return &Error{Field: field, Reason: "a subject is one line"}
			}
			p, err := parse(part.src)
			if err != nil {
				return &Error{Field: field, Reason: err.Error()}
			}
			needs := map[string]bool{}
			p.names(needs)
			for _, n := range slices.Sorted(maps.Keys(needs)) {
				if _, declared := t.Variables[n]; needs[n] && !declared {
					return &Error{Field: field, Reason: "uses variable " + n + ", which is not declared: add it to variables, or give it a default here ({{" + n + "|…}})"}
				}
			}
		}
	}
	if !hasDefault {
		return &Error{Field: "defaultLanguage", Reason: "the default language " + def + " has no variant"}
	}
	return nil
}
