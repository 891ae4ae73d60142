// Package console is omnigate's web console at /console on the API
// listener: server-rendered HTML from templates embedded in the binary, no
// JavaScript build step, working without JavaScript. People sign in with a
// password and, when they have one, a TOTP code (internal/users); sessions
// are server-side, in an HttpOnly, SameSite=Strict cookie (Secure behind
// TLS), and every form carries the session's CSRF token. Each page and
// action is checked against the one role table (users.Can); a URL of
// another account answers 404. Pages speak English, French and Arabic
// (right to left).
package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/users"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names.
const (
	sessionCookie = "og_session"
	preCookie     = "og_pre" // the CSRF token of the sign-in form, before any session
)

// maxForm bounds a form's body: anything larger is refused with 413.
const maxForm = 64 << 10

// Config tunes the console.
type Config struct {
	// Secure marks cookies Secure (the API listener serves TLS). A request
	// that arrived over TLS gets Secure cookies anyway.
	Secure bool
}

// Console is the web console, a door of the API listener.
type Console struct {
	cfg   Config
	users *users.Service
	st    store.Store
	log   *slog.Logger
	pages map[string]*template.Template
	desk  *compliance.Desk // suspend and lift (UseDesk); nil: not offered

	notifyReports func()          // wakes the report sender after a re-send (UseReports); nil: it polls
	imports       *imports.Runner // consent and suppression imports (UseImports); nil: not offered
	// billing drops cached limits and builds statements (UseBilling);
	// conns counts an app's connections here (UseConnections).
	bill  *billing.Service
	conns func(appID string) int
	ops   Operations // what the operator pages read beyond the store (UseOperations)
	// changes is the stored audit log (UseAuditLog); nil: the trail only.
	changes *audit.Log
}

// New makes the console.
func New(cfg Config, u *users.Service, st store.Store, log *slog.Logger) *Console {
	if log == nil {
		log = slog.Default()
	}
	return &Console{cfg: cfg, users: u, st: st, log: log, pages: mustParse()}
}

// pageNames are the templates that are pages (each with layout.html).
var pageNames = []string{"signin", "totp", "invite", "overview", "messages", "message", "keys", "accounts", "users", "billing", "profile", "error"}

func mustParse() map[string]*template.Template {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, p := range pageNames {
		pages[p] = template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	return pages
}

// Register adds the console's routes.
func (c *Console) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console", c.home)
	mux.HandleFunc("GET /console/", c.notFound)
	mux.HandleFunc("GET /console/signin", c.signInPage)
	mux.HandleFunc("POST /console/signin", c.signIn)
	mux.HandleFunc("GET /console/signin/totp", c.totpPage)
	mux.HandleFunc("POST /console/signin/totp", c.totp)
	mux.HandleFunc("GET /console/invite/{token}", c.invitePage)
	mux.HandleFunc("POST /console/invite/{token}", c.accept)
	mux.HandleFunc("POST /console/signout", c.signed("", c.signOut))
	mux.HandleFunc("GET /console/overview", c.signed(users.ViewOverview, c.overview))
	mux.HandleFunc("GET /console/messages", c.signed(users.ViewMessages, c.messages))
	mux.HandleFunc("GET /console/messages/{id}", c.signed(users.ViewMessages, c.message))
	mux.HandleFunc("GET /console/keys", c.signed(users.ViewKeys, c.keys))
	mux.HandleFunc("POST /console/keys", c.signed(users.ManageKeys, c.createKey))
	mux.HandleFunc("POST /console/keys/{id}/revoke", c.signed(users.ManageKeys, c.revokeKey))
	mux.HandleFunc("GET /console/users", c.signed(users.ViewUsers, c.usersPage))
	mux.HandleFunc("POST /console/users/invite", c.signed(users.ManageUsers, c.invite))
	mux.HandleFunc("POST /console/users/{id}/role", c.signed(users.ManageUsers, c.changeRole))
	mux.HandleFunc("POST /console/users/{id}/remove", c.signed(users.ManageUsers, c.remove))
	mux.HandleFunc("POST /console/seats", c.signed(users.ManageSeats, c.addSeats))
	mux.HandleFunc("GET /console/billing", c.signed(users.ViewBilling, c.billing))
	mux.HandleFunc("GET /console/billing/statement.csv", c.signed(users.ExportStatements, c.statement))
	mux.HandleFunc("GET /console/operator/accounts", c.signed(users.OperateAccounts, c.opAccounts))
	mux.HandleFunc("POST /console/operator/accounts/{id}/suspend", c.signed(users.OperateAccounts, c.opSuspend))
	mux.HandleFunc("POST /console/operator/accounts/{id}/lift", c.signed(users.OperateAccounts, c.opLift))
	mux.HandleFunc("GET /console/profile", c.signed(users.ViewProfile, c.profile))
	mux.HandleFunc("POST /console/profile/totp", c.signed(users.ViewProfile, c.enableTOTP))
	mux.HandleFunc("POST /console/profile/totp/off", c.signed(users.ViewProfile, c.disableTOTP))
	mux.HandleFunc("POST /console/profile/language", c.signed(users.ViewProfile, c.setLanguage))
	mux.HandleFunc("POST /console/profile/compromised", c.signed(users.ViewProfile, c.compromised))
	c.registerWebhooks(mux)
	c.registerConsents(mux)
	c.registerCases(mux)
	c.registerTokens(mux)
	c.registerLimits(mux)
	c.registerStatements(mux)
	c.registerSenders(mux)
	c.registerRealtime(mux)
	c.registerOpQueues(mux)  // opqueues.go
	c.registerOpImports(mux) // opimports.go
	c.registerOpSystem(mux)  // opsystem.go
}

