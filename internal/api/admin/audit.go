package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// MaxAuditPage bounds GET /admin/audit's limit.
const MaxAuditPage = 1000

// ParseAuditFilter reads the audit log's filter from query values
// (account, actor, since, until as RFC 3339, limit, cursor); the CLI uses
// it too.
func ParseAuditFilter(get func(string) string) (store.AuditFilter, error) {
	f := store.AuditFilter{AccountID: get("account"), Actor: get("actor"), Limit: 100}
	for _, t := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := get(t.name); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, invalid(t.name, t.name+" must be a time in RFC 3339, e.g. 2026-12-04T10:00:00Z")
			}
			*t.to = at
		}
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxAuditPage {
			return f, invalid("limit", "limit must be a whole number from 1 to "+strconv.Itoa(MaxAuditPage))
		}
		f.Limit = n
	}
	if v := get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, invalid("cursor", "cursor must be the nextCursor of a previous page")
		}
		f.Before = n
	}
	return f, nil
}

// listAudit: GET /admin/audit?account=&actor=&since=&until=&limit=&cursor=,
// newest first; nextCursor is given while older rows may follow.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	if a.changes == nil {
		return &problem{http.StatusNotFound, 20, "", "the audit log is not kept by this server", nil}
	}
	f, err := ParseAuditFilter(r.URL.Query().Get)
	if err != nil {
		return err
	}
	list, err := a.changes.List(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Items      []store.AuditEntry `json:"items"`
		NextCursor string             `json:"nextCursor,omitempty"`
	}{Items: list}
	if out.Items == nil {
		out.Items = []store.AuditEntry{}
	}
	if len(list) == f.Limit {
		out.NextCursor = strconv.FormatInt(list[len(list)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
