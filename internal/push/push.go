// Package push is omnigate's Pusher Beams-compatible push notification
// service: devices registered by the Beams client SDKs (web, apns, fcm)
// with their interests and users, publishes to interests and to users, and
// their delivery to each device through a Deliverer per platform (APNs
// over HTTP/2 with token auth, FCM HTTP v1, Web Push).
//
// A Beams instance is a realtime app (store.RealtimeApp): the instance id
// is the app id and the secret key the app's secret, so credentials rotate
// with notice as the app's do. A publish is stored with one durable job
// (store.JobPush) per device it reaches, in one transaction — past
// Config.FanoutBatch devices, the first batch and a fan-out job that
// queues the rest a batch per transaction; a worker pool delivers them,
// retried with backoff, and removes devices the push service calls
// unregistered. An instance may have its own APNs and FCM credentials
// (credentials.go), used instead of the process's. Each instance may have a quota of publishes
// per UTC month: at 80 % and 100 % the account gets a notice
// (internal/notice), and at 100 % publishes are refused until the month
// ends or the quota is raised. Devices and users suppressed on the "push"
// channel of the account's suppression list receive nothing.
package push

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webpush"
	"github.com/omnigate/omnigate/internal/worker"
)

// Channel is the suppression list's channel of push notifications: an
// entry is a device id or a user id.
const Channel = "push"

// NoticeType is the type of a push quota notice.
const NoticeType = "push.usage_alert"

// Store is what the service keeps in the database.
type Store interface {
	store.Queue
	store.Push
	RealtimeAppByID(ctx context.Context, id string) (*store.RealtimeApp, error)
	Suppressions(ctx context.Context, accountID string, f store.SuppressionFilter) ([]store.Suppression, error)
}

// Config tunes the Service. Zero values mean the documented defaults.
type Config struct {
	// APNs, FCM and Web deliver to their platforms; nil: devices of that
	// platform can register, but deliveries to them are dropped (logged).
	APNs, FCM, Web Deliverer
	// Pool tunes leasing of delivery jobs; its Kind is set to JobPush.
	Pool worker.Config
	// Timeout bounds one delivery; default 15 s.
	Timeout time.Duration
	// Retry spaces attempts of a delivery that failed (default 5 s
	// doubling to 10 minutes), at most MaxAttempts (default 10).
	Retry       worker.Backoff
	MaxAttempts int
	// OnDelivery, when set, is called after each delivery attempt with
	// its platform and outcome ("delivered", "gone", "retry", "dropped").
	OnDelivery func(platform, outcome string)

	// Instances with their own credentials (credentials.go) deliver to
	// these servers through these clients: APNsURL (default Apple's
	// production server) or APNsSandboxURL (default Apple's development
	// server) for an instance that asks for the sandbox; FCMURL (default
	// Google's) with access tokens from FCMTokenURL (default Google's).
	// A nil client is a default one (HTTP/2 over TLS).
	APNsURL, APNsSandboxURL string
	FCMURL, FCMTokenURL     string
	APNsHTTP, FCMHTTP       *http.Client
	// CredentialsTTL is how long an instance's credentials are cached
	// before they are read again (a change shows within it); default 5 s.
	CredentialsTTL time.Duration

	// FanoutBatch bounds the delivery jobs one transaction writes: a
	// publish reaching more devices stores the first batch with it and
	// a fan-out job queues the rest, a batch per transaction; default
	// 1000.
	FanoutBatch int
}

// Service serves the Beams APIs' logic and delivers publishes.
type Service struct {
	cfg   Config
	store Store
	log   *slog.Logger
	pool  *worker.Pool
	// fanout queues large publishes' delivery jobs (JobPushFanout).
	fanout *worker.Pool
	conns  connectors
	// Notify wakes the notifier after an alert was stored; set by the
	// caller before Start (nil: the notifier polls).
	Notify func()
}

