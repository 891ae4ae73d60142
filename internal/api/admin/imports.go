package admin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
)

// Upload limits of the operator's imports. Every file streams; a national
// registry of 200 million numbers is about 3 GiB.
const (
	maxRegistryUpload = 16 << 30
	maxPriceUpload    = 1 << 30
	maxNumbersUpload  = 1 << 30
)

// UseImports serves the import jobs (/admin/imports…) with rn.
func (a *API) UseImports(rn *imports.Runner) { a.imports = rn }

func (a *API) registerImports(mux *http.ServeMux) {
	a.handle(mux, "POST /admin/imports/dnd/{registry}", a.startDNDImport)
	a.handle(mux, "POST /admin/imports/prices", a.startPriceImport)
	a.handle(mux, "POST /admin/imports/numbers", a.startNumbersImport)
	a.handle(mux, "GET /admin/imports", a.listImports)
	a.handle(mux, "GET /admin/imports/{id}", a.getImport)
}

func (a *API) runner() (*imports.Runner, error) {
	if a.imports == nil {
		return nil, &problem{http.StatusServiceUnavailable, 99, "", "imports are not served here", nil}
	}
	return a.imports, nil
}

// dndParams reads a registry import's path and query.
func dndParams(r *http.Request) (imports.DNDParams, error) {
	registry := r.PathValue("registry")
	if registry == "" || len(registry) > 64 {
		return imports.DNDParams{}, invalid("registry", "name the registry in the path, e.g. /admin/dnd/IN-NCPR")
	}
	scope, err := compliance.DNDScope(r.URL.Query().Get("scope"))
	if err != nil {
		return imports.DNDParams{}, invalid("scope", err.Error())
	}
	replace := false
	if v := r.URL.Query().Get("replace"); v != "" {
		if replace, err = strconv.ParseBool(v); err != nil {
			return imports.DNDParams{}, invalid("replace", "replace is true or false")
		}
	}
	return imports.DNDParams{Registry: registry, Scope: scope, Replace: replace}, nil
}

// spool receives an upload into a temporary file; too large is 413.
func spool(r *http.Request, limit int64, what string) (fileSize int64, f *os.File, err error) {
	file, n, err := imports.Spool(r.Body, limit)
	if err != nil {
		return 0, nil, &problem{http.StatusRequestEntityTooLarge, 10, "", what + " is larger than " + strconv.FormatInt(limit>>20, 10) + " MiB, or the upload broke: " + err.Error(), nil}
	}
	if n == 0 {
		file.Close()
		os.Remove(file.Name())
		return 0, nil, invalid("file", "the file is empty")
	}
	return n, file, nil
}

// start answers 202 with a new import running on the spooled upload.
func (a *API) start(w http.ResponseWriter, r *http.Request, kind string, params any, limit int64, what string,
	run func(ctx context.Context, rn *imports.Runner, im *store.Import, f io.Reader) error) error {
	rn, err := a.runner()
	if err != nil {
		return err
	}
	size, f, err := spool(r, limit, what)
	if err != nil {
		return err
	}
	im, err := rn.Job(r.Context(), kind, "", false, params, "admin api "+actor(r), size)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	view := imports.ViewOf(im) // before the import runs: it changes im
	rn.Go(f, func(ctx context.Context, body io.Reader) error { return run(ctx, rn, im, body) })
	// The log keeps what was started, not the file's numbers.
	audit.Noted(r.Context()).Changed(nil, view)
	w.Header().Set("Location", "/admin/imports/"+im.ID)
	writeJSON(w, http.StatusAccepted, view)
	return nil
}

// startDNDImport: POST /admin/imports/dnd/{registry}[?scope=…&replace=…]
// with a registry file: 202 and the import, which streams and merges in
// the background.
func (a *API) startDNDImport(w http.ResponseWriter, r *http.Request) error {
	p, err := dndParams(r)
	if err != nil {
		return err
	}
	return a.start(w, r, store.ImportDND, p, maxRegistryUpload, "the registry file",
		func(ctx context.Context, rn *imports.Runner, im *store.Import, f io.Reader) error {
			return rn.RunDND(ctx, im, f, p, nil)
		})
}

// startPriceImport: POST /admin/imports/prices[?account=ID] with a price
// file: 202 and the import.
func (a *API) startPriceImport(w http.ResponseWriter, r *http.Request) error {
	accountID := r.URL.Query().Get("account")
	if accountID != "" {
		if _, err := a.store.GetAccount(r.Context(), accountID); err != nil {
			return err
		}
	}
	return a.start(w, r, store.ImportPrices, map[string]string{"account": accountID}, maxPriceUpload, "the price file",
		func(ctx context.Context, rn *imports.Runner, im *store.Import, f io.Reader) error {
			err := rn.RunPrices(ctx, im, f, accountID, a.billing.Channels(), nil)
			if err == nil {
				a.billing.Pricer().Invalidate()
			}
			return err
		})
}

// startNumbersImport: POST /admin/imports/numbers with an inventory file
// (docs/numbers.md): 202 and the import.
func (a *API) startNumbersImport(w http.ResponseWriter, r *http.Request) error {
	return a.start(w, r, store.ImportNumbers, struct{}{}, maxNumbersUpload, "the numbers file",
		func(ctx context.Context, rn *imports.Runner, im *store.Import, f io.Reader) error {
			_, err := rn.RunNumbers(ctx, im, f, nil)
			return err
		})
}

// getImport: GET /admin/imports/{id}, an operator's import.
func (a *API) getImport(w http.ResponseWriter, r *http.Request) error {
	im, err := a.store.GetImport(r.Context(), "", false, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, imports.ViewOf(im))
	return nil
}

// listImports: GET /admin/imports, the operator's last 100 imports.
func (a *API) listImports(w http.ResponseWriter, r *http.Request) error {
	list, err := a.store.ListImports(r.Context(), "", false, 100)
	if err != nil {
		return err
	}
	out := make([]imports.View, 0, len(list))
	for i := range list {
		out = append(out, imports.ViewOf(&list[i]))
	}
	items(w, out)
	return nil
}

// importDND: POST /admin/dnd/{registry}[?scope=all|marketing&replace=true]
// with a CSV body of numbers or prefixes (and optionally the date listed):
// the file streams into an import and the answer waits for its end. All
// rows or none.
func (a *API) importDND(w http.ResponseWriter, r *http.Request) error {
	rn, err := a.runner()
	if err != nil {
		return err
	}
	p, err := dndParams(r)
	if err != nil {
		return err
	}
	im, err := rn.Job(r.Context(), store.ImportDND, "", false, p, "admin api "+actor(r), max(r.ContentLength, 0))
	if err != nil {
		return err
	}
	err = rn.RunDND(r.Context(), im, http.MaxBytesReader(w, r.Body, maxRegistryUpload), p, nil)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &problem{http.StatusRequestEntityTooLarge, 10, "", "the registry file is larger than 16 GiB", nil}
	case err != nil && err.Error() == "the file has no numbers":
		return invalid("file", err.Error())
	case err != nil:
		return err
	}
	out := struct {
		Import   string `json:"import"`
		Registry string `json:"registry"`
		Scope    string `json:"scope"`
		Replaced bool   `json:"replaced"`
		Imported int64  `json:"imported"`
	}{im.ID, p.Registry, p.Scope, p.Replace, im.Imported}
	audit.Noted(r.Context()).Changed(nil, out) // the file's numbers are not the log's to keep
	writeJSON(w, http.StatusOK, out)
	return nil
}
