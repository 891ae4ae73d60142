package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/store"
)

// An account's sending domains, for operators: list them, suspend and
// resume one, set its daily cap (docs/email.md, "Sending domains and
// DKIM"). Every request is in the audit trail, as all of /admin/.
//
//	GET    /admin/accounts/{id}/email/domains
//	PUT    /admin/accounts/{id}/email/domains/{domain}/suspension  {"reason"}
//	DELETE /admin/accounts/{id}/email/domains/{domain}/suspension
//	PUT    /admin/accounts/{id}/email/domains/{domain}/cap         {"perDay"} (0: no cap)

func (a *API) registerEmailDomains(mux *http.ServeMux) {
	a.handle(mux, "GET /admin/accounts/{id}/email/domains", a.listEmailDomains)
	a.handle(mux, "PUT /admin/accounts/{id}/email/domains/{domain}/suspension", a.suspendEmailDomain)
	a.handle(mux, "DELETE /admin/accounts/{id}/email/domains/{domain}/suspension", a.resumeEmailDomain)
	a.handle(mux, "PUT /admin/accounts/{id}/email/domains/{domain}/cap", a.capEmailDomain)
}

// UseEmailDomains sets what the domains' records point at, for the
// answers (app.Config.EmailDomains).
func (a *API) UseEmailDomains(cfg domains.Config) { a.domains = cfg }

func (a *API) showEmailDomain(r *http.Request, d *store.EmailDomain) (domains.View, error) {
	sent := -1
	if d.DailyCap > 0 {
		n, err := a.store.EmailDomainSent(r.Context(), d.AccountID, d.Domain, time.Now())
		if err != nil {
			return domains.View{}, err
		}
		sent = n
	}
	return domains.Show(d, a.domains, sent), nil
}

func (a *API) listEmailDomains(w http.ResponseWriter, r *http.Request) error {
	id, err := a.account(r)
	if err != nil {
		return err
	}
	list, err := a.store.EmailDomains(r.Context(), id)
	if err != nil {
		return err
	}
	views := make([]domains.View, 0, len(list))
	for i := range list {
		v, err := a.showEmailDomain(r, &list[i])
		if err != nil {
			return err
		}
		views = append(views, v)
	}
	items(w, views)
	return nil
}

// changeEmailDomain runs change on the path's domain and answers the
// domain as it is after.
func (a *API) changeEmailDomain(w http.ResponseWriter, r *http.Request, change func(accountID, domain string) error) error {
	id, err := a.account(r)
	if err != nil {
		return err
	}
	name, err := domains.NormalizeDomain(r.PathValue("domain"))
	if err != nil {
		return store.ErrNotFound
	}
	if err := change(id, name); err != nil {
		return err
	}
	d, err := a.store.EmailDomain(r.Context(), id, name)
	if err != nil {
		return err
	}
	v, err := a.showEmailDomain(r, d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// suspendEmailDomain: the domain's email is refused (rule
// email.domain.suspended, with the reason) until it is resumed.
func (a *API) suspendEmailDomain(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return rest.Missing("reason")
	}
	if p := rest.CheckText("reason", req.Reason, false); p != nil {
		return p
	}
	return a.changeEmailDomain(w, r, func(id, domain string) error {
		return a.store.SuspendEmailDomain(r.Context(), id, domain, req.Reason, actor(r), time.Now())
	})
}

func (a *API) resumeEmailDomain(w http.ResponseWriter, r *http.Request) error {
	return a.changeEmailDomain(w, r, func(id, domain string) error {
		return a.store.ResumeEmailDomain(r.Context(), id, domain)
	})
}

// maxDailyCap bounds a cap, as every number the doors take is bounded.
const maxDailyCap = 1_000_000_000

func (a *API) capEmailDomain(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		PerDay *int `json:"perDay"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.PerDay == nil {
		return rest.Missing("perDay")
	}
	if *req.PerDay < 0 || *req.PerDay > maxDailyCap {
		return rest.Invalid("perDay", "perDay is emails per UTC day, 0 (no cap) to 1000000000")
	}
	return a.changeEmailDomain(w, r, func(id, domain string) error {
		return a.store.SetEmailDomainCap(r.Context(), id, domain, *req.PerDay)
	})
}