// New makes the service; Start runs its delivery workers.
func New(cfg Config, st Store, log *slog.Logger) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Retry.Min <= 0 {
		cfg.Retry.Min = 5 * time.Second
	}
	if cfg.Retry.Max <= 0 {
		cfg.Retry.Max = 10 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	cfg.Pool.Kind = store.JobPush
	if cfg.Pool.Lease <= 0 {
		cfg.Pool.Lease = 2*cfg.Timeout + 30*time.Second
	}
	if cfg.APNsURL == "" {
		cfg.APNsURL = APNsProduction
	}
	if cfg.APNsSandboxURL == "" {
		cfg.APNsSandboxURL = APNsSandbox
	}
	if cfg.FCMURL == "" {
		cfg.FCMURL = "https://fcm.googleapis.com"
	}
	if cfg.FCMTokenURL == "" {
		cfg.FCMTokenURL = "https://oauth2.googleapis.com/token"
	}
	if cfg.CredentialsTTL <= 0 {
		cfg.CredentialsTTL = 5 * time.Second
	}
	if cfg.FanoutBatch <= 0 {
		cfg.FanoutBatch = 1000
	}
	s := &Service{cfg: cfg, store: st, log: log,
		conns: connectors{ttl: cfg.CredentialsTTL, instance: map[string]*instanceConnectors{}, bySet: map[string]Deliverer{}}}
	s.pool = worker.New(cfg.Pool, st, s.handle, nil, log)
	fc := worker.Config{Kind: store.JobPushFanout, Batch: 2, Concurrency: 2, Lease: cfg.Pool.Lease, Poll: cfg.Pool.Poll, Owner: cfg.Pool.Owner}
	s.fanout = worker.New(fc, st, s.fanOut, nil, log)
	return s
}

// Start runs the delivery and fan-out workers until Stop.
func (s *Service) Start() {
	s.pool.Start()
	s.fanout.Start()
}

// Stop finishes deliveries and fan-out batches in progress.
func (s *Service) Stop(ctx context.Context) error {
	return errors.Join(s.fanout.Stop(ctx), s.pool.Stop(ctx))
}

// Instance finds an enabled instance (realtime app) by id; a Beams 404
// otherwise.
func (s *Service) Instance(ctx context.Context, id string) (*store.RealtimeApp, error) {
	app, err := s.store.RealtimeAppByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !app.Enabled) {
		return nil, Errorf(http.StatusNotFound, "Instance not found: %s", id)
	}
	if err != nil {
		return nil, err
	}
	return app, nil
}

// Authorize finds the instance and checks the secret key of an
// "Authorization: Bearer KEY" header against it.
func (s *Service) Authorize(ctx context.Context, id, authorization string) (*store.RealtimeApp, error) {
	key, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || key == "" {
		return nil, Errorf(http.StatusUnauthorized, "Missing or malformed Authorization header: expected 'Bearer <secret key>'")
	}
	app, err := s.Instance(ctx, id)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, Errorf(http.StatusUnauthorized, "Incorrect API Key")
		}
		return nil, err
	}
	for _, secret := range app.ValidSecrets(time.Now()) {
		if subtle.ConstantTimeCompare([]byte(key), []byte(secret)) == 1 {
			return app, nil
		}
	}
	return nil, Errorf(http.StatusUnauthorized, "Incorrect API Key")
}

// Publish stores a publish to the instance and its delivery jobs and
// returns its id ("pubid-…").
func (s *Service) Publish(ctx context.Context, app *store.RealtimeApp, p *Publish) (string, error) {
	body, err := json.Marshal(Body{APNs: p.APNs, FCM: p.FCM, Web: p.Web})
	if err != nil {
		return "", err
	}
	suppressed, err := s.suppressed(ctx, app.AccountID)
	if err != nil {
		return "", err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	pub := &store.PushPublish{InstanceID: app.ID, ID: "pubid-" + ids.New(), AccountID: app.AccountID, Body: body,
		Suppressed: suppressed, Batch: s.cfg.FanoutBatch, CreatedAt: now}
	if p.Users != nil {
		pub.Target, pub.Targets = "users", p.Users
	} else {
		pub.Target, pub.Targets = "interests", p.Interests
	}
	alerted := false
	alert := func(threshold int, used, limit int64) *store.Job {
		alerted = true
		return notice.Job(app.AccountID, quotaNotice(app, threshold, used, limit), now)
	}
	err = s.store.PublishPush(ctx, pub, alert)
	if alerted && s.Notify != nil && (err == nil || errors.Is(err, store.ErrPushQuota)) {
		s.Notify()
	}
	if errors.Is(err, store.ErrPushQuota) {
		return "", Errorf(http.StatusTooManyRequests, "This instance has used its quota of publishes for this month")
	}
	if err != nil {
		return "", err
	}
	if pub.Deliveries > 0 {
		s.pool.Notify()
	}
	if pub.FanOut {
		s.fanout.Notify()
	}
	return pub.ID, nil
}

// suppressed are the account's suppressed device and user ids.
func (s *Service) suppressed(ctx context.Context, accountID string) (map[string]bool, error) {
	sup, err := s.store.Suppressions(ctx, accountID, store.SuppressionFilter{Channel: Channel})
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(sup))
	for _, x := range sup {
		out[x.Recipient] = true
	}
	return out, nil
}

