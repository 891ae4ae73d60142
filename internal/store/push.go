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

// JobPushFanout queues the rest of a large publish's delivery jobs, a
// batch per transaction (payload PushJob without Device).
const JobPushFanout = "push_fanout"

// PushJob is the payload of a JobPush (and of a JobPushFanout, without
// Device).
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
	// Deliveries is set by PublishPush: how many devices it went to
	// (so far, while a fan-out job queues the rest).
	Deliveries int
	// Batch bounds the delivery jobs PublishPush writes in the publish's
	// own transaction (default 1000); a publish reaching more devices
	// leaves the rest to a JobPushFanout, which FanOutPush serves a batch
	// per transaction.
	Batch int
	// FanOut is set by PublishPush when it left devices to a fan-out job.
	FanOut    bool
	CreatedAt time.Time
}

// PushAlertJob builds the notice job for an instance crossing threshold
// percent of its monthly quota (used of limit).
type PushAlertJob func(threshold int, used, limit int64) *Job

// PushAPNsCredentials are an instance's own APNs token key: the .p8
// key (PEM; the store seals it), its key id, the team id and the app's
// bundle id (apns-topic). Sandbox sends to Apple's development server.
type PushAPNsCredentials struct {
	Key       string
	KeyID     string
	TeamID    string
	Topic     string
	Sandbox   bool
	UpdatedAt time.Time
}

// PushFCMCredentials are an instance's own FCM service account: its
// project, client e-mail and private key (PEM; the store seals it).
type PushFCMCredentials struct {
	ProjectID   string
	ClientEmail string
	PrivateKey  string
	UpdatedAt   time.Time
}

// PushCredentials are an instance's own credentials; a nil platform uses
// the process's defaults.
type PushCredentials struct {
	APNs *PushAPNsCredentials
	FCM  *PushFCMCredentials
}

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
	// monthly quota, in one transaction. A publish reaching more than
	// p.Batch devices gets the jobs of the first p.Batch and a
	// JobPushFanout for the rest in that transaction (p.FanOut). At the
	// quota it stores no publish and returns ErrPushQuota (with the
	// month's notices not sent yet, when the quota was lowered). When the count
	// crosses 80 % or 100 % of the quota for the first time in the month,
	// it also stores alert's job. It sets p.Deliveries.
	PublishPush(ctx context.Context, p *PushPublish, alert PushAlertJob) error
	// FanOutPush queues the next batch (at most batch devices) of a
	// publish's delivery jobs after its fan-out cursor, skipping the
	// suppressed devices and users, and moves the cursor in the same
	// transaction. It returns how many jobs it queued and whether every
	// device is now queued (true too for a publish gone or done).
	FanOutPush(ctx context.Context, instanceID, id string, suppressed map[string]bool, batch int) (n int, done bool, err error)
	// GetPushPublish reads a publish.
	GetPushPublish(ctx context.Context, instanceID, id string) (*PushPublish, error)
	// SetPushQuota sets an instance's publishes per UTC month (0:
	// unlimited); PushQuota reads it and the month's use at at.
	SetPushQuota(ctx context.Context, instanceID string, maxPerMonth int64) error
	PushQuota(ctx context.Context, instanceID string, at time.Time) (max, used int64, err error)
	// SetPushAPNs and SetPushFCM set or replace an instance's own
	// credentials (of accountID); DeletePushAPNs and DeletePushFCM remove
	// them (ErrNotFound if it had none). PushCredentials reads them.
	SetPushAPNs(ctx context.Context, accountID, instanceID string, c *PushAPNsCredentials) error
	SetPushFCM(ctx context.Context, accountID, instanceID string, c *PushFCMCredentials) error
	DeletePushAPNs(ctx context.Context, instanceID string) error
	DeletePushFCM(ctx context.Context, instanceID string) error
	PushCredentials(ctx context.Context, instanceID string) (*PushCredentials, error)
	// PurgePushPublishes deletes publishes (and usage of months) from
	// before the time, saying how many publishes went.
	PurgePushPublishes(ctx context.Context, before time.Time) (int, error)
}
