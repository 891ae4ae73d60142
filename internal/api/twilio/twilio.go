// Package twilio is the Twilio Messaging door: /2010-04-01/Accounts/{Sid}/
// Messages.json and Messages/{Sid}.json, wire-compatible with what the
// official Twilio helper libraries send and parse (form-encoded requests,
// Twilio's JSON resources and errors, HTTP Basic authentication with an
// account SID and auth token or an API key SID and secret). It turns
// requests into the platform's model and hands them to the pipeline; it
// never talks to connectors. Status callbacks of its messages are rendered
// by Callback (message.Details.Report "twilio"). See docs/twilio.md.
package twilio

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/ttlcache"
	"github.com/omnigate/omnigate/internal/verify"
)

// Report is message.Details.Report of this door's messages: their status
// reports are Twilio status callbacks (Callback).
const Report = "twilio"

// APIVersion is the only version of the API there is.
const APIVersion = "2010-04-01"

// Door is the name of the door in authentication metrics and the audit
// trail.
const Door = "twilio"

// credTTL is how long a node trusts credentials it read: a rotated token
// stops working on every node within it.
const credTTL = 5 * time.Second

// API serves the Twilio endpoints.
type API struct {
	store    store.Store
	pipeline *pipeline.Pipeline
	metrics  *metrics.Metrics
	guard    *authguard.Guard
	trail    *audit.Trail
	changes  *audit.Log // the stored audit log; nil: none
	log      *slog.Logger
	maxBody  int64
	public   string // public base URL; "" takes the request's host

	turn atomic.Uint64 // round-robin of non-sticky Messaging Services

	verify *verify.Service // Verify v2 (/v2/Services); nil: not served

	bySID *ttlcache.Cache[string, *store.TwilioAccount]
	keys  *ttlcache.Cache[string, *store.TwilioAPIKey]
}

// New makes the door. guard and trail may be nil.
func New(st store.Store, p *pipeline.Pipeline, m *metrics.Metrics, g *authguard.Guard, t *audit.Trail, log *slog.Logger, maxBody int64, publicURL string) *API {
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	a := &API{store: st, pipeline: p, metrics: m, guard: g, trail: t, log: log, maxBody: maxBody, public: strings.TrimRight(publicURL, "/")}
	a.bySID = ttlcache.New(credTTL, 10000, st.TwilioAccountBySID)
	a.keys = ttlcache.New(credTTL, 10000, st.TwilioAPIKey)
	return a
}

const prefix = "/" + APIVersion + "/Accounts/{AccountSid}"

// Register adds the door's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "POST "+prefix+"/Messages.json", a.createMessage)
	a.handle(mux, "GET "+prefix+"/Messages.json", a.listMessages)
	a.handle(mux, "GET "+prefix+"/Messages/{Sid}", a.fetchMessage)
	a.handle(mux, "POST "+prefix+"/Messages/{Sid}", a.updateMessage)
	a.handle(mux, "DELETE "+prefix+"/Messages/{Sid}", a.deleteMessage)
	a.handle(mux, "GET "+prefix+"/IncomingPhoneNumbers.json", a.listNumbers)
	a.handle(mux, "POST "+prefix+"/IncomingPhoneNumbers.json", a.createNumber)
	a.handle(mux, "GET "+prefix+"/IncomingPhoneNumbers/{Sid}", a.fetchNumber)
	a.handle(mux, "POST "+prefix+"/IncomingPhoneNumbers/{Sid}", a.updateNumber)
	a.registerAccounts(mux)
	a.registerServices(mux)
	a.registerVerify(mux)
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The requested resource " + r.URL.Path + " was not found"})
	}
	mux.HandleFunc("/"+APIVersion+"/", notFound)
	mux.HandleFunc("/v1/Services/", notFound)
}

type principalKey struct{}

// principal is who authenticated a request.
type principal struct {
	AccountID string
	SID       string // the account SID
	Token     string // its auth token
	Via       string // the credential's SID: the account's or an API key's
}

