package account

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/email/domains"
	"github.com/omnigate/omnigate/internal/store"
)

// The account's sending domains (docs/email.md, "Sending domains and
// DKIM"): each answer carries the DNS records to publish and the last
// check, never the private key.
//
//	GET    /email/domains                   the account's domains
//	POST   /email/domains                   add one: {"domain", "algorithm"?, "selector"?} (201)
//	GET    /email/domains/{domain}          one domain
//	DELETE /email/domains/{domain}          remove it and its key (204)
//	POST   /email/domains/{domain}/verify   check its DNS records now
//
// A test key sees no live domain (an empty list, 404) and its POST makes a
// domain and key that are shown once and never stored, like its senders.

func (a *API) registerEmailDomains(mux *http.ServeMux) []string {
	a.rest.Handle(mux, "GET /email/domains", a.listEmailDomains)
	a.rest.Handle(mux, "POST /email/domains", a.addEmailDomain)
	a.rest.Handle(mux, "GET /email/domains/{domain}", a.getEmailDomain)
	a.rest.Handle(mux, "DELETE /email/domains/{domain}", a.removeEmailDomain)
	a.rest.Handle(mux, "POST /email/domains/{domain}/verify", a.verifyEmailDomain)
	return []string{"/email/domains", "/email/domains/{domain}", "/email/domains/{domain}/verify"}
}

// UseEmailDomains sets what the domains' records point at and the resolver
// their checks ask (app.Config.EmailDomains); without it: the system's
// resolver, and only DKIM and DMARC records.
func (a *API) UseEmailDomains(cfg domains.Config) { a.domains = cfg }

func errEmailDomainNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "domain", "email domain not found")
}

// showDomain renders d with the day's count of a capped domain.
func (a *API) showDomain(r *http.Request, d *store.EmailDomain) (domains.View, error) {
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

// emailDomain reads the path's domain of the request's account; a test key
// sees none.
func (a *API) emailDomain(r *http.Request) (*store.EmailDomain, error) {
	pr := rest.Principal(r.Context())
	name, err := domains.NormalizeDomain(r.PathValue("domain"))
	if err != nil || pr.Test {
		return nil, errEmailDomainNotFound()
	}
	d, err := a.store.EmailDomain(r.Context(), pr.AccountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errEmailDomainNotFound()
	}
	return d, err
}

// listEmailDomains answers GET /email/domains: {"items":[domain, …]} by name.
func (a *API) listEmailDomains(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	items := []domains.View{}
	if !pr.Test {
		list, err := a.store.EmailDomains(r.Context(), pr.AccountID)
		if err != nil {
			return err
		}
		for i := range list {
			v, err := a.showDomain(r, &list[i])
			if err != nil {
				return err
			}
			items = append(items, v)
		}
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items []domains.View `json:"items"`
	}{items})
	return nil
}

// addEmailDomain answers POST /email/domains (201): a new key, and the
// records to publish before verifying. 409 if the account has the domain.
func (a *API) addEmailDomain(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Domain    json.RawMessage `json:"domain"`
		Algorithm json.RawMessage `json:"algorithm"`
		Selector  json.RawMessage `json:"selector"`
	}
	if p := a.decodeJSON(w, r, &req); p != nil {
		return p
	}
	var name, algorithm, selector string
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		to   *string
	}{{"domain", req.Domain, &name}, {"algorithm", req.Algorithm, &algorithm}, {"selector", req.Selector, &selector}} {
		if len(f.raw) == 0 {
			continue // absent
		}
		v, p := rest.JSONText(f.name, f.raw)
		if p != nil {
			return p
		}
		*f.to = v
	}
	if name == "" {
		return rest.Missing("domain")
	}
	pr := rest.Principal(r.Context())
	d, err := domains.New(pr.AccountID, name, algorithm, selector, time.Now())
	var in *domains.InputError
	if errors.As(err, &in) {
		return rest.Invalid(in.Field, in.Field+" is invalid: "+in.Reason)
	}
	if err != nil {
		return err
	}
	if !pr.Test {
		if err := a.store.AddEmailDomain(r.Context(), d); errors.Is(err, store.ErrConflict) {
			return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "domain", "the account has "+d.Domain+" already")
		} else if err != nil {
			return err
		}
	}
	rest.WriteJSON(w, http.StatusCreated, domains.Show(d, a.domains, -1))
	return nil
}

// getEmailDomain answers GET /email/domains/{domain}.
func (a *API) getEmailDomain(w http.ResponseWriter, r *http.Request) error {
	d, err := a.emailDomain(r)
	if err != nil {
		return err
	}
	v, err := a.showDomain(r, d)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, v)
	return nil
}

// removeEmailDomain answers DELETE /email/domains/{domain} (204): its key
// is gone; email from it is refused from then on.
func (a *API) removeEmailDomain(w http.ResponseWriter, r *http.Request) error {
	d, err := a.emailDomain(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteEmailDomain(r.Context(), d.AccountID, d.Domain); errors.Is(err, store.ErrNotFound) {
		return errEmailDomainNotFound()
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// verifyEmailDomain answers POST /email/domains/{domain}/verify: the
// records are looked up now; the answer is the domain with the check in
// lastCheck. A resolver that does not answer is a 503: nothing changes.
func (a *API) verifyEmailDomain(w http.ResponseWriter, r *http.Request) error {
	d, err := a.emailDomain(r)
	if err != nil {
		return err
	}
	if _, err := domains.CheckAndRecord(r.Context(), a.store, d, a.domains, time.Now()); errors.Is(err, store.ErrNotFound) {
		return errEmailDomainNotFound()
	} else if err != nil {
		return rest.NewProblem(http.StatusServiceUnavailable, rest.CodeInternal, "", "the DNS lookups failed; try again later: "+err.Error())
	}
	if d, err = a.store.EmailDomain(r.Context(), d.AccountID, d.Domain); err != nil {
		return err
	}
	v, err := a.showDomain(r, d)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, v)
	return nil
}