// req is a signed-in request.
type req struct {
	w     http.ResponseWriter
	r     *http.Request
	user  *store.User
	sess  *store.Session
	token string
	loc   *Locale
}

// page is what every template gets.
type page struct {
	L       *Locale
	User    *store.User
	CSRF    string
	Nav     []navItem
	Title   string
	Error   string
	Notice  string
	Data    any
	Current string
}

type navItem struct {
	Key, Href string
	Current   bool
}

// nav are the account pages in the order shown, each with the permission
// that shows it.
var nav = []struct {
	key, href string
	perm      users.Permission
}{
	{"nav.overview", "/console/overview", users.ViewOverview},
	{"nav.messages", "/console/messages", users.ViewMessages},
	{"nav.keys", "/console/keys", users.ViewKeys},
	{"nav.webhooks", "/console/webhooks", users.ViewWebhooks},
	{"nav.consents", "/console/consents", users.ViewConsents},
	{"nav.cases", "/console/cases", users.ViewCases},
	{"nav.billing", "/console/billing", users.ViewBilling},
	{"nav.statements", "/console/statements", users.ExportStatements},
	{"nav.limits", "/console/limits", users.ViewBilling},
	{"nav.senders", "/console/senders", users.ViewSenders},
	{"nav.realtime", "/console/realtime", users.ViewRealtime},
	{"nav.users", "/console/users", users.ViewUsers},
	{"nav.accounts", "/console/operator/accounts", users.OperateAccounts},
	{"nav.op_senders", "/console/operator/senders", users.OperateSenders},
	{"nav.op_reviews", "/console/operator/reviews", users.OperateReviews},
	{"nav.op_imports", "/console/operator/imports", users.OperateImports},
	{"nav.op_connectors", "/console/operator/connectors", users.OperateRouting},
	{"nav.op_queue", "/console/operator/queue", users.OperateQueue},
	{"nav.op_cases", "/console/operator/cases", users.OperateCases},
	{"nav.profile", "/console/profile", users.ViewProfile},
}

func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // invitation tokens are in URLs
	h.Set("Cache-Control", "no-store")
}

func (c *Console) render(w http.ResponseWriter, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.log.Error("console: rendering", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// newPage fills what every page of a signed-in user has.
func (q *req) page(title string, data any) *page {
	p := &page{L: q.loc, User: q.user, CSRF: q.sess.CSRF, Title: title, Data: data, Current: q.r.URL.Path}
	for _, n := range nav {
		if users.Can(q.user.Role, n.perm) {
			p.Nav = append(p.Nav, navItem{Key: n.key, Href: n.href, Current: strings.HasPrefix(q.r.URL.Path, n.href)})
		}
	}
	return p
}

func (c *Console) fail(q *req, status int, msg string) {
	p := q.page("title.error", nil)
	p.Error = msg
	c.render(q.w, status, "error", p)
}

// errorPage answers a request without a session.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	l := newLocale(pickLanguage(r, ""))
	c.render(w, status, "error", &page{L: l, Title: "title.error", Error: l.T(key)})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.errorPage(w, r, http.StatusNotFound, "error.not_found")
}

func (c *Console) secure(r *http.Request) bool { return c.cfg.Secure || r.TLS != nil }

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/console", MaxAge: maxAge, HttpOnly: true,
		Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

// parseForm reads a form of at most maxForm bytes; false after answering.
func parseForm(w http.ResponseWriter, r *http.Request) (ok bool, tooLarge bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		return false, errors.As(err, &mbe)
	}
	return true, false
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// signed wraps a handler of a signed-in, verified user whose role has
// perm ("" for any role). A POST must carry the session's CSRF token.
func (c *Console) signed(perm users.Permission, h func(*req)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := c.session(w, r)
		if q == nil {
			return
		}
		if r.Method == http.MethodPost {
			ok, tooLarge := parseForm(w, r)
			if tooLarge {
				c.fail(q, http.StatusRequestEntityTooLarge, q.loc.T("error.too_large"))
				return
			}
			if !ok || !sameToken(r.PostFormValue("csrf"), q.sess.CSRF) {
				c.fail(q, http.StatusForbidden, q.loc.T("error.csrf"))
				return
			}
		}
		if perm != "" && !users.Can(q.user.Role, perm) {
			c.fail(q, http.StatusForbidden, q.loc.T("error.forbidden"))
			return
		}
		// The user's actions recorded by the users service carry the
		// client's address into the stored audit log.
		q.r = q.r.WithContext(users.WithSource(q.r.Context(), sourceOf(q.r)))
		h(q)
	}
}

