package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/store"
)

// UseBeams serves the Beams instances' quotas (docs/push.md) from st.
func (a *API) UseBeams(st interface {
	store.Realtime
	store.Push
}) {
	a.beams = st
}

// registerBeams: a Beams instance's monthly publish quota (PUSH-1), which
// the account may read and only the operator may set.
func (a *API) registerBeams(mux *http.ServeMux) {
	if a.beams == nil {
		return
	}
	a.handle(mux, "GET /admin/beams/instances/{id}/quota", a.getBeamsQuota)
	a.handle(mux, "PUT /admin/beams/instances/{id}/quota", a.putBeamsQuota)
}

// beamsQuotaJSON is an instance's quota (0: unlimited) and the UTC
// month's publishes, as `omnigate beams quota` prints it.
type beamsQuotaJSON struct {
	InstanceID           string `json:"instanceId"`
	AccountID            string `json:"accountId"`
	MaxPublishesPerMonth int64  `json:"maxPublishesPerMonth"`
	PublishesThisMonth   int64  `json:"publishesThisMonth"`
	Month                string `json:"month"`
}

func (a *API) beamsInstance(r *http.Request) (*store.RealtimeApp, error) {
	app, err := a.beams.RealtimeAppByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, &problem{http.StatusNotFound, 20, "", "no Beams instance " + r.PathValue("id"), nil}
	}
	return app, err
}

func (a *API) writeBeamsQuota(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	now := time.Now().UTC()
	max, used, err := a.beams.PushQuota(r.Context(), app.ID, now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, beamsQuotaJSON{InstanceID: app.ID, AccountID: app.AccountID, MaxPublishesPerMonth: max,
		PublishesThisMonth: used, Month: now.Format("2006-01")})
	return nil
}

// getBeamsQuota: GET /admin/beams/instances/{id}/quota.
func (a *API) getBeamsQuota(w http.ResponseWriter, r *http.Request) error {
	app, err := a.beamsInstance(r)
	if err != nil {
		return err
	}
	return a.writeBeamsQuota(w, r, app)
}

// putBeamsQuota: PUT /admin/beams/instances/{id}/quota
// {"maxPublishesPerMonth": N} (0: unlimited). A quota already used to 80
// or 100 % sends its notice with the next publish.
func (a *API) putBeamsQuota(w http.ResponseWriter, r *http.Request) error {
	app, err := a.beamsInstance(r)
	if err != nil {
		return err
	}
	var req struct {
		Max *int64 `json:"maxPublishesPerMonth"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Max == nil {
		return &problem{http.StatusUnprocessableEntity, 9, "maxPublishesPerMonth", "no (maxPublishesPerMonth) given", nil}
	}
	if *req.Max < 0 {
		return invalid("maxPublishesPerMonth", "maxPublishesPerMonth must not be negative (0: unlimited)")
	}
	before, _, err := a.beams.PushQuota(r.Context(), app.ID, time.Now())
	if err != nil {
		return err
	}
	if err := a.beams.SetPushQuota(r.Context(), app.ID, *req.Max); err != nil {
		return err
	}
	n := audit.Noted(r.Context())
	n.Account(app.AccountID)
	n.Changed(map[string]int64{"maxPublishesPerMonth": before}, map[string]int64{"maxPublishesPerMonth": *req.Max})
	return a.writeBeamsQuota(w, r, app)
}
