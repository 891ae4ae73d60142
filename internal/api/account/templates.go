package account

import (
	"errors"
	"net/http"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/templates"
)

// maxTemplateBody bounds a template's JSON: every variant at its largest
// does not fit, a real template does (the fields have their own bounds).
const maxTemplateBody = 4 << 20

// registerTemplates adds the template routes (docs/templates.md).
func (a *API) registerTemplates(mux *http.ServeMux) []string {
	a.rest.Handle(mux, "GET /templates", a.listTemplates)
	a.rest.Handle(mux, "POST /templates", a.createTemplate)
	a.rest.Handle(mux, "GET /templates/{name}", a.getTemplate)
	a.rest.Handle(mux, "PUT /templates/{name}", a.putTemplate)
	a.rest.Handle(mux, "DELETE /templates/{name}", a.deleteTemplate)
	a.rest.Handle(mux, "POST /templates/{name}/preview", a.previewTemplate)
	return []string{"/templates", "/templates/{name}", "/templates/{name}/preview"}
}

// templateProblem turns the service's refusals into the API's errors.
func templateProblem(err error) error {
	var te *templates.Error
	switch {
	case errors.Is(err, store.ErrNotFound) && errors.As(err, &te):
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "name", te.Reason)
	case errors.As(err, &te):
		return rest.Invalid(te.Field, te.Field+": "+te.Reason)
	}
	return err
}

// templateBody is a template as a client sends it.
type templateBody struct {
	Name            string                  `json:"name"`
	DefaultLanguage string                  `json:"defaultLanguage"`
	Variables       map[string]*string      `json:"variables"`
	Variants        []store.TemplateVariant `json:"variants"`
}

// readTemplate decodes and checks a template; name, when set, is the
// path's, which the body may repeat but not contradict.
func (a *API) readTemplate(w http.ResponseWriter, r *http.Request, name string) (*store.Template, error) {
	body, p := rest.ReadBody(w, r, maxTemplateBody)
	if p != nil {
		return nil, p
	}
	var b templateBody
	if p := decodeStrict(body, &b); p != nil {
		return nil, p
	}
	if name != "" {
		if b.Name != "" && b.Name != name {
			return nil, rest.Invalid("name", "the body names another template than the path")
		}
		b.Name = name
	}
	if b.Name == "" {
		return nil, rest.Missing("name")
	}
	t := &store.Template{AccountID: rest.Principal(r.Context()).AccountID, Name: b.Name, DefaultLanguage: b.DefaultLanguage,
		Variables: b.Variables, Variants: b.Variants}
	if t.Variables == nil {
		t.Variables = map[string]*string{}
	}
	if err := templates.Check(t); err != nil {
		return nil, templateProblem(err)
	}
	return t, nil
}

// listTemplates answers GET /templates?limit&offset: names, default
// languages, variables and each variant's language and subject. None for a
// test key.
func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) error {
	f, p := rest.ListFilter(r.URL.Query())
	if p != nil {
		return p
	}
	list := []store.Template{}
	if pr := rest.Principal(r.Context()); !pr.Test {
		var err error
		if list, err = a.tpl.List(r.Context(), pr.AccountID, f.Limit, f.Offset); err != nil {
			return err
		}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Offset int              `json:"offset"`
		Limit  int              `json:"limit"`
		Count  int              `json:"count"`
		Items  []store.Template `json:"items"`
	}{f.Offset, f.Limit, len(list), list})
	return nil
}

// createTemplate answers POST /templates: 201, or 409 if the name is
// taken (PUT replaces). A test key's template is checked and echoed, never
// stored.
func (a *API) createTemplate(w http.ResponseWriter, r *http.Request) error {
	t, err := a.readTemplate(w, r, "")
	if err != nil {
		return err
	}
	pr := rest.Principal(r.Context())
	if !pr.Test {
		if _, err := a.tpl.Get(r.Context(), pr.AccountID, t.Name); err == nil {
			return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "name", "a template named "+t.Name+" exists; PUT /templates/"+t.Name+" replaces it")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return a.saveTemplate(w, r, t)
}

// putTemplate answers PUT /templates/{name}: creates (201) or replaces
// (200) the template, every variant at once.
func (a *API) putTemplate(w http.ResponseWriter, r *http.Request) error {
	t, err := a.readTemplate(w, r, r.PathValue("name"))
	if err != nil {
		return err
	}
	return a.saveTemplate(w, r, t)
}

func (a *API) saveTemplate(w http.ResponseWriter, r *http.Request, t *store.Template) error {
	if rest.Principal(r.Context()).Test {
		rest.WriteJSON(w, http.StatusCreated, t)
		return nil
	}
	created, err := a.tpl.Put(r.Context(), t)
	if err != nil {
		return templateProblem(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	rest.WriteJSON(w, status, t)
	return nil
}

// getTemplate answers GET /templates/{name}; a test key sees none.
func (a *API) getTemplate(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	name := r.PathValue("name")
	if pr.Test {
		return templateProblem(templates.NotFound(name))
	}
	t, err := a.tpl.Get(r.Context(), pr.AccountID, name)
	if err != nil {
		return templateProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, t)
	return nil
}

// deleteTemplate answers DELETE /templates/{name} with 204; a test key
// sees none to delete.
func (a *API) deleteTemplate(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	name := r.PathValue("name")
	if pr.Test {
		return templateProblem(templates.NotFound(name))
	}
	if err := a.tpl.Delete(r.Context(), pr.AccountID, name); err != nil {
		return templateProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// previewTemplate answers POST /templates/{name}/preview {language,
// variables} with the rendered {name, language, subject, text, html}: what
// a send would carry. A test key sees no template.
func (a *API) previewTemplate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Language  string            `json:"language"`
		Variables map[string]string `json:"variables"`
	}
	body, p := rest.ReadBody(w, r, a.rest.MaxBody())
	if p != nil {
		return p
	}
	if len(body) > 0 {
		if p := decodeStrict(body, &req); p != nil {
			return p
		}
	}
	pr := rest.Principal(r.Context())
	name := r.PathValue("name")
	if pr.Test {
		return templateProblem(templates.NotFound(name))
	}
	out, err := a.tpl.Render(r.Context(), pr.AccountID, name, req.Language, req.Variables)
	if err != nil {
		return templateProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}