// session is the request of a signed-in, verified user; nil after
// answering (to the sign-in, the second factor, or an error). It checks
// neither the form nor the role: signed does, and an upload its own way.
func (c *Console) session(w http.ResponseWriter, r *http.Request) *req {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
		return nil
	}
	u, ss, err := c.users.Authenticate(r.Context(), ck.Value)
	if errors.Is(err, users.ErrNoSession) {
		c.setCookie(w, r, sessionCookie, "", -1)
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		c.log.Error("console: session", "err", err)
		c.errorPage(w, r, http.StatusServiceUnavailable, "error.internal")
		return nil
	}
	if !ss.Verified {
		http.Redirect(w, r, "/console/signin/totp", http.StatusSeeOther)
		return nil
	}
	return &req{w: w, r: r, user: u, sess: ss, token: ck.Value, loc: newLocale(pickLanguage(r, u.Language))}
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(sessionCookie)
	if err == nil {
		if u, ss, err := c.users.Authenticate(r.Context(), ck.Value); err == nil && ss.Verified {
			for _, n := range nav {
				if users.Can(u.Role, n.perm) {
					http.Redirect(w, r, n.href, http.StatusSeeOther)
					return
				}
			}
		}
	}
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// signInPage shows the sign-in form with a pre-session CSRF token (a
// cookie and the same value in the form).
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.showSignIn(w, r, http.StatusOK, "", "")
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, email, errKey string) {
	l := newLocale(pickLanguage(r, ""))
	tok := newCSRF()
	c.setCookie(w, r, preCookie, tok, 3600)
	p := &page{L: l, CSRF: tok, Title: "title.signin", Data: map[string]string{"Email": email}}
	if errKey != "" {
		p.Error = l.T(errKey)
	}
	c.render(w, status, "signin", p)
}

