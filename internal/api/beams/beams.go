// Package beams is the Pusher Beams door: the publish API, the user API
// and the device API that Beams' server and client SDKs call, shaped as
// Pusher's public contract (paths, bearer secret key, Beams tokens, the
// {"error", "description"} answers). The logic is package push's.
package beams

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/store"
)

// Door serves the Beams APIs.
type Door struct {
	svc *push.Service
	log *slog.Logger
	// ErrorLog, when set, records each device API request refused, with
	// the client's address, in the instance's (realtime app's) error log,
	// which keeps the newest 100 entries for at most 14 days.
	ErrorLog store.RealtimeErrorLog
	// Guard, when set, limits failed authentications (secret keys, Beams
	// tokens) per client address and per instance, answering 429.
	Guard *authguard.Guard
}

// guarded runs check (an authentication) under the guard: refused with a
// Beams 429 while the client or the instance has failed too often, and
// counted as a failure when check answers 401.
func (d *Door) guarded(r *http.Request, check func() error) error {
	source := r.RemoteAddr
	if host, _, err := net.SplitHostPort(source); err == nil {
		source = host
	}
	id := r.PathValue("instance")
	at := authguard.Attempt{Door: authguard.Beams, Source: source, Prefix: id[:min(len(id), 64)]}
	if wait, ok := d.Guard.Allow(at); !ok {
		return push.Errorf(http.StatusTooManyRequests, "Too many failed authentications from this address or for this instance: try again in %s s",
			authguard.RetryAfter(wait))
	}
	err := check()
	var e *push.Error
	switch {
	case err == nil:
		d.Guard.Succeeded(at)
	case errors.As(err, &e) && e.Status == http.StatusUnauthorized:
		d.Guard.Failed(at, e.Description)
	}
	return err
}

// New makes the door.
func New(svc *push.Service, log *slog.Logger) *Door { return &Door{svc: svc, log: log} }

// Register adds the Beams routes.
func (d *Door) Register(mux *http.ServeMux) {
	const pub = "/publish_api/v1/instances/{instance}/publishes"
	mux.HandleFunc("POST "+pub, d.publish("interests"))
	mux.HandleFunc("POST "+pub+"/interests", d.publish("interests"))
	mux.HandleFunc("POST "+pub+"/users", d.publish("users"))
	// The server SDKs delete users at user_api; the HTTP reference also
	// names customer_api.
	mux.HandleFunc("DELETE /user_api/v1/instances/{instance}/users/{user}", d.deleteUser)
	mux.HandleFunc("DELETE /customer_api/v1/instances/{instance}/users/{user}", d.deleteUser)

	const dev = "/device_api/v1/instances/{instance}/devices/{platform}"
	mux.HandleFunc("POST "+dev, d.device(d.register))
	mux.HandleFunc("GET "+dev+"/{device}", d.device(d.getDevice))
	mux.HandleFunc("DELETE "+dev+"/{device}", d.device(d.deleteDevice))
	mux.HandleFunc("PUT "+dev+"/{device}/metadata", d.device(d.metadata))
	mux.HandleFunc("PUT "+dev+"/{device}/user_id", d.device(d.setUser))
	mux.HandleFunc("GET "+dev+"/{device}/interests", d.device(d.getInterests))
	mux.HandleFunc("PUT "+dev+"/{device}/interests", d.device(d.setInterests))
	mux.HandleFunc("POST "+dev+"/{device}/interests/{interest}", d.device(d.addInterest))
	mux.HandleFunc("PUT "+dev+"/{device}/interests/{interest}", d.device(d.addInterest))
	mux.HandleFunc("DELETE "+dev+"/{device}/interests/{interest}", d.device(d.removeInterest))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fail answers an error in Beams' shape; errors not of push are 500s,
// logged, their text not shown.
func (d *Door) fail(w http.ResponseWriter, err error) int {
	var e *push.Error
	if !errors.As(err, &e) {
		d.log.Error("beams: request failed", "err", err)
		e = push.Errorf(http.StatusInternalServerError, "Something went wrong; try again later")
	}
	writeJSON(w, e.Status, e)
	return e.Status
}

// body reads a request body up to limit bytes (one more tells it is too
// large).
func body(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, push.Errorf(http.StatusBadRequest, "Could not read the request body")
	}
	if int64(len(b)) > limit {
		return nil, push.Errorf(http.StatusRequestEntityTooLarge, "Request body is larger than the limit of %d bytes", limit)
	}
	return b, nil
}

func (d *Door) publish(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, err := d.authorize(r)
		if err != nil {
			d.fail(w, err)
			return
		}
		b, err := body(r, push.MaxPublishBody)
		if err != nil {
			d.fail(w, err)
			return
		}
		p, err := push.ParsePublish(b, target)
		if err != nil {
			d.fail(w, err)
			return
		}
		id, err := d.svc.Publish(r.Context(), app, p)
		if err != nil {
			d.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"publishId": id})
	}
}

