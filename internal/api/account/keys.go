package account

import (
	"errors"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// The account's access keys: listed without the keys themselves (only
// their id, last characters and dates), and revoked. Keys are created by
// the operator (omnigate key create), never through the API, so that a
// leaked key cannot make more.
//
//	GET    /keys        the account's keys; a test key sees only test keys
//	DELETE /keys/{id}   revoke a key of the account (not the one making the request)

func (a *API) registerKeys(mux *http.ServeMux) []string {
	a.rest.Handle(mux, "GET /keys", a.listKeys)
	a.rest.Handle(mux, "DELETE /keys/{id}", a.revokeKey)
	return []string{"/keys", "/keys/{id}"}
}

// KeyJSON is how the API and the CLI show a key: never the key itself.
type KeyJSON struct {
	ID               string  `json:"id"`
	Test             bool    `json:"test"`
	Hint             string  `json:"hint"` // the key's last characters
	CreatedDatetime  string  `json:"createdDatetime"`
	LastUsedDatetime *string `json:"lastUsedDatetime"`
	RevokedDatetime  *string `json:"revokedDatetime"`
	RevokedBy        string  `json:"revokedBy,omitempty"`
}

// ShowKey renders a key.
func ShowKey(k *store.AccessKey) KeyJSON {
	return KeyJSON{ID: k.ID, Test: k.Test, Hint: k.Hint, CreatedDatetime: k.CreatedAt.Format(message.TimeLayout),
		LastUsedDatetime: rest.TimeText(k.LastUsedAt), RevokedDatetime: rest.TimeText(k.RevokedAt), RevokedBy: k.RevokedBy}
}

// visibleKeys are the account's keys the request's key may see: all of
// them for a live key, the test keys for a test key.
func (a *API) visibleKeys(r *http.Request) ([]*store.AccessKey, error) {
	pr := rest.Principal(r.Context())
	keys, err := a.store.AccessKeys(r.Context(), pr.AccountID)
	if err != nil || !pr.Test {
		return keys, err
	}
	var out []*store.AccessKey
	for _, k := range keys {
		if k.Test {
			out = append(out, k)
		}
	}
	return out, nil
}

// listKeys answers GET /keys: {"items":[key, …]}, oldest first.
func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := a.visibleKeys(r)
	if err != nil {
		return err
	}
	items := make([]KeyJSON, len(keys))
	for i, k := range keys {
		items[i] = ShowKey(k)
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items []KeyJSON `json:"items"`
	}{items})
	return nil
}

func errKeyNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "key not found")
}

// revokeKey answers DELETE /keys/{id} (204): every node refuses the key
// from then on. Revoking a revoked key changes nothing (204). A key cannot
// revoke itself (409), so that an account cannot lose its last key by
// mistake; a test key may revoke only test keys.
func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	id := r.PathValue("id")
	keys, err := a.visibleKeys(r)
	if err != nil {
		return err
	}
	var target *store.AccessKey
	for _, k := range keys {
		if k.ID == id {
			target = k
		}
	}
	switch {
	case target == nil:
		return errKeyNotFound()
	case target.ID == pr.KeyID:
		return rest.NewProblem(http.StatusConflict, rest.CodeInvalidParams, "id",
			"a key cannot revoke itself: revoke it with another key of the account, or ask the operator (omnigate key revoke)")
	}
	k, err := a.store.RevokeAccessKey(r.Context(), pr.AccountID, id, "api key "+pr.KeyID, time.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return errKeyNotFound()
	}
	if err != nil {
		return err
	}
	a.rest.KeyRevoked(r, k)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
