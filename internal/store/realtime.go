package store

import (
	"context"
	"time"
)

// RealtimeApp is an app of the Pusher Channels-compatible realtime server:
// the credentials that clients (key) and the customer's servers (app id,
// key and secret) use, and the app's settings and limits.
type RealtimeApp struct {
	ID        string // app_id, as in the HTTP API's /apps/{app_id}/…
	AccountID string
	Name      string
	Key       string // public: WebSocket clients connect to /app/{key}
	// Secret signs channel authorizations, API requests and webhooks. The
	// customer needs it in clear, so it is encrypted at rest, not hashed
	// (like Account.SigningKey, and PreviousSecret).
	Secret string
	// PreviousSecret is the secret before the last rotation; it stays
	// valid until PreviousSecretExpiresAt, so that a rotation can be
	// rolled out with notice. Empty when there is none.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	// Enabled apps accept connections and API calls; a disabled app's
	// clients are closed with code 4003.
	Enabled bool
	// MaxConnections bounds concurrent connections across the cluster; 0
	// means unlimited.
	MaxConnections int
	// MaxMessagesPerDay bounds the messages of one UTC day (each event
	// published counts one per channel, each delivery to a connection one);
	// 0 means unlimited.
	MaxMessagesPerDay int64
	// WebhookURL receives the app's webhooks; empty: none.
	WebhookURL string
	// WebhookEvents are the webhook event types sent (channel_occupied,
	// channel_vacated, member_added, member_removed, client_event); empty
	// means all of them.
	WebhookEvents []string
	// ClientEventRate bounds client events per second per connection; 0
	// means the server's default (10).
	ClientEventRate int
	// SubscriptionCount sends pusher_internal:subscription_count to a
	// channel's subscribers when its subscription count changes, and the
	// subscription_count webhook event.
	SubscriptionCount bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ValidSecrets are the secrets that verify signatures at the given time:
// the current one, and the previous one until it expires.
func (a *RealtimeApp) ValidSecrets(now time.Time) []string {
	if a.PreviousSecret != "" && now.Before(a.PreviousSecretExpiresAt) {
		return []string{a.Secret, a.PreviousSecret}
	}
	return []string{a.Secret}
}

// RealtimeApps stores realtime apps. Methods that take an account id scope
// by it: another account's app answers ErrNotFound.
type RealtimeApps interface {
	// CreateRealtimeApp stores a new app. ErrNotFound if the account does
	// not exist, ErrConflict if the id or key is taken.
	CreateRealtimeApp(ctx context.Context, a *RealtimeApp) error
	// GetRealtimeApp reads one of an account's apps.
	GetRealtimeApp(ctx context.Context, accountID, id string) (*RealtimeApp, error)
	// ListRealtimeApps lists an account's apps, oldest first, or every
	// app with accountID "".
	ListRealtimeApps(ctx context.Context, accountID string) ([]*RealtimeApp, error)
	// UpdateRealtimeApp changes an app's name, Enabled, limits, webhook
	// settings and client event rate (not its credentials; see
	// RotateRealtimeSecret), and sets UpdatedAt.
	UpdateRealtimeApp(ctx context.Context, a *RealtimeApp) error
	// RotateRealtimeSecret makes secret the app's secret and keeps the
	// current one valid until previousUntil, in one step, and returns the
	// app as it now is.
	RotateRealtimeSecret(ctx context.Context, accountID, id, secret string, previousUntil time.Time) (*RealtimeApp, error)
	// DeleteRealtimeApp removes an app with its usage and error log.
	DeleteRealtimeApp(ctx context.Context, accountID, id string) error

	// RealtimeAppByID and RealtimeAppByKey find an app for the realtime
	// server, before a request is authenticated with the app's secret.
	RealtimeAppByID(ctx context.Context, id string) (*RealtimeApp, error)
	RealtimeAppByKey(ctx context.Context, key string) (*RealtimeApp, error)
}

// Realtime usage limits, as named in alerts and in the alert records.
const (
	RealtimeLimitConnections = "connections"
	RealtimeLimitMessages    = "messages"
)

// RealtimeUsage counts an app's messages per UTC day, shared by every node,
// and records which usage alerts were sent.
type RealtimeUsage interface {
	// AddRealtimeMessages adds n messages to the app's count for the UTC
	// day of at and returns the day's new total (n may be 0 to read it).
	AddRealtimeMessages(ctx context.Context, appID string, at time.Time, n int64) (int64, error)
	// MarkRealtimeAlert records that the alert for limit at threshold
	// (percent) was sent for the app on the UTC day of at. It reports
	// whether this call recorded it: only the first caller of a day, on
	// any node, gets true.
	MarkRealtimeAlert(ctx context.Context, appID, limit string, threshold int, at time.Time) (bool, error)
	// PurgeRealtimeUsage drops counts and alert records of UTC days
	// before the day of before, returning how many rows went.
	PurgeRealtimeUsage(ctx context.Context, before time.Time) (int, error)
}

// Retention of the realtime error log.
const (
	// RealtimeErrorsPerApp is how many errors are kept per app: adding
	// more deletes the oldest.
	RealtimeErrorsPerApp = 100
	// RealtimeErrorRetention is how long an error (with the client's IP)
	// is kept at most; PurgeRealtimeErrors deletes older ones.
	RealtimeErrorRetention = 14 * 24 * time.Hour
)

// RealtimeError is one entry of an app's error log: a connection that was
// refused or closed for an error, with the client's IP address.
type RealtimeError struct {
	ID        int64
	AccountID string
	AppID     string
	Code      int    // Pusher error or close code, e.g. 4004
	Message   string // as sent to the client
	IP        string // the client's address: personal data
	At        time.Time
}

// RealtimeErrorLog keeps the latest errors of each app, for the customer
// to see why clients were refused.
type RealtimeErrorLog interface {
	// AddRealtimeErrors stores errors and, in the same transaction,
	// deletes each app's errors beyond the newest RealtimeErrorsPerApp.
	AddRealtimeErrors(ctx context.Context, errs []RealtimeError) error
	// ListRealtimeErrors lists one of an account's apps' errors, newest
	// first.
	ListRealtimeErrors(ctx context.Context, accountID, appID string) ([]RealtimeError, error)
	// PurgeRealtimeErrors deletes errors from before the time (call it
	// with now minus RealtimeErrorRetention), returning how many.
	PurgeRealtimeErrors(ctx context.Context, before time.Time) (int, error)
}

// Realtime is everything the realtime server keeps in the database.
type Realtime interface {
	RealtimeApps
	RealtimeUsage
	RealtimeErrorLog
}