// preForm reads a form posted before any session (sign-in, invitation):
// its CSRF token must match the pre-session cookie. False after answering.
func (c *Console) preForm(w http.ResponseWriter, r *http.Request) bool {
	ok, tooLarge := parseForm(w, r)
	if tooLarge {
		c.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
		return false
	}
	pre, err := r.Cookie(preCookie)
	if !ok || err != nil || !sameToken(r.PostFormValue("csrf"), pre.Value) {
		c.errorPage(w, r, http.StatusForbidden, "error.csrf")
		return false
	}
	return true
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.preForm(w, r) {
		return
	}
	email := r.PostFormValue("email")
	in, err := c.users.SignIn(r.Context(), email, r.PostFormValue("password"), sourceOf(r))
	var limited *users.LimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", itoa(int(limited.Wait.Seconds())+1))
		c.showSignIn(w, r, http.StatusTooManyRequests, email, "error.limited")
		return
	case errors.Is(err, users.ErrLocked):
		c.showSignIn(w, r, http.StatusForbidden, email, "error.locked")
		return
	case errors.Is(err, users.ErrBadCredentials):
		c.showSignIn(w, r, http.StatusUnauthorized, email, "error.credentials")
		return
	case err != nil:
		c.log.Error("console: sign-in", "err", err)
		c.errorPage(w, r, http.StatusServiceUnavailable, "error.internal")
		return
	}
	c.setCookie(w, r, preCookie, "", -1)
	c.setCookie(w, r, sessionCookie, in.Token, int(c.users.Config().SessionTTL.Seconds()))
	if in.NeedTOTP {
		http.Redirect(w, r, "/console/signin/totp", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

// pending is the session of a sign-in waiting for its second factor.
func (c *Console) pending(w http.ResponseWriter, r *http.Request) (*store.User, *store.Session, string, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
		return nil, nil, "", false
	}
	u, ss, err := c.users.Authenticate(r.Context(), ck.Value)
	if err != nil {
		http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
		return nil, nil, "", false
	}
	if ss.Verified {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return nil, nil, "", false
	}
	return u, ss, ck.Value, true
}

func (c *Console) totpPage(w http.ResponseWriter, r *http.Request) {
	u, ss, _, ok := c.pending(w, r)
	if !ok {
		return
	}
	c.render(w, http.StatusOK, "totp", &page{L: newLocale(pickLanguage(r, u.Language)), CSRF: ss.CSRF, Title: "title.totp"})
}

func (c *Console) totp(w http.ResponseWriter, r *http.Request) {
	u, ss, tok, ok := c.pending(w, r)
	if !ok {
		return
	}
	l := newLocale(pickLanguage(r, u.Language))
	if ok, tooLarge := parseForm(w, r); tooLarge {
		c.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
		return
	} else if !ok || !sameToken(r.PostFormValue("csrf"), ss.CSRF) {
		c.errorPage(w, r, http.StatusForbidden, "error.csrf")
		return
	}
	_, err := c.users.VerifyTOTP(r.Context(), tok, r.PostFormValue("code"), sourceOf(r))
	var limited *users.LimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", itoa(int(limited.Wait.Seconds())+1))
		c.render(w, http.StatusTooManyRequests, "totp", &page{L: l, CSRF: ss.CSRF, Title: "title.totp", Error: l.T("error.limited")})
		return
	case errors.Is(err, users.ErrBadCode):
		c.render(w, http.StatusUnauthorized, "totp", &page{L: l, CSRF: ss.CSRF, Title: "title.totp", Error: l.T("error.code")})
		return
	case err != nil:
		c.errorPage(w, r, http.StatusUnauthorized, "error.credentials")
		return
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

func (c *Console) signOut(q *req) {
	if err := c.users.SignOut(q.r.Context(), q.token, q.user); err != nil {
		c.fail(q, http.StatusServiceUnavailable, q.loc.T("error.internal"))
		return
	}
	c.setCookie(q.w, q.r, sessionCookie, "", -1)
	http.Redirect(q.w, q.r, "/console/signin", http.StatusSeeOther)
}

func (c *Console) invitePage(w http.ResponseWriter, r *http.Request) {
	switch err := c.users.CheckInvitation(r.Context(), r.PathValue("token")); {
	case errors.Is(err, users.ErrInvitation):
		c.errorPage(w, r, http.StatusGone, "error.invitation")
	case err != nil:
		c.log.Error("console: invitation", "err", err)
		c.errorPage(w, r, http.StatusServiceUnavailable, "error.internal")
	default:
		c.showInvite(w, r, http.StatusOK, "")
	}
}

func (c *Console) showInvite(w http.ResponseWriter, r *http.Request, status int, msg string) {
	l := newLocale(pickLanguage(r, ""))
	tok := newCSRF()
	c.setCookie(w, r, preCookie, tok, 3600)
	c.render(w, status, "invite", &page{L: l, CSRF: tok, Title: "title.invite", Error: msg,
		Data: map[string]string{"Token": r.PathValue("token")}})
}

func (c *Console) accept(w http.ResponseWriter, r *http.Request) {
	l := newLocale(pickLanguage(r, ""))
	if !c.preForm(w, r) {
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		c.showInvite(w, r, http.StatusBadRequest, l.T("error.password_mismatch"))
		return
	}
	_, err := c.users.Accept(users.WithSource(r.Context(), sourceOf(r)), r.PathValue("token"), r.PostFormValue("name"), r.PostFormValue("password"))
	switch {
	case errors.Is(err, users.ErrInvitation):
		c.errorPage(w, r, http.StatusGone, "error.invitation")
		return
	case errors.Is(err, users.ErrWeakPassword):
		c.showInvite(w, r, http.StatusBadRequest, l.T("error.weak_password", users.MinPassword))
		return
	case errors.Is(err, users.ErrSeats):
		c.errorPage(w, r, http.StatusConflict, "error.seats")
		return
	case err != nil:
		c.showInvite(w, r, http.StatusBadRequest, l.T("error.invalid")+" "+err.Error())
		return
	}
	c.setCookie(w, r, preCookie, "", -1)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

func sourceOf(r *http.Request) string { return authguard.Source(r) }

func itoa(n int) string { return strconv.Itoa(n) }

func newCSRF() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func ctxTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 10*time.Second)
}
