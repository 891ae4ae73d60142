package realtime

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/ttlcache"
)

// NewApp makes an enabled app for an account with fresh credentials: a
// 9-digit app id (Pusher's are numeric, and some SDKs parse them as
// numbers), a 20-hex-digit key and a 40-hex-digit secret. Limits are 0
// (unlimited) until set. Store it with store.RealtimeApps.CreateRealtimeApp,
// or use CreateApp, which retries if the id or key is taken.
func NewApp(accountID, name string, now time.Time) *store.RealtimeApp {
	now = now.UTC().Truncate(time.Microsecond)
	var b [4]byte
	rand.Read(b[:])
	id := 100_000_000 + binary.BigEndian.Uint32(b[:])%900_000_000
	return &store.RealtimeApp{
		ID: strconv.FormatUint(uint64(id), 10), AccountID: accountID, Name: name,
		Key: randomHex(10), Secret: randomHex(20), Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// WebhookEventNames are the webhook events an app may choose from
// (store.RealtimeApp.WebhookEvents).
var WebhookEventNames = []string{"channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss", "subscription_count"}

// Bounds of an app's settings, checked by ValidateApp.
const (
	MaxAppNameLength    = 200
	MaxWebhookURLLength = 2000
	MaxAppClientRate    = 1000
	// MaxAppLimit bounds max_connections and max_messages_per_day (a
	// thousand million), so that the usage alerts' arithmetic cannot
	// overflow.
	MaxAppLimit = 1_000_000_000
)

// InputError names an app setting that cannot work.
type InputError struct {
	Field  string // as the REST API and CLI name it: name, webhook_url, …
	Reason string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// ValidateApp checks the settings a customer chooses: the name, limits,
// the webhook URL (absolute http or https) and webhook event names. It
// returns an *InputError for the first one that cannot work.
func ValidateApp(a *store.RealtimeApp) error {
	bad := func(field, reason string) error { return &InputError{Field: field, Reason: reason} }
	switch {
	case !utf8.ValidString(a.Name) || len(a.Name) > MaxAppNameLength:
		return bad("name", fmt.Sprintf("at most %d bytes of UTF-8", MaxAppNameLength))
	case strings.ContainsFunc(a.Name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return bad("name", "control characters are not allowed")
	case a.MaxConnections < 0 || a.MaxConnections > MaxAppLimit:
		return bad("max_connections", fmt.Sprintf("must be 0 (unlimited) to %d", MaxAppLimit))
	case a.MaxMessagesPerDay < 0 || a.MaxMessagesPerDay > MaxAppLimit:
		return bad("max_messages_per_day", fmt.Sprintf("must be 0 (unlimited) to %d", MaxAppLimit))
	case a.ClientEventRate < 0 || a.ClientEventRate > MaxAppClientRate:
		return bad("client_event_rate", fmt.Sprintf("must be 0 (the server's default) to %d", MaxAppClientRate))
	}
	if a.WebhookURL != "" {
		u, err := url.Parse(a.WebhookURL)
		switch {
		case len(a.WebhookURL) > MaxWebhookURLLength:
			return bad("webhook_url", fmt.Sprintf("at most %d bytes", MaxWebhookURLLength))
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return bad("webhook_url", "must be an absolute http or https URL")
		case u.Fragment != "":
			return bad("webhook_url", "must not have a fragment")
		}
	}
	for i, e := range a.WebhookEvents {
		if !slices.Contains(WebhookEventNames, e) {
			return bad("webhook_events", fmt.Sprintf("unknown event %q; use %s", e, strings.Join(WebhookEventNames, ", ")))
		}
		if slices.Contains(a.WebhookEvents[:i], e) {
			return bad("webhook_events", fmt.Sprintf("%q is listed twice", e))
		}
	}
	return nil
}

// CreateApp stores a new app made by NewApp, after applying edit (may be
// nil) to set limits and webhooks. It returns an *InputError if the
// settings fail ValidateApp, and store.ErrNotFound if the account does not
// exist.
func CreateApp(ctx context.Context, st store.RealtimeApps, accountID, name string, edit func(*store.RealtimeApp)) (*store.RealtimeApp, error) {
	for attempt := 0; attempt < 5; attempt++ {
		app := NewApp(accountID, name, time.Now())
		if edit != nil {
			edit(app)
		}
		if err := ValidateApp(app); err != nil {
			return nil, err
		}
		err := st.CreateRealtimeApp(ctx, app)
		if errors.Is(err, store.ErrConflict) {
			continue // an id or key collided: draw again
		}
		if err != nil {
			return nil, err
		}
		return app, nil
	}
	return nil, fmt.Errorf("creating realtime app: no free id after 5 attempts")
}

// RotateSecret gives an app a new secret; the current one stays valid for
// grace (DefaultSecretGrace when 0), so clients and servers can switch
// without an outage.
func RotateSecret(ctx context.Context, st store.RealtimeApps, accountID, appID string, grace time.Duration) (*store.RealtimeApp, error) {
	if grace <= 0 {
		grace = DefaultSecretGrace
	}
	return st.RotateRealtimeSecret(ctx, accountID, appID, randomHex(20), time.Now().Add(grace))
}

// appCache keeps apps read from the store for the TTL, by key and by id,
// including "not found" (so unknown keys do not reach the database each
// time).
type appCache struct {
	keys, ids *ttlcache.Cache[string, cachedApp]
}

// cachedApp is an app, or the store's "not found".
type cachedApp struct {
	app *store.RealtimeApp
	err error
}

// maxCachedApps bounds each cache; past it, expired entries are dropped.
const maxCachedApps = 10000

func newAppCache(st store.RealtimeApps, ttl time.Duration) *appCache {
	return &appCache{keys: ttlcache.New(ttl, maxCachedApps, appLoader(st.RealtimeAppByKey)),
		ids: ttlcache.New(ttl, maxCachedApps, appLoader(st.RealtimeAppByID))}
}

// appLoadTimeout bounds one read of an app from the store.
const appLoadTimeout = 5 * time.Second

// appLoader reads apps with load, keeping "not found" as a result; other
// errors are not cached: the next call tries again. A read takes at most
// appLoadTimeout, so that callers can pass their own context as it is
// (making a bounded one for every cached lookup cost a timer each).
func appLoader(load func(context.Context, string) (*store.RealtimeApp, error)) func(context.Context, string) (cachedApp, error) {
	return func(ctx context.Context, k string) (cachedApp, error) {
		ctx, cancel := context.WithTimeout(ctx, appLoadTimeout)
		defer cancel()
		app, err := load(ctx, k)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return cachedApp{}, err
		}
		return cachedApp{app: app, err: err}, nil
	}
}

func (c *appCache) byKey(ctx context.Context, key string) (*store.RealtimeApp, error) {
	return c.get(ctx, c.keys, key)
}

func (c *appCache) byID(ctx context.Context, id string) (*store.RealtimeApp, error) {
	return c.get(ctx, c.ids, id)
}

// peekID is the app with id when the cache holds it fresh (nil: not
// found), without reading the store.
func (c *appCache) peekID(id string) (app *store.RealtimeApp, ok bool) {
	e, ok := c.ids.Peek(id)
	return e.app, ok
}

func (c *appCache) get(ctx context.Context, cache *ttlcache.Cache[string, cachedApp], k string) (*store.RealtimeApp, error) {
	if !lookupKey(k) {
		return nil, store.ErrNotFound
	}
	e, err := cache.Get(ctx, k)
	if err != nil {
		return nil, err
	}
	return e.app, e.err
}

// AppJSON is how the CLI and the REST API show an app. The credentials
// carry Pusher's names (app_id, key, secret), as the SDKs' settings do.
type AppJSON struct {
	AppID  string `json:"app_id"`
	Name   string `json:"name"`
	Key    string `json:"key"`
	Secret string `json:"secret,omitempty"`
	// PreviousSecretValidUntil is set while the secret before the last
	// rotation is still accepted.
	PreviousSecretValidUntil string   `json:"previous_secret_valid_until,omitempty"`
	Enabled                  bool     `json:"enabled"`
	MaxConnections           int      `json:"max_connections"`
	MaxMessagesPerDay        int64    `json:"max_messages_per_day"`
	WebhookURL               string   `json:"webhook_url"`
	WebhookEvents            []string `json:"webhook_events"`
	ClientEventRate          int      `json:"client_event_rate"`
	SubscriptionCount        bool     `json:"subscription_count"`
	Created                  string   `json:"created_datetime"`
	Updated                  string   `json:"updated_datetime"`
}

// ShowApp renders an app; withSecret includes the secret.
func ShowApp(a *store.RealtimeApp, withSecret bool, now time.Time) AppJSON {
	v := AppJSON{AppID: a.ID, Name: a.Name, Key: a.Key, Enabled: a.Enabled, MaxConnections: a.MaxConnections,
		MaxMessagesPerDay: a.MaxMessagesPerDay, WebhookURL: a.WebhookURL, WebhookEvents: a.WebhookEvents,
		ClientEventRate: a.ClientEventRate, SubscriptionCount: a.SubscriptionCount, Created: a.CreatedAt.UTC().Format(time.RFC3339), Updated: a.UpdatedAt.UTC().Format(time.RFC3339)}
	if v.WebhookEvents == nil {
		v.WebhookEvents = []string{}
	}
	if withSecret {
		v.Secret = a.Secret
	}
	if a.PreviousSecret != "" && now.Before(a.PreviousSecretExpiresAt) {
		v.PreviousSecretValidUntil = a.PreviousSecretExpiresAt.UTC().Format(time.RFC3339)
	}
	return v
}

// ErrorJSON is how the CLI and the REST API show an error log entry.
type ErrorJSON struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	IP      string `json:"ip"`
	Time    string `json:"datetime"`
}

// ShowError renders an error log entry.
func ShowError(e store.RealtimeError) ErrorJSON {
	return ErrorJSON{Code: e.Code, Message: e.Message, IP: e.IP, Time: e.At.UTC().Format(time.RFC3339)}
}

// lookupKey reports whether k can name an app: app ids are digits and keys
// hex, so anything outside printable ASCII (NUL, control characters, bytes
// that are not UTF-8, which PostgreSQL refuses in a query) is no app and
// never reaches the store.
func lookupKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] >= 0x7f {
			return false
		}
	}
	return true
}
