package twilio

import (
	"net/http"
	"strconv"
	"strings"
)

// The Account resource: GET /2010-04-01/Accounts/{AccountSid}.json and the
// list GET /2010-04-01/Accounts.json. Applications and the helper
// libraries' users fetch it to check their credentials before they send
// (client.api.accounts(sid).fetch() and the like). There are no
// subaccounts here, so the list holds the caller's account alone, and
// accounts are managed by the operator (omnigate account …), not by this
// door: it only reads.

// accountJSON is Twilio's Account resource.
type accountJSON struct {
	AuthToken       *string           `json:"auth_token"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	FriendlyName    string            `json:"friendly_name"`
	OwnerAccountSID string            `json:"owner_account_sid"`
	SID             string            `json:"sid"`
	Status          string            `json:"status"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
	Type            string            `json:"type"`
	URI             string            `json:"uri"`
}

// accountList is Twilio's page of accounts.
type accountList struct {
	Accounts []accountJSON `json:"accounts"`
	page2010
}

func (a *API) registerAccounts(mux *http.ServeMux) {
	a.handle(mux, "GET /"+APIVersion+"/Accounts.json", a.listAccounts)
	a.handle(mux, "GET /"+APIVersion+"/Accounts/{AccountFile}", a.fetchAccount)
}

// account renders the caller's account. Its auth token is shown to a
// caller that authenticated with it, as Twilio shows it; to an API key,
// which may not read it, it is null.
func (a *API) account(r *http.Request) (accountJSON, error) {
	p := principalOf(r.Context())
	acct, err := a.store.GetAccount(r.Context(), p.AccountID)
	if err != nil {
		return accountJSON{}, err
	}
	tw, err := a.bySID.Get(r.Context(), p.SID)
	if err != nil {
		return accountJSON{}, err
	}
	base := "/" + APIVersion + "/Accounts/" + p.SID
	out := accountJSON{DateCreated: rfc2822(tw.CreatedAt), DateUpdated: rfc2822(tw.CreatedAt), FriendlyName: acct.Name,
		OwnerAccountSID: p.SID, SID: p.SID, Status: "active", Type: "Full", URI: base + ".json",
		SubresourceURIs: map[string]string{"messages": base + "/Messages.json", "incoming_phone_numbers": base + "/IncomingPhoneNumbers.json"}}
	if !tw.RotatedAt.IsZero() {
		out.DateUpdated = rfc2822(tw.RotatedAt)
	}
	if p.Via == p.SID {
		token := p.Token
		out.AuthToken = &token
	}
	return out, nil
}

// fetchAccount: GET /2010-04-01/Accounts/{AccountSid}.json; another
// account's SID is 404, as for every path under it.
func (a *API) fetchAccount(w http.ResponseWriter, r *http.Request) error {
	sid, ok := strings.CutSuffix(r.PathValue("AccountFile"), ".json")
	if !ok || sid != principalOf(r.Context()).SID {
		return errNotFound(r.URL.Path)
	}
	out, err := a.account(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listAccounts: GET /2010-04-01/Accounts.json, the caller's account,
// filtered by FriendlyName and Status as Twilio filters.
func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, offset, e := pageOf(q)
	if e != nil {
		return e
	}
	acct, err := a.account(r)
	if err != nil {
		return err
	}
	link := func(page int) string {
		return "/" + APIVersion + "/Accounts.json?PageSize=" + strconv.Itoa(size) + "&Page=" + strconv.Itoa(page)
	}
	out := accountList{Accounts: []accountJSON{}, page2010: page2010{Page: offset / size, PageSize: size, Start: offset, End: offset,
		FirstPageURI: link(0), URI: link(offset / size)}}
	if (q.Get("FriendlyName") == "" || q.Get("FriendlyName") == acct.FriendlyName) &&
		(q.Get("Status") == "" || q.Get("Status") == acct.Status) && offset == 0 {
		out.Accounts = append(out.Accounts, acct)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
