package realtime

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"
)

// Defaults of Config. Limits follow Pusher's where Pusher documents one.
const (
	DefaultActivityTimeout       = 120 * time.Second
	DefaultPongTimeout           = 30 * time.Second
	DefaultMaxFrameBytes         = 64 << 10
	DefaultMaxEventBytes         = 10 << 10
	DefaultMaxRequestBytes       = 256 << 10
	DefaultMaxChannelsPerEvent   = 100
	DefaultMaxBatchEvents        = 10
	DefaultMaxPresenceMembers    = 100
	DefaultMaxUserInfoBytes      = 1 << 10
	DefaultMaxSubscriptions      = 1000
	DefaultClientEventRate       = 10
	DefaultSendQueueFrames       = 1000
	DefaultSendQueueBytes        = 1 << 20
	DefaultWriteTimeout          = 10 * time.Second
	DefaultTimestampWindow       = 600 * time.Second
	DefaultSecretGrace           = 24 * time.Hour
	DefaultAppCacheTTL           = 5 * time.Second
	DefaultUsageFlushInterval    = time.Second
	DefaultErrorLogFlushInterval = time.Second
	DefaultErrorLogQueue         = 1024
	DefaultPurgeInterval         = time.Hour
	DefaultUsageRetention        = 35 * 24 * time.Hour
	DefaultAlertQueue            = 256
	DefaultNotifyTimeout         = 10 * time.Second

	DefaultWebhookBatchSize = 50
	DefaultWebhookBatchWait = time.Second
	DefaultWebhookQueue     = 10000
	DefaultWebhookWorkers   = 4
	DefaultWebhookTimeout   = 5 * time.Second
	DefaultWebhookAttempts  = 4
	DefaultWebhookRetryMin  = time.Second
	DefaultWebhookRetryMax  = 30 * time.Second

	DefaultHeartbeatInterval  = time.Second
	DefaultNodeTimeout        = 5 * time.Second
	DefaultStateFlushInterval = 5 * time.Millisecond
)