func principalOf(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// handle registers an authenticated, instrumented handler answering in
// Twilio's error format.
func (a *API) handle(mux *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := rest.NewStatusRecorder(w)
		defer func() {
			a.metrics.HTTPDuration.WithLabelValues(pattern, r.Method, strconv.Itoa(rec.Status)).Observe(time.Since(start).Seconds())
		}()
		p, e := a.authenticate(r)
		if e != nil {
			if e.Status == http.StatusUnauthorized {
				rec.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			}
			writeError(rec, e)
			return
		}
		if sid := r.PathValue("AccountSid"); strings.Contains(pattern, "{AccountSid}") && sid != p.SID {
			// Subaccounts do not exist here: another account's path is
			// not this principal's to see.
			writeError(rec, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "The requested resource " + r.URL.Path + " was not found"})
			return
		}
		if prob := rest.CheckRequest(r); prob != nil {
			writeError(rec, fromProblem(prob))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if a.changes != nil && !traffic(pattern) && r.Method != http.MethodGet && r.Method != http.MethodHead {
			ctx, _ := audit.WithNote(r.Context())
			r = r.WithContext(ctx)
			defer a.recordChange(r, rec, pattern, p, audit.KeepBody(r))
		}
		if err := h(rec, r); err != nil {
			a.fail(rec, r, err)
		}
	})
}

// UseAuditLog records in l every change a credential makes (a write
// request that succeeds, except sending messages and codes).
func (a *API) UseAuditLog(l *audit.Log) { a.changes = l }

// traffic reports whether a write route sends (a message, a code) rather
// than changes settings: those are not audited (see rest.Traffic).
func traffic(pattern string) bool {
	return strings.HasSuffix(pattern, "/Messages.json") || strings.HasSuffix(pattern, "/Verifications") ||
		strings.HasSuffix(pattern, "/VerificationCheck")
}

// recordChange writes a successful write request to the audit log, its
// form as a JSON object (secrets masked).
func (a *API) recordChange(r *http.Request, rec *rest.StatusRecorder, pattern string, p principal, body func() []byte) {
	if !audit.Changes(r.Method, rec.Status) {
		return
	}
	var form any
	if b := body(); len(b) > 0 {
		if v, err := url.ParseQuery(string(b)); err == nil {
			form = v
		}
	}
	c := audit.Change{Actor: audit.Key(p.Via), Account: p.AccountID, IP: authguard.Source(r), Action: pattern, Object: r.URL.Path}
	n := audit.Noted(r.Context())
	if n.Fill(&c, nil) {
		if c.After == nil && c.Before == nil {
			c.After = form
		}
		a.changes.Record(r.Context(), c)
	}
}

// authenticate checks HTTP Basic credentials: an account SID and its auth
// token, or an API key SID and its secret.
func (a *API) authenticate(r *http.Request) (principal, *Error) {
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" {
		return principal{}, errAuth()
	}
	at := authguard.Attempt{Door: Door, Source: authguard.Source(r), Prefix: authguard.Prefix(user)}
	if wait, ok := a.guard.Allow(at); !ok {
		e := &Error{Status: http.StatusTooManyRequests, Code: CodeTooManyRequests,
			Message: "Too many failed authentications from this address or with this credential; try again in " + authguard.RetryAfter(wait) + " s"}
		return principal{}, e
	}
	ctx := r.Context()
	fail := func(reason string) (principal, *Error) {
		a.guard.Failed(at, reason)
		return principal{}, errAuth()
	}
	switch {
	case len(user) == 34 && strings.HasPrefix(user, "AC"):
		acct, err := a.bySID.Get(ctx, user)
		if errors.Is(err, store.ErrNotFound) {
			return fail("unknown_sid")
		} else if err != nil {
			a.log.Error("twilio: authenticating", "err", err)
			return principal{}, errInternal()
		}
		at.AccountID = acct.AccountID
		if subtle.ConstantTimeCompare([]byte(pass), []byte(acct.AuthToken)) != 1 {
			return fail("bad_token")
		}
		a.guard.Succeeded(at)
		return principal{AccountID: acct.AccountID, SID: acct.SID, Token: acct.AuthToken, Via: acct.SID}, nil
	case len(user) == 34 && strings.HasPrefix(user, "SK"):
		k, err := a.keys.Get(ctx, user)
		if errors.Is(err, store.ErrNotFound) {
			return fail("unknown_key")
		} else if err != nil {
			a.log.Error("twilio: authenticating", "err", err)
			return principal{}, errInternal()
		}
		at.AccountID, at.KeyID = k.AccountID, k.SID
		sum := sha256.Sum256([]byte(pass))
		if subtle.ConstantTimeCompare(sum[:], k.SecretHash) != 1 {
			return fail("bad_secret")
		}
		acct, err := a.store.TwilioAccount(ctx, k.AccountID)
		if err != nil {
			a.log.Error("twilio: authenticating", "err", err)
			return principal{}, errInternal()
		}
		a.guard.Succeeded(at)
		return principal{AccountID: acct.AccountID, SID: acct.SID, Token: acct.AuthToken, Via: k.SID}, nil
	}
	return fail("unknown_sid")
}

// base is the scheme and host of absolute links.
func (a *API) base(r *http.Request) string {
	if a.public != "" {
		return a.public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
