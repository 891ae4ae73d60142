package account

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/store"
)

// The account's Beams instances (docs/push.md): a Beams instance is a
// realtime app, so it is made, renamed, rotated and deleted as one
// (/realtime/apps). Here are what only push has: the instance's own APNs
// and FCM credentials, which replace the platform's defaults for its
// deliveries, and its monthly publish quota with this month's use (set
// by the operator: omnigate beams quota, or the admin API). Keys are
// stored sealed and never shown back: an answer names the key id, team,
// topic and project. Test keys may read, not change.
//
//	GET    /beams/instances/{id}          credentials (without keys), quota and use
//	GET    /beams/instances/{id}/quota    the monthly quota and this month's publishes
//	PUT    /beams/instances/{id}/apns     {"key": ".p8 text", "key_id", "team_id", "topic", "sandbox"}
//	DELETE /beams/instances/{id}/apns     back to the platform's APNs credentials
//	PUT    /beams/instances/{id}/fcm      {"service_account": {key file} or its text}
//	DELETE /beams/instances/{id}/fcm      back to the platform's FCM credentials

// BeamsStore is what the Beams endpoints keep.
type BeamsStore interface {
	store.Realtime
	store.Push
}

// Beams is the door to the account's Beams instances' settings.
type Beams struct {
	api *API
	st  BeamsStore
}

// Beams makes the Beams instances' door over st.
func (a *API) Beams(st BeamsStore) *Beams { return &Beams{api: a, st: st} }

// Register adds the Beams endpoints to mux.
func (h *Beams) Register(mux *http.ServeMux) {
	h.api.rest.Handle(mux, "GET /beams/instances/{id}", h.get)
	h.api.rest.Handle(mux, "GET /beams/instances/{id}/quota", h.quota)
	h.api.rest.Handle(mux, "PUT /beams/instances/{id}/apns", h.putAPNs)
	h.api.rest.Handle(mux, "DELETE /beams/instances/{id}/apns", h.deleteAPNs)
	h.api.rest.Handle(mux, "PUT /beams/instances/{id}/fcm", h.putFCM)
	h.api.rest.Handle(mux, "DELETE /beams/instances/{id}/fcm", h.deleteFCM)
	rest.MethodNotAllowed(mux, "/beams/instances/{id}", "/beams/instances/{id}/quota", "/beams/instances/{id}/apns", "/beams/instances/{id}/fcm")
}

// APNsJSON shows an instance's APNs credentials without the key.
type APNsJSON struct {
	KeyID     string `json:"key_id"`
	TeamID    string `json:"team_id"`
	Topic     string `json:"topic"`
	Sandbox   bool   `json:"sandbox"`
	UpdatedAt string `json:"updated_at"`
}

// FCMJSON shows an instance's FCM service account without the key.
type FCMJSON struct {
	ProjectID   string `json:"project_id"`
	ClientEmail string `json:"client_email"`
	UpdatedAt   string `json:"updated_at"`
}

// QuotaJSON is an instance's monthly publish quota (0: unlimited) and
// the publishes of the UTC month.
type QuotaJSON struct {
	MaxPublishesPerMonth int64  `json:"max_publishes_per_month"`
	PublishesThisMonth   int64  `json:"publishes_this_month"`
	Month                string `json:"month"`
}

// instanceJSON is GET /beams/instances/{id}: null credentials are the
// platform's defaults.
type instanceJSON struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	APNs  *APNsJSON `json:"apns"`
	FCM   *FCMJSON  `json:"fcm"`
	Quota QuotaJSON `json:"quota"`
}

// instance finds the account's instance; 404 in the API's format.
func (h *Beams) instance(r *http.Request) (*store.RealtimeApp, error) {
	app, err := h.st.GetRealtimeApp(r.Context(), rest.Principal(r.Context()).AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "Beams instance not found")
	}
	return app, err
}

func (h *Beams) readQuota(r *http.Request, id string) (QuotaJSON, error) {
	now := time.Now().UTC()
	max, used, err := h.st.PushQuota(r.Context(), id, now)
	return QuotaJSON{MaxPublishesPerMonth: max, PublishesThisMonth: used, Month: now.Format("2006-01")}, err
}