// fanOut queues a large publish's delivery jobs, a batch per
// transaction, for at most a third of its lease; what is left is taken up
// again at once (by this node or another) from the publish's cursor.
// Suppressions are read when the fan-out starts.
func (s *Service) fanOut(ctx context.Context, j *store.Job) *store.Outcome {
	var pj store.PushJob
	if err := json.Unmarshal(j.Payload, &pj); err != nil {
		s.log.Error("push: undecodable fan-out job dropped", "err", err)
		return &store.Outcome{}
	}
	retry := func(err error) *store.Outcome {
		s.log.Warn("push: fan-out interrupted; it resumes from its last batch", "instance", pj.Instance, "publish", pj.Publish, "err", err)
		return &store.Outcome{RetryAt: time.Now().Add(s.cfg.Retry.Delay(j.Attempts)), LastError: err.Error()}
	}
	suppressed, err := s.suppressed(ctx, j.AccountID)
	if err != nil {
		return retry(err)
	}
	until := time.Now().Add(s.cfg.Pool.Lease / 3)
	for {
		n, done, err := s.store.FanOutPush(ctx, pj.Instance, pj.Publish, suppressed, s.cfg.FanoutBatch)
		if err != nil {
			return retry(err)
		}
		if n > 0 {
			s.pool.Notify()
		}
		if done {
			return &store.Outcome{}
		}
		if ctx.Err() != nil || time.Now().After(until) {
			return &store.Outcome{RetryAt: time.Now(), HandedBack: true}
		}
	}
}

func quotaNotice(app *store.RealtimeApp, threshold int, used, limit int64) notice.Notice {
	after := "Nothing is refused yet."
	if threshold >= 100 {
		after = "Publishes are refused (HTTP 429) until the UTC month ends or the quota is raised."
	}
	name := app.Name
	if name == "" {
		name = "instance " + app.ID
	}
	return notice.Notice{
		Type:    NoticeType,
		Subject: fmt.Sprintf("Push usage alert: %s reached %d%% of its monthly publishes", name, threshold),
		Text:    fmt.Sprintf("Push instance %s (%s) has made %d publishes this month, of its quota of %d.\n%s", name, app.ID, used, limit, after),
		Data:    map[string]any{"instanceId": app.ID, "threshold": threshold, "used": used, "max": limit},
	}
}

// Platforms are the device platforms of the device API.
var Platforms = []string{store.PushWeb, store.PushAPNs, store.PushFCM}

