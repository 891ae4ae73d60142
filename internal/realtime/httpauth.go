package realtime

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/store"
)

// apiError is an HTTP API error: Pusher answers with a status and a plain
// text body, which the server SDKs hand to the caller as is.
type apiError struct {
	status  int
	message string
	reason  string // for a failed authentication: why, for the audit trail
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

// authFailed is a failed authentication: an error that counts against the
// source and the app (internal/authguard), with its reason.
func authFailed(reason string, status int, format string, args ...any) *apiError {
	e := errorf(status, format, args...)
	e.reason = reason
	return e
}

// apiHandler handles an authenticated API request.
type apiHandler func(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp, body []byte) *apiError

// api authenticates a request as Pusher does, then runs h.
func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.enter() {
			http.Error(w, "realtime server is not running", http.StatusServiceUnavailable)
			return
		}
		defer s.handlers.Done()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeAPIError(w, errorf(http.StatusRequestEntityTooLarge, "Request Entity Too Large: the body is over %d bytes", s.cfg.MaxRequestBytes))
				return
			}
			writeAPIError(w, errorf(http.StatusBadRequest, "Could not read the request body"))
			return
		}
		appID := r.PathValue("app_id")
		at := authguard.Attempt{Door: authguard.Pusher, Source: s.clientIP(r), Prefix: appID[:min(len(appID), 64)]}
		if wait, ok := s.guard.Allow(at); !ok {
			w.Header().Set("Retry-After", authguard.RetryAfter(wait))
			writeAPIError(w, errorf(http.StatusTooManyRequests, "Too many failed authentications from this address or for this app: try again in %s s",
				authguard.RetryAfter(wait)))
			return
		}
		app, aerr := s.authenticate(r.Context(), r, body, time.Now())
		switch {
		case aerr == nil:
			s.guard.Succeeded(at)
			aerr = h(w, r, app, body)
		case aerr.reason != "":
			s.guard.Failed(at, aerr.reason)
		}
		if aerr != nil {
			writeAPIError(w, aerr)
		}
	}
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	io.WriteString(w, e.message+"\n")
}

// authenticate checks a request's auth_key, auth_timestamp, auth_version,
// body_md5 and auth_signature, the HMAC-SHA256 of
// "METHOD\n/path\nsorted query without auth_signature" with a valid secret
// of the app.
func (s *Server) authenticate(ctx context.Context, r *http.Request, body []byte, now time.Time) (*store.RealtimeApp, *apiError) {
	app, err := s.apps.byID(ctx, r.PathValue("app_id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, authFailed("unknown_app", http.StatusNotFound, "Unknown app %q", r.PathValue("app_id"))
	}
	if err != nil {
		s.log.Error("realtime: reading app", "err", err)
		return nil, errorf(http.StatusInternalServerError, "Internal error: try again")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Malformed query string")
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("auth_key")), []byte(app.Key)) != 1 {
		return nil, authFailed("bad_key", http.StatusUnauthorized, "Invalid auth_key: not this app's key")
	}
	ts, err := strconv.ParseInt(q.Get("auth_timestamp"), 10, 64)
	if err != nil {
		return nil, authFailed("bad_timestamp", http.StatusUnauthorized, "Missing or malformed auth_timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > s.cfg.TimestampWindow || d < -s.cfg.TimestampWindow {
		return nil, authFailed("bad_timestamp", http.StatusUnauthorized, "Timestamp expired: given timestamp %d not within %d s of server time %d",
			ts, int(s.cfg.TimestampWindow/time.Second), now.Unix())
	}
	if v := q.Get("auth_version"); v != "1.0" {
		return nil, authFailed("bad_version", http.StatusUnauthorized, "Unsupported auth_version %q: 1.0 is supported", v)
	}
	if len(body) > 0 || q.Has("body_md5") {
		sum := md5.Sum(body)
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(q.Get("body_md5"))), []byte(hex.EncodeToString(sum[:]))) != 1 {
			return nil, authFailed("bad_body_md5", http.StatusUnauthorized, "Invalid body_md5: it must be the hex MD5 of the request body")
		}
	}
	toSign := r.Method + "\n" + r.URL.Path + "\n" + canonicalQuery(q)
	if !verifySignature(app, now, toSign, q.Get("auth_signature")) {
		return nil, authFailed("bad_signature", http.StatusUnauthorized, "Invalid signature: you should have sent HmacSHA256Hex(%q, your_secret)", toSign)
	}
	if !app.Enabled {
		return nil, errorf(http.StatusForbidden, "Application is disabled")
	}
	return app, nil
}

// canonicalQuery is the signed form of a query: keys in lower case, sorted,
// auth_signature left out, "key=value" joined by "&", values unescaped.
func canonicalQuery(q url.Values) string {
	orig := make([]string, 0, len(q))
	for k := range q {
		orig = append(orig, k)
	}
	sort.Strings(orig) // keys differing only in case merge in a fixed order
	keys := make([]string, 0, len(q))
	lower := make(map[string][]string, len(q))
	for _, k := range orig {
		vs := q[k]
		lk := strings.ToLower(k)
		if lk == "auth_signature" {
			continue
		}
		if _, ok := lower[lk]; !ok {
			keys = append(keys, lk)
		}
		lower[lk] = append(lower[lk], vs...)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range lower[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

// SignRequest returns the query a Pusher server SDK sends for a request:
// params plus auth_key, auth_timestamp, auth_version, body_md5 (when there
// is a body) and auth_signature. Tools and tests use it.
func SignRequest(key, secret, method, path string, params url.Values, body []byte, now time.Time) url.Values {
	q := url.Values{}
	for k, vs := range params {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("auth_key", key)
	q.Set("auth_timestamp", strconv.FormatInt(now.Unix(), 10))
	q.Set("auth_version", "1.0")
	if len(body) > 0 {
		sum := md5.Sum(body)
		q.Set("body_md5", hex.EncodeToString(sum[:]))
	}
	q.Set("auth_signature", Sign(secret, strings.ToUpper(method)+"\n"+path+"\n"+canonicalQuery(q)))
	return q
}