// Config tunes a Server. Zero values mean the documented defaults; see
// WithDefaults.
type Config struct {
	// NodeID names this node in the cluster (logs, state messages); a
	// start time and random suffix are added, so every start of a process
	// is a new node. Default "node".
	NodeID string
	// ActivityTimeout is sent to clients as activity_timeout: a client
	// pings after that long without traffic, and the server pings a
	// silent client after it too. Default 120 s.
	ActivityTimeout time.Duration
	// PongTimeout is how long the server waits for a pong to its ping
	// before it closes the connection with 4201. Default 30 s.
	PongTimeout time.Duration
	// MaxFrameBytes bounds one WebSocket message from a client; a bigger
	// one closes the connection with 1009. Default 64 KiB.
	MaxFrameBytes int64
	// MaxEventBytes bounds an event's data (client events and HTTP API
	// events; the API answers 413). Default 10 KiB, as Pusher.
	MaxEventBytes int
	// MaxRequestBytes bounds an HTTP API request body (413). Default
	// 256 KiB.
	MaxRequestBytes int64
	// MaxChannelsPerEvent bounds the channels of one API event. Default 100.
	MaxChannelsPerEvent int
	// MaxBatchEvents bounds the events of one batch_events call. Default 10.
	MaxBatchEvents int
	// MaxPresenceMembers bounds the members of a presence channel. Default 100.
	MaxPresenceMembers int
	// MaxUserInfoBytes bounds a presence member's user_info. Default 1 KiB.
	MaxUserInfoBytes int
	// MaxSubscriptions bounds the channels one connection subscribes to.
	// Default 1000.
	MaxSubscriptions int
	// MaxConnections bounds this node's connections (all apps); more are
	// refused with 4100 (over capacity). 0 means no bound.
	MaxConnections int
	// MaxSockets bounds the WebSocket sockets this node holds in any
	// state — handshaking, open, closing, refused — so that they never
	// take the file descriptors the rest of the process needs (omnigate
	// serve sets it to the descriptor limit minus a reserve). One more is
	// refused before the WebSocket upgrade with HTTP 503. 0 means no bound.
	MaxSockets int
	// MaxConnectionsPerIP bounds the WebSocket sockets one client address
	// holds (IPv6: one /64; the address TrustForwardedFor names); one more
	// is refused before the upgrade with HTTP 429. ConnLimitExempt lists
	// addresses not counted. 0 means no bound.
	MaxConnectionsPerIP int
	ConnLimitExempt     []netip.Prefix
	// DefaultAppMaxConnections is the connection limit of apps whose own
	// MaxConnections is 0: their connections across the cluster, 4004
	// beyond, with usage alerts as for a limit of their own. 0 leaves such
	// apps unlimited.
	DefaultAppMaxConnections int
	// ClientEventRate is the client events per second a connection may
	// send when its app sets none. Default 10.
	ClientEventRate int
	// SendQueueFrames and SendQueueBytes bound what waits to be written to
	// one client; a client that falls further behind is closed with 4100
	// so that it never holds up the others. Defaults 1000 frames, 1 MiB.
	SendQueueFrames int
	SendQueueBytes  int
	// WriteTimeout bounds one write to a client. Default 10 s.
	WriteTimeout time.Duration
	// TimestampWindow is how far an API request's auth_timestamp may be
	// from the server's clock. Default 600 s, as Pusher.
	TimestampWindow time.Duration
	// AppCacheTTL is how long an app read from the store is used before
	// it is read again; changes (disabling, rotation, limits) take effect
	// within it, and connections of an app that was disabled or deleted
	// are closed. Default 5 s.
	AppCacheTTL time.Duration
	// ChannelCacheTTL is how long a cache channel keeps its last event.
	// Default CacheTTL (30 minutes, as Pusher).
	ChannelCacheTTL time.Duration
	// SubscriptionCountInterval is how often changed subscription counts
	// are sent (apps with SubscriptionCount): at most one event per
	// channel per interval. Default 1 s.
	SubscriptionCountInterval time.Duration
	// UsageFlushInterval is how often message counts are added to the
	// store's daily totals (shared by the nodes) and limits checked.
	// Default 1 s.
	UsageFlushInterval time.Duration
	// ErrorLogFlushInterval is how often logged errors are written.
	// Default 1 s. ErrorLogQueue bounds those waiting (more are
	// dropped); default 1024.
	ErrorLogFlushInterval time.Duration
	ErrorLogQueue         int
	// PurgeInterval is how often errors older than
	// store.RealtimeErrorRetention and usage older than UsageRetention are
	// deleted. Defaults 1 hour and 35 days.
	PurgeInterval  time.Duration
	UsageRetention time.Duration
	// AlertQueue bounds usage alerts waiting for the Notifier; default
	// 256. NotifyTimeout bounds one Notify call; default 10 s.
	AlertQueue    int
	NotifyTimeout time.Duration
	// TrustForwardedFor takes the client's IP from the first address of
	// X-Forwarded-For (behind a proxy you run); default off: the TCP peer.
	TrustForwardedFor bool
	// AllowedOrigins restricts the Origin of browser WebSocket requests to
	// these host patterns (path.Match syntax, e.g. "*.example.com"); empty
	// allows every origin, as Pusher does (app keys are public).
	AllowedOrigins []string
	// Webhook tunes webhook delivery.
	Webhook WebhookConfig
	// Cluster tunes the exchange of state between nodes.
	Cluster ClusterConfig
}

// WebhookConfig tunes webhook delivery. Zero values mean the defaults.
type WebhookConfig struct {
	// BatchSize and BatchWait: events of one app are sent together, up to
	// BatchSize events or BatchWait after the first. Defaults 50 and 1 s.
	BatchSize int
	BatchWait time.Duration
	// Queue bounds events waiting to be batched and sent; more are
	// dropped and logged. Default 10000.
	Queue int
	// Workers send batches concurrently. Default 4.
	Workers int
	// Timeout bounds one POST. Default 5 s.
	Timeout time.Duration
	// Attempts per batch, including the first. Default 4.
	Attempts int
	// RetryMin and RetryMax space retries: RetryMin doubling, with
	// jitter, up to RetryMax. Defaults 1 s and 30 s.
	RetryMin time.Duration
	RetryMax time.Duration
	// Client makes the requests; default an http.Client with Timeout that
	// follows no redirects.
	Client *http.Client
}

// ClusterConfig tunes how nodes share state. Zero values mean the defaults.
type ClusterConfig struct {
	// HeartbeatInterval is how often a node tells the others it is alive.
	// Default 1 s.
	HeartbeatInterval time.Duration
	// NodeTimeout: a node not heard from for this long is taken as dead,
	// and its members and subscriptions leave. Default 5 s.
	NodeTimeout time.Duration
	// StateFlushInterval batches changes of subscriptions and presence
	// before they are sent to the other nodes. Default 5 ms.
	StateFlushInterval time.Duration
	// WarmUp is how long a new node listens before it may send the
	// cluster's channel and presence webhooks (it has to learn the state
	// first). Default 2×HeartbeatInterval; 0 with a lone in-memory broker.
	WarmUp time.Duration
}

