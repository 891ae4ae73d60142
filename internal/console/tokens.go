package console

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

// Personal API tokens on the profile page: a user makes tokens for the
// REST API that act as their role (docs/api.md, "Personal API tokens"),
// sees them listed (never their text but once) and revokes them. The
// TOTP set-up of the same page gets its QR code here too.

func (c *Console) registerTokens(mux *http.ServeMux) {
	mux.HandleFunc("POST /console/profile/tokens", c.signed(users.ViewProfile, c.createToken))
	mux.HandleFunc("POST /console/profile/tokens/{id}/revoke", c.signed(users.ViewProfile, c.revokeToken))
}

// profileExtras adds the QR code of the TOTP set-up and the user's tokens
// to the profile page's data; made is a token just created, shown once.
func (c *Console) profileExtras(q *req, d map[string]any, made string) error {
	if uri, ok := d["URI"].(template.URL); ok {
		d["QR"] = qrSVG(string(uri), q.loc.T("profile.qr"))
	}
	if q.user.AccountID == "" {
		return nil // operators use the admin API
	}
	ts, err := c.users.Tokens(q.r.Context(), q.user)
	if err != nil {
		return err
	}
	d["Tokens"], d["CanTokens"], d["NewToken"] = ts, true, made
	return nil
}

func (c *Console) createToken(q *req) {
	text, _, err := c.users.CreateToken(q.r.Context(), q.user, q.r.PostFormValue("name"))
	switch {
	case errors.Is(err, users.ErrNoTokens):
		c.fail(q, http.StatusForbidden, q.loc.T("error.forbidden"))
		return
	case errors.Is(err, users.ErrTooManyTokens):
		c.showProfileWith(q, http.StatusConflict, q.loc.T("error.tokens", users.MaxTokens), "")
		return
	case err != nil && store.Unavailable(err):
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	case err != nil:
		c.showProfileWith(q, http.StatusBadRequest, q.loc.T("error.invalid")+" "+err.Error(), "")
		return
	}
	c.showProfileWith(q, http.StatusOK, "", text)
}

func (c *Console) revokeToken(q *req) {
	if c.storeFailed(q, c.users.RevokeToken(q.r.Context(), q.user, q.r.PathValue("id"))) {
		return
	}
	http.Redirect(q.w, q.r, "/console/profile", http.StatusSeeOther)
}

func init() {
	addWords(map[string]map[string]string{
		"en": {
			"profile.qr":          "QR code of the key, to scan with an authenticator app",
			"tokens.title":        "Personal API tokens",
			"tokens.help":         "A token works with the REST API like an access key (Authorization: AccessKey …), but only for what your role may do. It stops working when you are removed or report your credentials compromised.",
			"tokens.new":          "The new token, shown only now — copy it:",
			"tokens.none":         "You have no tokens.",
			"tokens.name":         "Name (what the token is for)",
			"action.create_token": "Create a token",
			"error.tokens":        "You have %d valid tokens already: revoke one first.",
		},
		"fr": {
			"profile.qr":          "Code QR de la clé, à scanner avec une application d’authentification",
			"tokens.title":        "Jetons d’API personnels",
			"tokens.help":         "Un jeton s’utilise avec l’API REST comme une clé d’accès (Authorization: AccessKey …), mais seulement pour ce que votre rôle permet. Il cesse de fonctionner si vous êtes retiré du compte ou signalez vos identifiants compromis.",
			"tokens.new":          "Le nouveau jeton, affiché une seule fois — copiez-le :",
			"tokens.none":         "Vous n’avez aucun jeton.",
			"tokens.name":         "Nom (à quoi sert le jeton)",
			"action.create_token": "Créer un jeton",
			"error.tokens":        "Vous avez déjà %d jetons valides : révoquez-en un d’abord.",
		},
		"ar": {
			"profile.qr":          "رمز QR للمفتاح، امسحه بتطبيق المصادقة",
			"tokens.title":        "رموز API الشخصية",
			"tokens.help":         "يعمل الرمز مع واجهة REST مثل مفتاح الوصول (Authorization: AccessKey …)، ولكن فقط لما يسمح به دورك. ويتوقف عن العمل إذا أُزلت من الحساب أو أبلغت عن اختراق بيانات دخولك.",
			"tokens.new":          "الرمز الجديد، يُعرض الآن فقط — انسخه:",
			"tokens.none":         "ليست لديك رموز.",
			"tokens.name":         "الاسم (الغرض من الرمز)",
			"action.create_token": "إنشاء رمز",
			"error.tokens":        "لديك %d رمزًا صالحًا بالفعل: ألغِ أحدها أولًا.",
		},
	})
}
