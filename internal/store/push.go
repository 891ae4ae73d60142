package store

import (
	"context"
	"errors"
	"time"
)

// Push notifications (Pusher Beams-compatible; package push). A Beams
// instance is a realtime app (RealtimeApp): its ID is the instance id and
// its Secret the secret key, so rotation with notice and the error log are
// the app's.

// Push platforms.
const (
	PushWeb  = "web"
	PushAPNs = "apns"
	PushFCM  = "fcm"
)

// JobPush delivers one publish to one device (payload PushJob).
const JobPush = "push"

// PushJob is the payload of a JobPush.
type PushJob struct {
	Instance string `json:"instance"`
	Publish  string `json:"publish"`
	Device   string `json:"device"`
}

// PushDevice is a device a client SDK registered with an instance.
type PushDevice struct {
	InstanceID string
	ID         string // "web-…", "apns-…", "fcm-…"
	AccountID  string
	Platform   string // PushWeb, PushAPNs or PushFCM
	// Token is the APNs device token (hex), the FCM registration token or
	// the Web Push subscription (JSON).
	Token     string
	UserID    string // "" until a Beams token bound it to a user
	Metadata  string // the SDK's metadata as JSON text
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PushPublish is one publish request: to interests or to users.
type PushPublish struct {
	InstanceID string
	ID         string
	AccountID  string
	Target     string   // "interests" or "users"
	Targets    []string // the interests or user ids
	Body       []byte   // the request's platform payloads (apns, fcm, web) as JSON
	// Suppressed are devices and users not to deliver to (the
	// suppression ledger's "push" channel): each is a device id or a
	// user id.
	Suppressed map[string]bool
	// Deliveries is set by PublishPush: how many devices it went to.
	Deliveries int
	CreatedAt  time.Time
}

// PushAlertJob builds the notice job for an instance crossing threshold
// percent of its monthly quota (used of limit).
type PushAlertJob func(threshold int, used, limit int64) *Job

// ErrPushQuota is returned by PublishPush when the instance has used its
// monthly quota: nothing was stored.
var ErrPushQuota = errors.New("push quota reached")

// Push stores devices, interests, publishes and quotas. Methods are scoped
// by instance (a realtime app id the caller authenticated).
type Push interface {
	// PutPushDevice registers a device, or replaces the token and
	// metadata of one with its id (keeping its user and interests).
	PutPushDevice(ctx context.Context, d *PushDevice) error
	// GetPushDevice reads one device; ErrNotFound if none.
	GetPushDevice(ctx context.Context, instanceID, id string) (*PushDevice, error)
	// DeletePushDevice removes a device with its interests; ErrNotFound if
	// none.
	DeletePushDevice(ctx context.Context, instanceID, id string) error
	// SetPushUser binds a device to a user id.
	SetPushUser(ctx context.Context, instanceID, id, userID string) error
	// DeletePushUser removes every device of a user with their interests,
	// saying how many.
	DeletePushUser(ctx context.Context, instanceID, userID string) (int, error)
	// SetPushInterests replaces a device's interests; ErrNotFound if no
	// device.
	SetPushInterests(ctx context.Context, instanceID, id string, interests []string) error
	// AddPushInterest and RemovePushInterest change one interest of a
	// device (idempotent); ErrNotFound if no device.
	AddPushInterest(ctx context.Context, instanceID, id, interest string) error
	RemovePushInterest(ctx context.Context, instanceID, id, interest string) error
	// PushInterests lists a device's interests, sorted.
	PushInterests(ctx context.Context, instanceID, id string) ([]string, error)

	// PublishPush stores a publish and one JobPush per device it reaches
	// (devices subscribed to any of its interests, or bound to any of its
	// users, less p.Suppressed), counting it against the instance's
	// monthly quota, in one transaction. At the quota it stores nothing
	// and returns ErrPushQuota. When the count crosses 80 % or 100 % of
	// the quota for the first time in the month, it also stores alert's
	// job. It sets p.Deliveries.
	PublishPush(ctx context.Context, p *PushPublish, alert PushAlertJob) error
	// GetPushPublish reads a publish.
	GetPushPublish(ctx context.Context, instanceID, id string) (*PushPublish, error)
	// SetPushQuota sets an instance's publishes per UTC month (0:
	// unlimited); PushQuota reads it and the month's use at at.
	SetPushQuota(ctx context.Context, instanceID string, maxPerMonth int64) error
	PushQuota(ctx context.Context, instanceID string, at time.Time) (max, used int64, err error)
	// PurgePushPublishes deletes publishes (and usage of months) from
	// before the time, saying how many publishes went.
	PurgePushPublishes(ctx context.Context, before time.Time) (int, error)
}
