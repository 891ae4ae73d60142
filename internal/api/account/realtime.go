package account

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/omnigate/omnigate/internal/audit"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
)

// The account's realtime apps (docs/realtime.md): the credentials that
// pusher-js and the Pusher server SDKs use with omnigate's Pusher
// Channels-compatible server. Authenticated with the account's access key
// like every endpoint here; test keys may read apps without their secrets
// (a live credential) and their error log (clients' addresses), and may not
// change them.
//
//	GET    /realtime/apps               the account's apps (without secrets)
//	POST   /realtime/apps               a new app; answers its secret
//	GET    /realtime/apps/{id}          one app, with its secret
//	PATCH  /realtime/apps/{id}          change name, enabled, limits, webhook
//	POST   /realtime/apps/{id}/rotate   a new secret; the old one stays valid for a grace period
//	DELETE /realtime/apps/{id}          delete it with its usage and error log
//	GET    /realtime/apps/{id}/errors   the error log: refused and closed connections, newest first

// RealtimeApps is the door to the account's realtime apps, kept in st.
func (a *API) RealtimeApps(st store.Realtime) *RealtimeApps {
	return &RealtimeApps{api: a, st: st}
}

// RealtimeApps serves the realtime app endpoints.
type RealtimeApps struct {
	api *API
	st  store.Realtime
}

// Register adds the realtime app endpoints to mux.
func (h *RealtimeApps) Register(mux *http.ServeMux) {
	h.api.rest.Handle(mux, "GET /realtime/apps", h.list)
	h.api.rest.Handle(mux, "POST /realtime/apps", h.create)
	h.api.rest.Handle(mux, "GET /realtime/apps/{id}", h.get)
	h.api.rest.Handle(mux, "PATCH /realtime/apps/{id}", h.update)
	h.api.rest.Handle(mux, "DELETE /realtime/apps/{id}", h.delete)
	h.api.rest.Handle(mux, "POST /realtime/apps/{id}/rotate", h.rotate)
	h.api.rest.Handle(mux, "GET /realtime/apps/{id}/errors", h.errorLog)
	rest.MethodNotAllowed(mux, "/realtime/apps", "/realtime/apps/{id}", "/realtime/apps/{id}/rotate", "/realtime/apps/{id}/errors")
}

// appRequest is the body of POST and PATCH; absent fields are left as
// they are (PATCH) or take their defaults (POST).
type appRequest struct {
	Name              json.RawMessage `json:"name"`
	Enabled           json.RawMessage `json:"enabled"`
	MaxConnections    json.RawMessage `json:"max_connections"`
	MaxMessagesPerDay json.RawMessage `json:"max_messages_per_day"`
	WebhookURL        json.RawMessage `json:"webhook_url"`
	WebhookEvents     json.RawMessage `json:"webhook_events"`
	ClientEventRate   json.RawMessage `json:"client_event_rate"`
	SubscriptionCount json.RawMessage `json:"subscription_count"`
}

// apply sets the fields the request has on app.
func (req *appRequest) apply(app *store.RealtimeApp) *rest.Problem {
	if req.Name != nil {
		s, p := rest.JSONText("name", req.Name)
		if p != nil {
			return p
		}
		app.Name = s
	}
	if req.Enabled != nil {
		b, p := rest.JSONBool("enabled", req.Enabled)
		if p != nil {
			return p
		}
		app.Enabled = b
	}
	if req.SubscriptionCount != nil {
		b, p := rest.JSONBool("subscription_count", req.SubscriptionCount)
		if p != nil {
			return p
		}
		app.SubscriptionCount = b
	}
	ints := []struct {
		name string
		raw  json.RawMessage
		set  func(int)
	}{
		{"max_connections", req.MaxConnections, func(v int) { app.MaxConnections = v }},
		{"max_messages_per_day", req.MaxMessagesPerDay, func(v int) { app.MaxMessagesPerDay = int64(v) }},
		{"client_event_rate", req.ClientEventRate, func(v int) { app.ClientEventRate = v }},
	}
	for _, f := range ints {
		if f.raw == nil {
			continue
		}
		v, p := rest.JSONInt(f.name, f.raw)
		if p != nil {
			return p
		}
		if v == nil {
			f.set(0)
		} else {
			f.set(*v)
		}
	}
	if req.WebhookURL != nil {
		s, p := rest.JSONText("webhook_url", req.WebhookURL)
		if p != nil {
			return p
		}
		app.WebhookURL = s
	}
	if req.WebhookEvents != nil {
		list, p := rest.JSONList("webhook_events", req.WebhookEvents, true)
		if p != nil {
			return p
		}
		app.WebhookEvents = list
	}
	return nil
}

// realtimeProblem turns the realtime package's refusals into the API's
// errors; other errors pass.
func realtimeProblem(err error) error {
	var in *realtime.InputError
	switch {
	case errors.As(err, &in):
		return rest.Invalid(in.Field, in.Field+" "+in.Reason)
	case errors.Is(err, store.ErrNotFound):
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "realtime app not found")
	}
	return err
}

func errTestKeyReadOnly() *rest.Problem { return rest.TestKeyRefused("change realtime apps") }

// list answers GET /realtime/apps.
func (h *RealtimeApps) list(w http.ResponseWriter, r *http.Request) error {
	apps, err := h.st.ListRealtimeApps(r.Context(), rest.Principal(r.Context()).AccountID)
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]realtime.AppJSON, len(apps))
	for i, app := range apps {
		items[i] = realtime.ShowApp(app, false, now)
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items []realtime.AppJSON `json:"items"`
	}{items})
	return nil
}

