package messagebird

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
)

// getBalance answers GET /balance in MessageBird's shape.
func (a *API) getBalance(w http.ResponseWriter, r *http.Request) error {
	acct, err := a.store.GetAccount(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	kind := strings.ToLower(acct.Currency)
	if acct.Currency == "EUR" {
		kind = "euros"
	}
	payment := acct.Payment
	if payment == "" {
		payment = "prepaid"
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Payment string      `json:"payment"`
		Type    string      `json:"type"`
		Amount  json.Number `json:"amount"`
	}{payment, kind, json.Number(message.FormatMicros(acct.Balance))})
	return nil
}