// RegisterDevice registers a device of platform from a device API body
// ({"token": …, "metadata": …}; for web the token is the subscription) and
// returns its id.
func (s *Service) RegisterDevice(ctx context.Context, app *store.RealtimeApp, platform string, body []byte) (string, error) {
	if len(body) > MaxDeviceBody {
		return "", Errorf(http.StatusRequestEntityTooLarge, "Request body is larger than the limit of %d bytes", MaxDeviceBody)
	}
	var req struct {
		Token            json.RawMessage `json:"token"`
		BundleIdentifier string          `json:"bundleIdentifier"`
		Metadata         json.RawMessage `json:"metadata"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return "", Errorf(http.StatusBadRequest, "Request body is not valid JSON: %s", jsonProblem(err))
	}
	token, err := deviceToken(platform, req.Token)
	if err != nil {
		return "", err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := &store.PushDevice{InstanceID: app.ID, ID: platform + "-" + ids.New(), AccountID: app.AccountID, Platform: platform,
		Token: token, Metadata: string(req.Metadata), CreatedAt: now, UpdatedAt: now}
	if err := s.store.PutPushDevice(ctx, d); err != nil {
		return "", err
	}
	return d.ID, nil
}

// deviceToken checks a device token of a platform and returns it as stored.
func deviceToken(platform string, raw json.RawMessage) (string, error) {
	if raw == nil {
		return "", Errorf(http.StatusBadRequest, "'token' is required")
	}
	switch platform {
	case store.PushWeb:
		sub, err := ParseSubscription(raw)
		if err != nil {
			return "", err
		}
		b, _ := json.Marshal(sub)
		return string(b), nil
	case store.PushAPNs:
		var t string
		if json.Unmarshal(raw, &t) != nil || len(t) < 32 || len(t) > 200 || strings.Trim(strings.ToLower(t), "0123456789abcdef") != "" {
			return "", Errorf(http.StatusBadRequest, "'token' must be an APNs device token in hexadecimal")
		}
		return strings.ToLower(t), nil
	case store.PushFCM:
		var t string
		if json.Unmarshal(raw, &t) != nil || t == "" || len(t) > 4096 {
			return "", Errorf(http.StatusBadRequest, "'token' must be an FCM registration token")
		}
		return t, nil
	}
	return "", Errorf(http.StatusNotFound, "Unknown platform %q: use web, apns or fcm", platform)
}

// ParseSubscription reads a Web Push subscription (a JSON object, or a
// string holding one, as the Beams web SDK sends it) and checks it: an
// https endpoint, a P-256 key and a 16-byte auth secret.
func ParseSubscription(raw json.RawMessage) (*webpush.Subscription, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var sub webpush.Subscription
	if err := json.Unmarshal(raw, &sub); err != nil {
		return nil, Errorf(http.StatusBadRequest, "'token' must be a Web Push subscription (endpoint and keys)")
	}
	if err := sub.Validate(); err != nil {
		return nil, Errorf(http.StatusBadRequest, "'token' is not a usable Web Push subscription: %v", err)
	}
	return &sub, nil
}

// Device reads one of the instance's devices (a Beams 404 if none).
func (s *Service) Device(ctx context.Context, app *store.RealtimeApp, id string) (*store.PushDevice, error) {
	d, err := s.store.GetPushDevice(ctx, app.ID, id)
	return d, notFound(err, "Device not found")
}

func notFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "%s", what)
	}
	return err
}

// DeleteDevice removes a device.
func (s *Service) DeleteDevice(ctx context.Context, app *store.RealtimeApp, id string) error {
	return notFound(s.store.DeletePushDevice(ctx, app.ID, id), "Device not found")
}

// SetInterests replaces a device's interests from {"interests": […]}.
func (s *Service) SetInterests(ctx context.Context, app *store.RealtimeApp, id string, body []byte) error {
	if len(body) > MaxDeviceBody*10 {
		return Errorf(http.StatusRequestEntityTooLarge, "Request body is too large")
	}
	var req struct {
		Interests *[]string `json:"interests"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Interests == nil {
		return Errorf(http.StatusBadRequest, "Request body must be {\"interests\": [...]}")
	}
	if len(*req.Interests) > MaxDeviceInterest {
		return Errorf(http.StatusBadRequest, "Number of interests (%d) exceeds maximum of %d", len(*req.Interests), MaxDeviceInterest)
	}
	for _, in := range *req.Interests {
		if err := CheckInterest(in); err != nil {
			return err
		}
	}
	return notFound(s.store.SetPushInterests(ctx, app.ID, id, *req.Interests), "Device not found")
}

// AddInterest and RemoveInterest change one interest of a device.
func (s *Service) AddInterest(ctx context.Context, app *store.RealtimeApp, id, interest string) error {
	if err := CheckInterest(interest); err != nil {
		return err
	}
	return notFound(s.store.AddPushInterest(ctx, app.ID, id, interest), "Device not found")
}

func (s *Service) RemoveInterest(ctx context.Context, app *store.RealtimeApp, id, interest string) error {
	if err := CheckInterest(interest); err != nil {
		return err
	}
	return notFound(s.store.RemovePushInterest(ctx, app.ID, id, interest), "Device not found")
}

// Interests lists a device's interests.
func (s *Service) Interests(ctx context.Context, app *store.RealtimeApp, id string) ([]string, error) {
	if _, err := s.Device(ctx, app, id); err != nil {
		return nil, err
	}
	return s.store.PushInterests(ctx, app.ID, id)
}

// SetUser binds a device to the user a Beams token names (the
// "Authorization: Bearer TOKEN" of the device API's PUT …/user_id).
func (s *Service) SetUser(ctx context.Context, app *store.RealtimeApp, id, authorization string) (string, error) {
	token, _ := strings.CutPrefix(authorization, "Bearer ")
	user, err := ParseToken(token, app.ID, app.ValidSecrets(time.Now()), time.Now())
	if err != nil {
		return "", err
	}
	d, err := s.Device(ctx, app, id)
	if err != nil {
		return "", err
	}
	if d.UserID != "" && d.UserID != user {
		return "", Errorf(http.StatusConflict, "This device is already associated with another user; delete it first")
	}
	return user, notFound(s.store.SetPushUser(ctx, app.ID, id, user), "Device not found")
}

// DeleteUser removes every device of a user.
func (s *Service) DeleteUser(ctx context.Context, app *store.RealtimeApp, user string) error {
	if err := CheckUserID(user); err != nil {
		return err
	}
	_, err := s.store.DeletePushUser(ctx, app.ID, user)
	return err
}

// handle delivers one publish to one device.
func (s *Service) handle(ctx context.Context, j *store.Job) *store.Outcome {
	var pj store.PushJob
	if err := json.Unmarshal(j.Payload, &pj); err != nil {
		s.log.Error("push: undecodable job dropped", "err", err)
		return &store.Outcome{}
	}
	retry := func(err error) *store.Outcome {
		if j.Attempts >= s.cfg.MaxAttempts {
			s.log.Warn("push: delivery dropped after retries", "instance", pj.Instance, "device", pj.Device, "err", err)
			s.observe("", "dropped")
			return &store.Outcome{}
		}
		return &store.Outcome{RetryAt: time.Now().Add(s.cfg.Retry.Delay(j.Attempts)), LastError: err.Error()}
	}
	d, err := s.store.GetPushDevice(ctx, pj.Instance, pj.Device)
	if errors.Is(err, store.ErrNotFound) {
		return &store.Outcome{} // deleted since
	}
	if err != nil {
		return retry(err)
	}
	pub, err := s.store.GetPushPublish(ctx, pj.Instance, pj.Publish)
	if errors.Is(err, store.ErrNotFound) {
		return &store.Outcome{}
	}
	if err != nil {
		return retry(err)
	}
	var body Body
	if err := json.Unmarshal(pub.Body, &body); err != nil {
		s.log.Error("push: undecodable publish dropped", "publish", pub.ID, "err", err)
		return &store.Outcome{}
	}
	switch d.Platform {
	case store.PushAPNs:
		body = Body{APNs: body.APNs}
	case store.PushFCM:
		body = Body{FCM: body.FCM}
	case store.PushWeb:
		body = Body{Web: body.Web}
	}
	if body.APNs == nil && body.FCM == nil && body.Web == nil {
		return &store.Outcome{} // nothing for this platform in the publish
	}
	dl, err := s.deliverer(ctx, pj.Instance, d.Platform)
	var unusable *PermanentError
	if errors.As(err, &unusable) {
		s.log.Warn("push: delivery dropped", "platform", d.Platform, "instance", pj.Instance, "err", err)
		s.observe(d.Platform, "dropped")
		return &store.Outcome{}
	}
	if err != nil {
		return retry(err)
	}
	if dl == nil {
		s.log.Warn("push: no connector for the platform; delivery dropped", "platform", d.Platform, "instance", pj.Instance)
		s.observe(d.Platform, "dropped")
		return &store.Outcome{}
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	res, err := dl.Deliver(dctx, d.Token, body)
	cancel()
	var perm *PermanentError
	switch {
	case errors.As(err, &perm):
		s.log.Warn("push: delivery refused", "platform", d.Platform, "instance", pj.Instance, "device", d.ID, "err", err)
		s.observe(d.Platform, "dropped")
		return &store.Outcome{}
	case err != nil:
		s.observe(d.Platform, "retry")
		return retry(err)
	case res.Gone:
		s.observe(d.Platform, "gone")
		if err := s.store.DeletePushDevice(ctx, pj.Instance, d.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return retry(err)
		}
		s.log.Info("push: device removed: the push service no longer knows it", "platform", d.Platform, "instance", pj.Instance, "device", d.ID)
		return &store.Outcome{}
	}
	s.observe(d.Platform, "delivered")
	return &store.Outcome{}
}

func (s *Service) observe(platform, outcome string) {
	if s.cfg.OnDelivery != nil {
		s.cfg.OnDelivery(platform, outcome)
	}
}

// SetMetadata replaces a device's metadata (JSON text).
func (s *Service) SetMetadata(ctx context.Context, app *store.RealtimeApp, d *store.PushDevice, metadata string) error {
	d.Metadata, d.UpdatedAt = metadata, time.Now().UTC().Truncate(time.Microsecond)
	return s.store.PutPushDevice(ctx, d)
}
