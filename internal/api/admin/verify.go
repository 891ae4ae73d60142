package admin

import (
	"net/http"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/verify"
)

// UseVerify serves the fraud protection of verifications: an account's
// settings and the blocks the conversion watch set, which an operator
// lifts. Call it before Register.
func (a *API) UseVerify(v *verify.Service) { a.verify = v }

func (a *API) registerVerify(mux *http.ServeMux) {
	if a.verify == nil {
		return
	}
	a.handle(mux, "GET /admin/accounts/{id}/verify", a.getVerifySettings)
	a.handle(mux, "PUT /admin/accounts/{id}/verify", a.setVerifySettings)
	a.handle(mux, "GET /admin/verify/blocks", a.listVerifyBlocks)
	a.handle(mux, "DELETE /admin/verify/blocks/{id}", a.liftVerifyBlock)
}

// getVerifySettings: GET /admin/accounts/{id}/verify.
func (a *API) getVerifySettings(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.store.GetAccount(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s, err := a.store.GetVerifySettings(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// setVerifySettings: PUT /admin/accounts/{id}/verify with the whole
// settings object (store.VerifySettings; fields left out are zero, the
// defaults).
func (a *API) setVerifySettings(w http.ResponseWriter, r *http.Request) error {
	var s store.VerifySettings
	if err := decode(r, &s); err != nil {
		return err
	}
	if err := verify.CheckSettings(&s); err != nil {
		return invalid("settings", err.Error())
	}
	if err := a.store.SetVerifySettings(r.Context(), r.PathValue("id"), &s); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// listVerifyBlocks: GET /admin/verify/blocks?account=&all=true.
func (a *API) listVerifyBlocks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	list, err := a.store.VerifyBlocks(r.Context(), q.Get("account"), q.Get("all") == "true")
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.VerifyBlock{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// liftVerifyBlock: DELETE /admin/verify/blocks/{id} lifts a block; the
// operator is named by X-Operator.
func (a *API) liftVerifyBlock(w http.ResponseWriter, r *http.Request) error {
	b, err := a.verify.Lift(r.Context(), r.PathValue("id"), actor(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}