// create answers POST /realtime/apps with the new app and its secret (201).
func (h *RealtimeApps) create(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errTestKeyReadOnly()
	}
	var req appRequest
	if p := h.api.decodeOptionalJSON(w, r, &req); p != nil {
		return p
	}
	want := &store.RealtimeApp{Enabled: true}
	if p := req.apply(want); p != nil {
		return p
	}
	app, err := realtime.CreateApp(r.Context(), h.st, pr.AccountID, want.Name, func(app *store.RealtimeApp) {
		app.Enabled, app.MaxConnections, app.MaxMessagesPerDay = want.Enabled, want.MaxConnections, want.MaxMessagesPerDay
		app.WebhookURL, app.WebhookEvents, app.ClientEventRate = want.WebhookURL, want.WebhookEvents, want.ClientEventRate
		app.SubscriptionCount = want.SubscriptionCount
	})
	if err != nil {
		return realtimeProblem(err)
	}
	audit.Noted(r.Context()).Object("/realtime/apps/" + app.ID)
	rest.WriteJSON(w, http.StatusCreated, realtime.ShowApp(app, true, time.Now()))
	return nil
}

// get answers GET /realtime/apps/{id}, with the secret for a live key.
func (h *RealtimeApps) get(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	app, err := h.st.GetRealtimeApp(r.Context(), pr.AccountID, r.PathValue("id"))
	if err != nil {
		return realtimeProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, realtime.ShowApp(app, !pr.Test, time.Now()))
	return nil
}

// update answers PATCH /realtime/apps/{id}. The running servers see the
// change within their app cache's TTL (5 s).
func (h *RealtimeApps) update(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errTestKeyReadOnly()
	}
	var req appRequest
	if p := h.api.decodeJSON(w, r, &req); p != nil {
		return p
	}
	app, err := h.st.GetRealtimeApp(r.Context(), pr.AccountID, r.PathValue("id"))
	if err != nil {
		return realtimeProblem(err)
	}
	if p := req.apply(app); p != nil {
		return p
	}
	if err := realtime.ValidateApp(app); err != nil {
		return realtimeProblem(err)
	}
	if err := h.st.UpdateRealtimeApp(r.Context(), app); err != nil {
		return realtimeProblem(err)
	}
	app, err = h.st.GetRealtimeApp(r.Context(), pr.AccountID, app.ID)
	if err != nil {
		return realtimeProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, realtime.ShowApp(app, true, time.Now()))
	return nil
}

// rotate answers POST /realtime/apps/{id}/rotate with the app and its new
// secret. An optional body {"grace_seconds": N} says how long the old
// secret stays valid (default 24 hours; at most 30 days).
func (h *RealtimeApps) rotate(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errTestKeyReadOnly()
	}
	var req struct {
		Grace json.RawMessage `json:"grace_seconds"`
	}
	if p := h.api.decodeOptionalJSON(w, r, &req); p != nil {
		return p
	}
	grace := realtime.DefaultSecretGrace
	if req.Grace != nil {
		v, p := rest.JSONInt("grace_seconds", req.Grace)
		if p != nil {
			return p
		}
		if v != nil {
			if *v < 1 || *v > MaxSecretGraceSeconds {
				return rest.Invalid("grace_seconds", "grace_seconds must be from 1 to 2592000 (30 days)")
			}
			grace = time.Duration(*v) * time.Second
		}
	}
	app, err := realtime.RotateSecret(r.Context(), h.st, pr.AccountID, r.PathValue("id"), grace)
	if err != nil {
		return realtimeProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, realtime.ShowApp(app, true, time.Now()))
	return nil
}

// MaxSecretGraceSeconds bounds how long a rotated-out secret stays valid.
const MaxSecretGraceSeconds = 30 * 24 * 3600

// delete answers DELETE /realtime/apps/{id} (204). Its connections are
// closed with 4001 within the app cache's TTL.
func (h *RealtimeApps) delete(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errTestKeyReadOnly()
	}
	if err := h.st.DeleteRealtimeApp(r.Context(), pr.AccountID, r.PathValue("id")); err != nil {
		return realtimeProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errorLog answers GET /realtime/apps/{id}/errors: at most the newest 100
// entries of the last 14 days, with the clients' IP addresses (none for a
// test key).
func (h *RealtimeApps) errorLog(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if _, err := h.st.GetRealtimeApp(r.Context(), pr.AccountID, r.PathValue("id")); err != nil {
		return realtimeProblem(err)
	}
	var list []store.RealtimeError
	if !pr.Test {
		var err error
		if list, err = h.st.ListRealtimeErrors(r.Context(), pr.AccountID, r.PathValue("id")); err != nil {
			return err
		}
	}
	items := make([]realtime.ErrorJSON, len(list))
	for i, e := range list {
		items[i] = realtime.ShowError(e)
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		Items []realtime.ErrorJSON `json:"items"`
	}{items})
	return nil
}

// decodeOptionalJSON is decodeJSON for a body that may be empty.
func (a *API) decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) *rest.Problem {
	body, p := rest.ReadBody(w, r, a.rest.MaxBody())
	if p != nil {
		return p
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeStrict(body, v)
}
