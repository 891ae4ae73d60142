package messagebird

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
)

// getBalance answers GET /balance in MessageBird's shape. A test key sees
// the payment and currency and an amount of 0: the balance is live money.
func (a *API) getBalance(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	acct, err := a.store.GetAccount(r.Context(), pr.AccountID)
	if err != nil {
		return err
	}
	kind := strings.ToLower(acct.Currency)
	if acct.Currency == "EUR" {
		kind = "euros"
	}
	if pr.Test {
		acct.Balance = 0
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