// authorize checks the request's secret key, under the guard.
func (d *Door) authorize(r *http.Request) (*store.RealtimeApp, error) {
	var app *store.RealtimeApp
	err := d.guarded(r, func() error {
		var err error
		app, err = d.svc.Authorize(r.Context(), r.PathValue("instance"), r.Header.Get("Authorization"))
		return err
	})
	return app, err
}

func (d *Door) deleteUser(w http.ResponseWriter, r *http.Request) {
	app, err := d.authorize(r)
	if err != nil {
		d.fail(w, err)
		return
	}
	if err := d.svc.DeleteUser(r.Context(), app, r.PathValue("user")); err != nil {
		d.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// deviceHandler is a device API handler once the instance is known.
type deviceHandler func(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error

// device finds the instance and checks the platform of a device API
// request; refusals are logged with the client's address.
func (d *Door) device(h deviceHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, err := d.svc.Instance(r.Context(), r.PathValue("instance"))
		if err == nil {
			switch r.PathValue("platform") {
			case store.PushWeb, store.PushAPNs, store.PushFCM:
				err = h(w, r, app)
			default:
				err = push.Errorf(http.StatusNotFound, "Unknown platform %q: use web, apns or fcm", r.PathValue("platform"))
			}
		}
		if err == nil {
			return
		}
		status := d.fail(w, err)
		var e *push.Error
		if app != nil && d.ErrorLog != nil && errors.As(err, &e) {
			d.logError(app, status, e.Description, r.RemoteAddr)
		}
	}
}

// logError writes a refused device API request to the error log.
func (d *Door) logError(app *store.RealtimeApp, status int, description, remote string) {
	ip := remote
	if host, _, err := net.SplitHostPort(remote); err == nil {
		ip = host
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.ErrorLog.AddRealtimeErrors(ctx, []store.RealtimeError{{AccountID: app.AccountID, AppID: app.ID, Code: status,
		Message: "beams device API: " + description, IP: ip, At: time.Now().UTC()}})
	if err != nil {
		d.log.Warn("beams: recording a device API error", "err", err)
	}
}

func (d *Door) register(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	b, err := body(r, push.MaxDeviceBody)
	if err != nil {
		return err
	}
	id, err := d.svc.RegisterDevice(r.Context(), app, r.PathValue("platform"), b)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}

// ownDevice reads the request's device, which must be of its platform.
func (d *Door) ownDevice(r *http.Request, app *store.RealtimeApp) (*store.PushDevice, error) {
	dev, err := d.svc.Device(r.Context(), app, r.PathValue("device"))
	if err != nil {
		return nil, err
	}
	if dev.Platform != r.PathValue("platform") {
		return nil, push.Errorf(http.StatusNotFound, "Device not found")
	}
	return dev, nil
}

func (d *Door) getDevice(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	dev, err := d.ownDevice(r, app)
	if err != nil {
		return err
	}
	out := map[string]any{"id": dev.ID, "userId": dev.UserID}
	if dev.Metadata != "" {
		out["metadata"] = json.RawMessage(dev.Metadata)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (d *Door) deleteDevice(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	if _, err := d.ownDevice(r, app); err != nil {
		return err
	}
	if err := d.svc.DeleteDevice(r.Context(), app, r.PathValue("device")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (d *Door) metadata(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	dev, err := d.ownDevice(r, app)
	if err != nil {
		return err
	}
	b, err := body(r, push.MaxDeviceBody)
	if err != nil {
		return err
	}
	if !json.Valid(b) {
		return push.Errorf(http.StatusBadRequest, "Request body is not valid JSON")
	}
	if err := d.svc.SetMetadata(r.Context(), app, dev, string(b)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (d *Door) setUser(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	if _, err := d.ownDevice(r, app); err != nil {
		return err
	}
	if err := d.guarded(r, func() error {
		_, err := d.svc.SetUser(r.Context(), app, r.PathValue("device"), r.Header.Get("Authorization"))
		return err
	}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (d *Door) getInterests(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	if _, err := d.ownDevice(r, app); err != nil {
		return err
	}
	in, err := d.svc.Interests(r.Context(), app, r.PathValue("device"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"interests": in, "responseMetadata": map[string]any{}})
	return nil
}

func (d *Door) setInterests(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	if _, err := d.ownDevice(r, app); err != nil {
		return err
	}
	b, err := body(r, 10*push.MaxDeviceBody)
	if err != nil {
		return err
	}
	if err := d.svc.SetInterests(r.Context(), app, r.PathValue("device"), b); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (d *Door) addInterest(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	if _, err := d.ownDevice(r, app); err != nil {
		return err
	}
	if err := d.svc.AddInterest(r.Context(), app, r.PathValue("device"), r.PathValue("interest")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (d *Door) removeInterest(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp) error {
	if _, err := d.ownDevice(r, app); err != nil {
		return err
	}
	if err := d.svc.RemoveInterest(r.Context(), app, r.PathValue("device"), r.PathValue("interest")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