// WithDefaults returns the config with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.NodeID == "" {
		c.NodeID = "node"
	}
	def(&c.ActivityTimeout, DefaultActivityTimeout)
	def(&c.PongTimeout, DefaultPongTimeout)
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	defInt(&c.MaxEventBytes, DefaultMaxEventBytes)
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	defInt(&c.MaxChannelsPerEvent, DefaultMaxChannelsPerEvent)
	defInt(&c.MaxBatchEvents, DefaultMaxBatchEvents)
	defInt(&c.MaxPresenceMembers, DefaultMaxPresenceMembers)
	defInt(&c.MaxUserInfoBytes, DefaultMaxUserInfoBytes)
	defInt(&c.MaxSubscriptions, DefaultMaxSubscriptions)
	defInt(&c.ClientEventRate, DefaultClientEventRate)
	defInt(&c.SendQueueFrames, DefaultSendQueueFrames)
	defInt(&c.SendQueueBytes, DefaultSendQueueBytes)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.TimestampWindow, DefaultTimestampWindow)
	def(&c.AppCacheTTL, DefaultAppCacheTTL)
	def(&c.ChannelCacheTTL, CacheTTL)
	def(&c.SubscriptionCountInterval, time.Second)
	def(&c.UsageFlushInterval, DefaultUsageFlushInterval)
	def(&c.ErrorLogFlushInterval, DefaultErrorLogFlushInterval)
	defInt(&c.ErrorLogQueue, DefaultErrorLogQueue)
	def(&c.PurgeInterval, DefaultPurgeInterval)
	def(&c.UsageRetention, DefaultUsageRetention)
	defInt(&c.AlertQueue, DefaultAlertQueue)
	def(&c.NotifyTimeout, DefaultNotifyTimeout)

	w := &c.Webhook
	defInt(&w.BatchSize, DefaultWebhookBatchSize)
	def(&w.BatchWait, DefaultWebhookBatchWait)
	defInt(&w.Queue, DefaultWebhookQueue)
	defInt(&w.Workers, DefaultWebhookWorkers)
	def(&w.Timeout, DefaultWebhookTimeout)
	defInt(&w.Attempts, DefaultWebhookAttempts)
	def(&w.RetryMin, DefaultWebhookRetryMin)
	def(&w.RetryMax, DefaultWebhookRetryMax)
	if w.Client == nil {
		w.Client = &http.Client{
			Timeout:       w.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}

	k := &c.Cluster
	def(&k.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&k.NodeTimeout, DefaultNodeTimeout)
	def(&k.StateFlushInterval, DefaultStateFlushInterval)
	if k.WarmUp == 0 {
		k.WarmUp = 2 * k.HeartbeatInterval
	}
	return c
}

// validate checks a config that WithDefaults has filled in.
func (c Config) validate() error {
	switch {
	case c.ActivityTimeout < time.Second:
		return fmt.Errorf("realtime: Config.ActivityTimeout %v: want at least 1s (clients get it in whole seconds)", c.ActivityTimeout)
	case c.MaxFrameBytes < int64(c.MaxEventBytes):
		return fmt.Errorf("realtime: Config.MaxFrameBytes %d is below MaxEventBytes %d", c.MaxFrameBytes, c.MaxEventBytes)
	case c.MaxRequestBytes < int64(c.MaxEventBytes):
		return fmt.Errorf("realtime: Config.MaxRequestBytes %d is below MaxEventBytes %d", c.MaxRequestBytes, c.MaxEventBytes)
	case c.Cluster.NodeTimeout <= c.Cluster.HeartbeatInterval:
		return fmt.Errorf("realtime: Config.Cluster.NodeTimeout %v must exceed HeartbeatInterval %v", c.Cluster.NodeTimeout, c.Cluster.HeartbeatInterval)
	case c.Webhook.RetryMax < c.Webhook.RetryMin:
		return fmt.Errorf("realtime: Config.Webhook.RetryMax %v is below RetryMin %v", c.Webhook.RetryMax, c.Webhook.RetryMin)
	}
	return nil
}