// show answers an instance's settings.
func (h *Beams) show(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	creds, err := h.st.PushCredentials(r.Context(), app.ID)
	if err != nil {
		return err
	}
	q, err := h.readQuota(r, app.ID)
	if err != nil {
		return err
	}
	out := instanceJSON{ID: app.ID, Name: app.Name, Quota: q}
	if a := creds.APNs; a != nil {
		out.APNs = &APNsJSON{KeyID: a.KeyID, TeamID: a.TeamID, Topic: a.Topic, Sandbox: a.Sandbox, UpdatedAt: a.UpdatedAt.UTC().Format(time.RFC3339)}
	}
	if f := creds.FCM; f != nil {
		out.FCM = &FCMJSON{ProjectID: f.ProjectID, ClientEmail: f.ClientEmail, UpdatedAt: f.UpdatedAt.UTC().Format(time.RFC3339)}
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// get answers GET /beams/instances/{id}.
func (h *Beams) get(w http.ResponseWriter, r *http.Request) error {
	app, err := h.instance(r)
	if err != nil {
		return err
	}
	return h.show(w, r, app)
}

// quota answers GET /beams/instances/{id}/quota.
func (h *Beams) quota(w http.ResponseWriter, r *http.Request) error {
	app, err := h.instance(r)
	if err != nil {
		return err
	}
	q, err := h.readQuota(r, app.ID)
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, q)
	return nil
}

// changing finds the instance a live key may change.
func (h *Beams) changing(r *http.Request) (*store.RealtimeApp, error) {
	if rest.Principal(r.Context()).Test {
		return nil, rest.TestKeyRefused("change Beams credentials")
	}
	return h.instance(r)
}

func credentialProblem(err error) error {
	var ce *push.CredentialError
	if errors.As(err, &ce) {
		return rest.Invalid(ce.Field, ce.Field+" "+ce.Reason)
	}
	return err
}

// putAPNs answers PUT /beams/instances/{id}/apns: the key is checked
// (a P-256 .p8) and stored sealed.
func (h *Beams) putAPNs(w http.ResponseWriter, r *http.Request) error {
	app, err := h.changing(r)
	if err != nil {
		return err
	}
	var req struct {
		Key     *string `json:"key"`
		KeyID   *string `json:"key_id"`
		TeamID  *string `json:"team_id"`
		Topic   *string `json:"topic"`
		Sandbox bool    `json:"sandbox"`
	}
	if p := h.api.decodeJSON(w, r, &req); p != nil {
		return p
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"key", req.Key}, {"key_id", req.KeyID}, {"team_id", req.TeamID}, {"topic", req.Topic}} {
		if f.v == nil || *f.v == "" {
			return rest.Missing(f.name)
		}
	}
	c := &store.PushAPNsCredentials{Key: *req.Key, KeyID: *req.KeyID, TeamID: *req.TeamID, Topic: *req.Topic, Sandbox: req.Sandbox,
		UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := push.CheckAPNs(c); err != nil {
		return credentialProblem(err)
	}
	if err := h.st.SetPushAPNs(r.Context(), app.AccountID, app.ID, c); err != nil {
		return err
	}
	// The audit log names the key, never holds it.
	audit.Noted(r.Context()).Changed(nil, APNsJSON{KeyID: c.KeyID, TeamID: c.TeamID, Topic: c.Topic, Sandbox: c.Sandbox})
	return h.show(w, r, app)
}

// putFCM answers PUT /beams/instances/{id}/fcm: the service account's
// key file, as a JSON object or the file's text.
func (h *Beams) putFCM(w http.ResponseWriter, r *http.Request) error {
	app, err := h.changing(r)
	if err != nil {
		return err
	}
	var req struct {
		ServiceAccount json.RawMessage `json:"service_account"`
	}
	if p := h.api.decodeJSON(w, r, &req); p != nil {
		return p
	}
	if len(req.ServiceAccount) == 0 || string(req.ServiceAccount) == "null" {
		return rest.Missing("service_account")
	}
	file := []byte(req.ServiceAccount)
	var text string
	if json.Unmarshal(req.ServiceAccount, &text) == nil {
		file = []byte(text)
	}
	c, err := push.ParseServiceAccount(file)
	if err != nil {
		return credentialProblem(err)
	}
	c.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	if err := h.st.SetPushFCM(r.Context(), app.AccountID, app.ID, c); err != nil {
		return err
	}
	audit.Noted(r.Context()).Changed(nil, FCMJSON{ProjectID: c.ProjectID, ClientEmail: c.ClientEmail})
	return h.show(w, r, app)
}

// deleteAPNs and deleteFCM answer DELETE …/apns and …/fcm (204): the
// instance delivers with the platform's credentials again.
func (h *Beams) deleteAPNs(w http.ResponseWriter, r *http.Request) error {
	return h.deleteCreds(w, r, h.st.DeletePushAPNs, "APNs")
}

func (h *Beams) deleteFCM(w http.ResponseWriter, r *http.Request) error {
	return h.deleteCreds(w, r, h.st.DeletePushFCM, "FCM")
}

func (h *Beams) deleteCreds(w http.ResponseWriter, r *http.Request, del func(ctx context.Context, id string) error, what string) error {
	app, err := h.changing(r)
	if err != nil {
		return err
	}
	if err := del(r.Context(), app.ID); errors.Is(err, store.ErrNotFound) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "this instance has no "+what+" credentials of its own")
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
