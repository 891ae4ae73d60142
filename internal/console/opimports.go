package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// Do-not-disturb registry imports: the operator's imports (those the
// admin API and CLI start too) with their progress, and a form that
// uploads a registry file and starts one.

func init() {
	pageNames = append(pageNames, "op_imports", "op_import")
}

// maxRegistryUpload bounds a registry file sent from the console; larger
// registries go through the admin API or the CLI, which stream.
const maxRegistryUpload = 2 << 30

// maxUploadField bounds each small field of the upload form.
const maxUploadField = 1 << 10

// registerOpImports adds the imports pages.
func (c *Console) registerOpImports(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/operator/imports", c.signed(users.OperateImports, c.opImports))
	mux.HandleFunc("GET /console/operator/imports/{id}", c.signed(users.OperateImports, c.opImport))
	mux.HandleFunc("POST /console/operator/imports", c.opStartImport)
}

// importRow is an import with its progress.
type importRow struct {
	imports.View
	Registry string
	Percent  int // of the bytes read, -1 when the size is unknown
}

func importRowOf(im *store.Import) importRow {
	v := imports.ViewOf(im)
	r := importRow{View: v, Percent: -1}
	if im.Kind == store.ImportDND {
		var p imports.DNDParams
		if json.Unmarshal([]byte(im.Params), &p) == nil {
			r.Registry = p.Registry
		}
	}
	if im.Size > 0 {
		r.Percent = int(min(100, im.BytesRead*100/im.Size))
	}
	if im.State == store.ImportDone {
		r.Percent = 100
	}
	return r
}

func (c *Console) opImports(q *req) { c.showImports(q, http.StatusOK, "") }

func (c *Console) showImports(q *req, status int, errMsg string) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	list, err := c.st.ListImports(ctx, "", false, 100)
	if c.storeFailed(q, err) {
		return
	}
	rows := make([]importRow, 0, len(list))
	for i := range list {
		rows = append(rows, importRowOf(&list[i]))
	}
	p := q.page("title.op_imports", map[string]any{"Imports": rows, "Max": maxRegistryUpload >> 20, "CanStart": c.ops.Imports != nil})
	p.Error = errMsg
	c.render(q.w, status, "op_imports", p)
}

func (c *Console) opImport(q *req) {
	ctx, cancel := ctxTimeout(q.r)
	defer cancel()
	im, err := c.st.GetImport(ctx, "", false, q.r.PathValue("id"))
	if c.storeFailed(q, err) {
		return
	}
	c.render(q.w, http.StatusOK, "op_import", q.page("title.op_import", importRowOf(im)))
}

// opStartImport receives the upload form (multipart: csrf, registry,
// scope, replace, then the file) as a stream: the CSRF token and the role
// are checked before a byte of the file is read, and the file goes to a
// temporary file that the import reads in the background.
func (c *Console) opStartImport(w http.ResponseWriter, r *http.Request) {
	q := c.session(w, r)
	if q == nil {
		return
	}
	if !users.Can(q.user.Role, users.OperateImports) {
		c.fail(q, http.StatusForbidden, q.loc.T("error.forbidden"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRegistryUpload+64<<10)
	var mr *multipart.Reader
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr, _ = r.MultipartReader()
	}
	if mr == nil {
		c.fail(q, http.StatusForbidden, q.loc.T("error.csrf"))
		return
	}
	fields := map[string]string{}
	var file *os.File
	var size int64
	defer func() {
		if file != nil {
			file.Close()
			os.Remove(file.Name())
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.uploadFailed(q, err)
			return
		}
		name := part.FormName()
		if name != "csrf" && !sameToken(fields["csrf"], q.sess.CSRF) {
			// The token comes first in the form: nothing else is read
			// without it.
			c.fail(q, http.StatusForbidden, q.loc.T("error.csrf"))
			return
		}
		if name == "file" {
			if file != nil || c.ops.Imports == nil {
				c.showImports(q, http.StatusBadRequest, q.loc.T("error.invalid"))
				return
			}
			if file, size, err = imports.Spool(part, maxRegistryUpload); err != nil {
				c.uploadFailed(q, err)
				return
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxUploadField+1))
		if err != nil {
			c.uploadFailed(q, err)
			return
		}
		if len(b) > maxUploadField {
			c.fail(q, http.StatusRequestEntityTooLarge, q.loc.T("error.too_large"))
			return
		}
		fields[name] = string(b)
		if name == "csrf" && !sameToken(fields["csrf"], q.sess.CSRF) {
			c.fail(q, http.StatusForbidden, q.loc.T("error.csrf"))
			return
		}
	}
	if !sameToken(fields["csrf"], q.sess.CSRF) {
		c.fail(q, http.StatusForbidden, q.loc.T("error.csrf"))
		return
	}
	registry := strings.TrimSpace(fields["registry"])
	scope, err := compliance.DNDScope(fields["scope"])
	switch {
	case registry == "" || len(registry) > 64 || strings.ContainsAny(registry, "<>\"'&"):
		c.showImports(q, http.StatusBadRequest, q.loc.T("error.registry"))
		return
	case err != nil:
		c.showImports(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error())
		return
	case file == nil || size == 0:
		c.showImports(q, http.StatusBadRequest, q.loc.T("error.no_file"))
		return
	}
	p := imports.DNDParams{Registry: registry, Scope: scope, Replace: fields["replace"] == "yes"}
	rn := c.ops.Imports
	im, err := rn.Job(r.Context(), store.ImportDND, "", false, p, "console user "+q.user.ID, size)
	if c.storeFailed(q, err) {
		return
	}
	f := file
	file = nil // the import owns it now
	rn.Go(f, func(ctx context.Context, body io.Reader) error { return rn.RunDND(ctx, im, body, p, nil) })
	c.audit("import.started", q, slog.String("import", im.ID), slog.String("kind", im.Kind), slog.String("registry", registry),
		slog.String("scope", scope), slog.Bool("replace", p.Replace), slog.Int64("bytes", size))
	http.Redirect(w, r, "/console/operator/imports/"+im.ID, http.StatusSeeOther)
}

// uploadFailed answers a broken or oversized upload.
func (c *Console) uploadFailed(q *req, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || strings.Contains(err.Error(), "larger than") {
		c.fail(q, http.StatusRequestEntityTooLarge, q.loc.T("error.too_large"))
		return
	}
	c.fail(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error())
}
