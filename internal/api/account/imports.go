package account

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
)

// UseImports serves the account's import jobs (POST /consents/imports,
// POST /suppressions/imports, GET /imports…) with rn.
func (a *API) UseImports(rn *imports.Runner) { a.imports = rn }

// registerImports adds the import jobs' routes.
func (a *API) registerImports(mux *http.ServeMux) []string {
	a.rest.Handle(mux, "POST /consents/imports", a.startConsentImport)
	a.rest.Handle(mux, "POST /suppressions/imports", a.startSuppressionImport)
	a.rest.Handle(mux, "GET /imports", a.listImports)
	a.rest.Handle(mux, "GET /imports/{id}", a.getImport)
	// (Not "/suppressions/imports": a catch-all for it would collide with
	// DELETE /suppressions/{recipient}, as on export and import.)
	return []string{"/consents/imports", "/imports", "/imports/{id}"}
}

// maxStreamedImport bounds an import job's file: it is spooled to a
// temporary file and streams from there in bounded memory (about 25
// million suppressions of email addresses).
const maxStreamedImport = 2 << 30

// start answers 202 with an import of kind for the account running on the
// upload (spooled to a temporary file), actor named as who imported. One
// import of each kind runs at a time for an account.
func (a *API) start(w http.ResponseWriter, r *http.Request, kind, actor string) error {
	if a.imports == nil {
		return rest.NewProblem(http.StatusServiceUnavailable, rest.CodeInternal, "", "imports are not served here")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "text/csv" && mt != "text/plain" && mt != "application/csv") {
			return rest.NewProblem(http.StatusUnsupportedMediaType, rest.CodeInvalidParams, "", "send the file as text/csv")
		}
	}
	pr := rest.Principal(r.Context())
	recent, err := a.store.ListImports(r.Context(), pr.AccountID, pr.Test, 20)
	if err != nil {
		return err
	}
	for _, im := range recent {
		if im.State == store.ImportRunning && im.Kind == kind {
			return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "", "import "+im.ID+" is running; start the next one when it has ended")
		}
	}
	f, size, err := imports.Spool(r.Body, maxStreamedImport)
	if err != nil {
		return rest.NewProblem(http.StatusRequestEntityTooLarge, rest.CodeInvalidParams, "", "the file is too large or the upload broke: "+err.Error())
	}
	if size == 0 {
		f.Close()
		os.Remove(f.Name())
		return rest.Invalid("file", "the file is empty")
	}
	im, err := a.imports.Job(r.Context(), kind, pr.AccountID, pr.Test, struct{}{}, "api key "+pr.KeyID, size)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	view := imports.ViewOf(im) // before the import runs: it changes im
	a.imports.Go(f, func(ctx context.Context, body io.Reader) error {
		return a.imports.RunAccount(ctx, im, body, actor, nil)
	})
	// The log keeps what was started, not the file's numbers.
	audit.Noted(r.Context()).Changed(nil, view)
	w.Header().Set("Location", "/imports/"+im.ID)
	rest.WriteJSON(w, http.StatusAccepted, view)
	return nil
}

// startConsentImport answers POST /consents/imports with the CSV body of
// POST /consents/import, of any size up to maxStreamedImport: 202 and the
// import, which ends done (every row) or failed (none; each bad row named
// by its line). A test key's file is checked, never stored.
func (a *API) startConsentImport(w http.ResponseWriter, r *http.Request) error {
	return a.start(w, r, store.ImportConsents, "api key "+rest.Principal(r.Context()).KeyID)
}

// startSuppressionImport answers POST /suppressions/imports with the CSV
// body of POST /suppressions/import, of any size up to maxStreamedImport:
// 202 and the import; imported counts the suppressions (new or already
// listed).
func (a *API) startSuppressionImport(w http.ResponseWriter, r *http.Request) error {
	return a.start(w, r, store.ImportSuppressions, "import by api key "+rest.Principal(r.Context()).KeyID)
}

// getImport answers GET /imports/{id}: one of the account's imports (a
// test key sees only imports made with test keys).
func (a *API) getImport(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	im, err := a.store.GetImport(r.Context(), pr.AccountID, pr.Test, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "id", "no such import")
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, imports.ViewOf(im))
	return nil
}

// listImports answers GET /imports: {"items":[import, …]}, the account's
// last 100, newest first.
func (a *API) listImports(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	list, err := a.store.ListImports(r.Context(), pr.AccountID, pr.Test, 100)
	if err != nil {
		return err
	}
	out := make([]imports.View, 0, len(list))
	for i := range list {
		out = append(out, imports.ViewOf(&list[i]))
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items []imports.View `json:"items"`
	}{out})
	return nil
}
