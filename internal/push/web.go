package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/omnigate/omnigate/internal/webpush"
)

// DefaultWebTTL is how long a push service keeps a web notification for an
// offline browser when the publish says nothing (Beams' default: 4 weeks).
const DefaultWebTTL = 4 * 7 * 24 * time.Hour

// Web delivers to browsers through their push service (RFC 8030), the
// payload encrypted for the subscription (RFC 8291) and signed with the
// server's VAPID key (RFC 8292).
type Web struct{ Client *webpush.Client }

// Deliver sends the publish's web payload (its notification and data, as
// JSON, which the page's service worker reads) to the subscription.
func (w *Web) Deliver(ctx context.Context, token string, body Body) (Result, error) {
	if body.Web == nil {
		return Result{}, &PermanentError{errors.New("web: the publish has no web payload")}
	}
	var sub webpush.Subscription
	if err := json.Unmarshal([]byte(token), &sub); err != nil {
		return Result{Gone: true}, nil // not a subscription: nothing can reach it
	}
	var in struct {
		Notification json.RawMessage `json:"notification,omitempty"`
		Data         json.RawMessage `json:"data,omitempty"`
		TTL          *int64          `json:"time_to_live,omitempty"`
	}
	if err := json.Unmarshal(body.Web, &in); err != nil {
		return Result{}, &PermanentError{fmt.Errorf("web: %w", err)}
	}
	ttl := DefaultWebTTL
	if in.TTL != nil {
		ttl = time.Duration(*in.TTL) * time.Second
	}
	in.TTL = nil
	payload, _ := json.Marshal(in)
	res, err := w.Client.Send(ctx, sub, webpush.Message{Payload: payload, TTL: ttl, Urgency: "normal"})
	var se *webpush.StatusError
	switch {
	case err == nil:
		return Result{Gone: res.Gone}, nil
	case errors.As(err, &se) && (se.Status == http.StatusTooManyRequests || se.Status >= 500):
		return Result{}, err
	case errors.As(err, &se):
		return Result{}, &PermanentError{err}
	case errors.Is(err, webpush.ErrInvalidSubscription):
		return Result{Gone: true}, nil // no push service can take it: forget the device
	case errors.Is(err, webpush.ErrInvalidMessage), errors.Is(err, webpush.ErrTooLarge):
		return Result{}, &PermanentError{err}
	}
	return Result{}, err
}
