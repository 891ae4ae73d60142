package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/connlimit"
	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/realtime/fanout"
	"github.com/omnigate/omnigate/internal/store"
)

// Deps are what a Server works with.
type Deps struct {
	// Store keeps apps, daily usage and the error log. Required.
	Store store.Realtime
	// Broker connects this node to the others; nil means a single node
	// (fanout.NewMemory()). The Server starts and stops it.
	Broker fanout.Broker
	// Notifier receives usage alerts; nil means they are only logged.
	Notifier Notifier
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// OnRefused, when set, is called for each WebSocket refused before
	// the upgrade, with the reason: RefusedPerIP or RefusedFull.
	OnRefused func(reason string)
	// Guard limits failed HTTP API signatures and writes them to the
	// audit trail; nil means no limit.
	Guard *authguard.Guard
}

// Reasons a WebSocket is refused before the upgrade (Deps.OnRefused).
const (
	RefusedPerIP = "ws_per_ip" // its address holds MaxConnectionsPerIP
	RefusedFull  = "ws_full"   // the node holds MaxSockets
)

// Server is a Pusher Channels-compatible realtime server: the WebSocket
// endpoint, the HTTP API, webhooks, limits and the cluster view. Create it
// with New, mount it with Register (or Handler), run it with Start and end
// it with Stop.
type Server struct {
	cfg      Config
	st       store.Realtime
	broker   fanout.Broker
	notifier Notifier
	log      *slog.Logger
	guard    *authguard.Guard
	nodeID   string

	apps      *appCache
	hub       *hub
	cluster   *cluster
	webhooks  *webhooks
	usage     *usage
	subCounts subCounts
	alerts    *alerter
	errs      *errorLog
	accept    *websocket.AcceptOptions
	idle      *idlePoller // nil: every connection keeps its reader goroutine
	readers   *readers    // run woken connections' readers

	// sockets counts the WebSocket handlers running (every socket held);
	// perIP counts them per client address.
	sockets   *connlimit.Gate
	perIP     *connlimit.Limiter
	onRefused func(string)
	refused   refusals

	mu       sync.Mutex
	started  bool
	stopping bool
	handlers sync.WaitGroup // WebSocket and API handlers in progress

	quit     chan struct{}
	bg       sync.WaitGroup // background loops
	stopOnce sync.Once
	stopErr  error
}

// New makes a Server from a config (zero fields take their defaults) and
// its dependencies.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Store == nil {
		return nil, errors.New("realtime: Deps.Store is required")
	}
	solo := false
	if deps.Broker == nil {
		deps.Broker = fanout.NewMemory()
		solo = true
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if solo && cfg.Cluster.WarmUp == 0 {
		cfg.Cluster.WarmUp = -1 // a lone node knows the whole cluster at once
	}
	cfg = cfg.WithDefaults()
	if cfg.Cluster.WarmUp < 0 {
		cfg.Cluster.WarmUp = 0
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, st: deps.Store, broker: deps.Broker, notifier: deps.Notifier, log: deps.Logger, guard: deps.Guard,
		hub: newHub(cfg.ChannelCacheTTL), quit: make(chan struct{}), onRefused: deps.OnRefused,
		sockets: connlimit.NewGate(cfg.MaxSockets), perIP: connlimit.NewLimiter(cfg.MaxConnectionsPerIP, cfg.ConnLimitExempt)}
	s.nodeID = newNodeID(cfg.NodeID, time.Now())
	s.apps = newAppCache(deps.Store, cfg.AppCacheTTL)
	s.cluster = newCluster(s.nodeID, cfg.Cluster, deps.Broker, s, deps.Logger)
	s.webhooks = newWebhooks(cfg.Webhook, s.apps, deps.Logger)
	s.alerts = newAlerter(s)
	s.usage = newUsage(s)
	s.errs = newErrorLog(deps.Store, cfg.ErrorLogQueue, cfg.ErrorLogFlushInterval, deps.Logger)
	s.accept = &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled}
	s.idle = sharedIdlePoller()
	s.readers = newReaders()
	if len(cfg.AllowedOrigins) == 0 {
		s.accept.InsecureSkipVerify = true // any origin, as Pusher: app keys are public
	} else {
		s.accept.OriginPatterns = cfg.AllowedOrigins
	}
	return s, nil
}

// NodeID is this node's id in the cluster.
func (s *Server) NodeID() string { return s.nodeID }

// Start connects the broker and starts the background work. It returns
// once the node is part of the cluster. Calling it again does nothing.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	if s.stopping {
		return errors.New("realtime: Start after Stop")
	}
	if err := s.broker.Start(ctx, brokerHandler{s}); err != nil {
		return fmt.Errorf("starting realtime broker: %w", err)
	}
	s.started = true
	s.cluster.start()
	s.webhooks.start()
	s.errs.start()
	s.alerts.start()
	s.loop(s.sweepInterval(), func(now time.Time) { s.hub.each(func(c *conn) { c.keepAlive(now) }) })
	s.loop(s.cfg.UsageFlushInterval, func(now time.Time) { s.usage.flush(context.Background(), now) })
	s.loop(s.cfg.AppCacheTTL, func(time.Time) { s.refreshApps(context.Background()) })
	s.loop(s.cfg.PurgeInterval, func(now time.Time) { s.purge(context.Background(), now) })
	s.loop(time.Minute, s.hub.cache.sweep)
	s.loop(s.cfg.SubscriptionCountInterval, s.sendSubscriptionCounts)
	s.bg.Add(1)
	go func() { // and once now: a node may have been down for days
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.purge(ctx, time.Now())
	}()
	return nil
}

// sweepInterval is how often connections are checked for silence.
func (s *Server) sweepInterval() time.Duration {
	d := min(s.cfg.ActivityTimeout, s.cfg.PongTimeout) / 4
	return max(10*time.Millisecond, min(d, time.Second))
}

// loop runs f every interval until Stop.
func (s *Server) loop(every time.Duration, f func(time.Time)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case now := <-t.C:
				f(now)
			}
		}
	}()
}

// Stop closes every connection with 4200 (clients reconnect, to another
// node), waits for them, leaves the cluster and flushes webhooks, usage
// and the error log. When ctx ends first, connections are cut and what
// is left is dropped. Calling it again returns the first result.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *Server) stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.hub.each(func(c *conn) { c.closeWith(CodeReconnect, CodeReconnect.info().Message) })
	var errs []error
	if err := lifecycle.Wait(ctx, &s.handlers); err != nil {
		// Cut what did not close in time; handlers end at once then.
		s.hub.each(func(c *conn) { c.end() })
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		lifecycle.Wait(hard, &s.handlers)
		cancel()
		errs = append(errs, fmt.Errorf("closing connections: %w", err))
	}
	s.readers.close()
	close(s.quit)
	if err := lifecycle.Wait(ctx, &s.bg); err != nil {
		errs = append(errs, fmt.Errorf("stopping background loops: %w", err))
	}
	if err := s.cluster.stopLoop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("leaving the cluster: %w", err))
	}
	if err := s.broker.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping the broker: %w", err))
	}
	s.usage.flush(ctx, time.Now())
	errs = append(errs, s.webhooks.stop(ctx), s.alerts.stop(ctx), s.errs.stop(ctx))
	return errors.Join(errs...)
}

// enter admits a handler unless the server is stopping; the handler calls
// s.handlers.Done when it ends.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || !s.started {
		return false
	}
	s.handlers.Add(1)
	return true
}

// Register mounts the WebSocket endpoint (GET /app/{key}) and the HTTP API
// (/apps/{app_id}/…) on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{key}", s.serveWS)
	mux.HandleFunc("POST /apps/{app_id}/events", s.api(s.postEvents))
	mux.HandleFunc("POST /apps/{app_id}/batch_events", s.api(s.postBatchEvents))
	mux.HandleFunc("GET /apps/{app_id}/channels", s.api(s.getChannels))
	mux.HandleFunc("GET /apps/{app_id}/channels/{channel}", s.api(s.getChannel))
	mux.HandleFunc("GET /apps/{app_id}/channels/{channel}/users", s.api(s.getUsers))
	mux.HandleFunc("POST /apps/{app_id}/users/{user_id}/terminate_connections", s.api(s.terminateConnections))
}

// Handler is a handler with only the realtime routes (see Register).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	return mux
}

// clientIP is the address the error log records.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustForwardedFor {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// serveWS runs one client connection from handshake to cleanup. Before
// the upgrade, and before any other work, it takes one of the node's
// sockets and one of the client address's: a client over either limit is
// answered with an HTTP status and the connection closed, which costs a
// flood of connections next to nothing and keeps it from the descriptors
// the rest of the process needs.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "realtime server is not running", http.StatusServiceUnavailable)
		return
	}
	// Until the connection is handed to its own goroutine, this handler
	// gives back what it took.
	handedOff := false
	defer func() {
		if !handedOff {
			s.handlers.Done()
		}
	}()
	if !s.sockets.Acquire() {
		s.refuse(w, http.StatusServiceUnavailable, RefusedFull, "Over capacity: this server holds all the connections it may; try again later")
		return
	}
	defer func() {
		if !handedOff {
			s.sockets.Release()
		}
	}()
	ip := s.clientIP(r)
	addr, _ := netip.ParseAddr(ip)
	if !s.perIP.Acquire(addr) {
		s.refuse(w, http.StatusTooManyRequests, RefusedPerIP, "Too many connections from your address; try again later")
		return
	}
	defer func() {
		if !handedOff {
			s.perIP.Release(addr)
		}
	}()
	up := &upgrader{ResponseWriter: w, writeTimeout: s.cfg.WriteTimeout}
	ws, err := websocket.Accept(up, r, s.accept)
	if err != nil {
		return // Accept answered the request
	}
	if up.wire == nil { // cannot happen: Accept hijacks through up
		ws.CloseNow()
		s.log.Error("realtime: accepting a WebSocket", "err", errNoWire)
		return
	}
	ws.SetReadLimit(s.cfg.MaxFrameBytes)
	c := &conn{srv: s, ws: ws, wire: up.wire, socketID: newSocketID(), ip: ip, subs: map[string]*subscription{}}
	c.lastRead.Store(time.Now().UnixNano())
	// The connection runs in a goroutine of its own, and this handler
	// returns: the HTTP server's request, response, buffers and the
	// handler's stack (grown by the handshake) are not kept for the
	// connection's life.
	handedOff = true
	go s.runConn(c, addr, r.PathValue("key"), r.URL.Query().Get("protocol"))
}

// runConn starts an upgraded connection: it admits it and reads it until
// it parks or ends.
func (s *Server) runConn(c *conn, addr netip.Addr, key, proto string) {
	c.addr = addr
	c.admitted = s.admit(c, key, proto)
	c.serve(false)
}

// finish cleans up after a connection that ended, on its last reader, and
// gives back what serveWS took.
func (s *Server) finish(c *conn) {
	c.end()
	c.endWriters()
	c.ws.CloseNow()
	s.idle.forget(c)
	if c.admitted {
		c.leaveAll()
		s.cluster.mu.Lock()
		c.signOutLocked()
		s.cluster.mu.Unlock()
		s.hub.remove(c)
		s.cluster.connDelta(c.appID, -1)
	}
	s.perIP.Release(c.addr)
	s.sockets.Release()
	s.handlers.Done()
}

// admit checks the app, protocol and limits, and registers the connection
// or fails it with the protocol's code.
func (s *Server) admit(c *conn, key, proto string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	app, err := s.apps.byKey(ctx, key)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.fail(CodeUnknownApp, "")
		return false
	case err != nil:
		s.log.Error("realtime: reading app", "err", err)
		c.fail(CodeOverCapacity, "Server error: try again later")
		return false
	}
	c.appID, c.accountID = app.ID, app.AccountID
	quota := s.connectionQuota(app)
	switch {
	case !app.Enabled:
		c.fail(CodeAppDisabled, "")
	case proto == "":
		c.fail(CodeNoProtocol, "")
	case proto != "7" && proto != "6" && proto != "5":
		c.fail(CodeUnsupportedProtocol, "Unsupported protocol version "+truncateReason(proto)+": 7 is supported")
	case s.cfg.MaxConnections > 0 && s.hub.count() >= s.cfg.MaxConnections:
		c.fail(CodeOverCapacity, "Over capacity: this node is full")
	case quota > 0 && s.cluster.connections(app.ID) >= quota:
		c.fail(CodeOverConnectionQuota, "")
		s.alerts.check(app, store.RealtimeLimitConnections, int64(quota), int64(quota))
	default:
		s.hub.add(c)
		s.cluster.connDelta(app.ID, 1)
		if quota > 0 {
			s.alerts.check(app, store.RealtimeLimitConnections, int64(s.cluster.connections(app.ID)), int64(quota))
		}
		c.send(encodeFrame("pusher:connection_established", "", stringData(map[string]any{
			"socket_id": c.socketID, "activity_timeout": int(s.cfg.ActivityTimeout / time.Second)}), ""))
		return true
	}
	return false
}

// connectionQuota is an app's connection limit: its own, or the server's
// default for apps that set none (0: unlimited).
func (s *Server) connectionQuota(app *store.RealtimeApp) int {
	if app.MaxConnections > 0 {
		return app.MaxConnections
	}
	return s.cfg.DefaultAppMaxConnections
}

// refuse answers a WebSocket request before its upgrade: the status, a
// plain-text reason (as the Pusher HTTP API answers errors), and the
// connection closed after it.
func (s *Server) refuse(w http.ResponseWriter, status int, reason, message string) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", "1")
	http.Error(w, message, status)
	s.refused.add(reason)
	if s.onRefused != nil {
		s.onRefused(reason)
	}
	if perIP, full, ok := s.refused.report(time.Now()); ok {
		s.log.Warn("realtime: refusing WebSocket connections", "over_per_ip_limit", perIP, "server_full", full,
			"sockets", s.sockets.Held(), "max_sockets", s.cfg.MaxSockets, "max_per_ip", s.cfg.MaxConnectionsPerIP)
	}
}

// refusals counts WebSockets refused before the upgrade, and spaces the
// warnings about them (a flood would otherwise flood the log too).
type refusals struct {
	perIP, full atomic.Int64 // since the start
	mu          sync.Mutex
	lastLog     time.Time
	loggedPerIP int64
	loggedFull  int64
}

// refusalLogInterval spaces the warnings about refused connections.
const refusalLogInterval = 10 * time.Second

func (r *refusals) add(reason string) {
	if reason == RefusedPerIP {
		r.perIP.Add(1)
	} else {
		r.full.Add(1)
	}
}

// report says whether to warn now, with the counts since the last warning.
func (r *refusals) report(now time.Time) (perIP, full int64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.lastLog) < refusalLogInterval {
		return 0, 0, false
	}
	p, f := r.perIP.Load(), r.full.Load()
	perIP, full = p-r.loggedPerIP, f-r.loggedFull
	r.lastLog, r.loggedPerIP, r.loggedFull = now, p, f
	return perIP, full, true
}

// logError records a connection's error in its app's error log.
func (s *Server) logError(c *conn, code Code, message string) {
	if message == "" {
		message = code.info().Message
	}
	if c.appID == "" {
		s.log.Debug("realtime: connection refused", "code", int(code), "reason", message)
		return
	}
	s.errs.add(store.RealtimeError{AccountID: c.accountID, AppID: c.appID, Code: int(code), Message: message, IP: c.ip, At: time.Now().UTC()})
}

// publish delivers a frame on a channel here and on the other nodes, and
// counts the messages: count (per channel) plus deliveries. tags are the
// event's, for subscribers with a filter (nil: untagged).
func (s *Server) publish(app, channel string, frame []byte, exclude string, count int, tags map[string]string) {
	now := time.Now()
	n, cached := s.hub.deliverEvent(app, channel, &published{frame: frame, tags: tags}, exclude, true, now)
	if err := s.broker.PublishEvent(app, channel, envelope(exclude, frame, tags)); err != nil {
		s.log.Warn("realtime: publishing to other nodes", "err", err)
	}
	if cached {
		s.cluster.cacheEvent(chanKey{app, channel}, frame, tags, now)
	}
	s.usage.add(app, int64(count+n))
}

// brokerHandler receives what other nodes publish.
type brokerHandler struct{ s *Server }

func (h brokerHandler) HandleEvent(app, channel string, payload []byte) {
	exclude, frame, tags, ok := openEnvelope(payload)
	if !ok {
		return
	}
	if n, _ := h.s.hub.deliverEvent(app, channel, &published{frame: frame, tags: tags}, exclude, false, time.Time{}); n > 0 {
		h.s.usage.add(app, int64(n))
	}
}

func (h brokerHandler) HandleState(payload []byte) { h.s.cluster.handleState(payload) }

// --- cluster view changes (clusterListener; cluster.mu is held) ---------

func (s *Server) occupied(k chanKey, leader bool) {
	if leader {
		s.webhooks.add(k.app, webhookEvent{Name: "channel_occupied", Channel: k.channel})
	}
}

func (s *Server) vacated(k chanKey, leader bool) {
	if leader {
		s.webhooks.add(k.app, webhookEvent{Name: "channel_vacated", Channel: k.channel})
	}
}

func (s *Server) memberAdded(k chanKey, user string, info json.RawMessage, leader bool) {
	if k.channel == onlineChannel {
		s.watched(k.app, user, "online")
		return
	}
	frame := memberFrame("pusher_internal:member_added", k.channel, user, info)
	if n := s.hub.deliver(k.app, k.channel, frame, ""); n > 0 {
		s.usage.add(k.app, int64(n))
	}
	if leader {
		s.webhooks.add(k.app, webhookEvent{Name: "member_added", Channel: k.channel, UserID: user})
	}
}

func (s *Server) memberRemoved(k chanKey, user string, leader bool) {
	if k.channel == onlineChannel {
		s.watched(k.app, user, "offline")
		return
	}
	frame := memberFrame("pusher_internal:member_removed", k.channel, user, nil)
	if n := s.hub.deliver(k.app, k.channel, frame, ""); n > 0 {
		s.usage.add(k.app, int64(n))
	}
	if leader {
		s.webhooks.add(k.app, webhookEvent{Name: "member_removed", Channel: k.channel, UserID: user})
	}
}

func (s *Server) subscriptionsChanged(k chanKey) { s.subCounts.mark(k) }

func (s *Server) cacheUpdate(k chanKey, frame []byte, tags map[string]string, at time.Time) {
	s.hub.cache.putTagged(k, frame, tags, at)
}

func (s *Server) terminate(app, user string) {
	for _, c := range s.hub.userConns(app, user) {
		c.fail(CodeUnauthorized, "Connection terminated by the app")
	}
}

// refreshApps re-reads the apps with connections here and closes those of
// apps that were disabled (4003) or deleted (4001).
func (s *Server) refreshApps(ctx context.Context) {
	for _, id := range s.hub.appIDs() {
		app, err := s.apps.byID(ctx, id)
		var code Code
		switch {
		case errors.Is(err, store.ErrNotFound):
			code = CodeUnknownApp
		case err != nil:
			s.log.Warn("realtime: refreshing app", "app", id, "err", err)
			continue
		case !app.Enabled:
			code = CodeAppDisabled
		default:
			continue
		}
		for _, c := range s.hub.appConnList(id) {
			c.fail(code, "")
		}
	}
}

// purge deletes old errors (with their IPs) and old usage counts.
func (s *Server) purge(ctx context.Context, now time.Time) {
	if n, err := s.st.PurgeRealtimeErrors(ctx, now.Add(-store.RealtimeErrorRetention)); err != nil {
		s.log.Error("realtime: purging the error log", "err", err)
	} else if n > 0 {
		s.log.Info("realtime: purged old errors", "count", n)
	}
	if _, err := s.st.PurgeRealtimeUsage(ctx, now.Add(-s.cfg.UsageRetention)); err != nil {
		s.log.Error("realtime: purging usage", "err", err)
	}
}

// Stats describes this node, for metrics and tests.
type Stats struct {
	Connections     int   // open here
	WebhooksDropped int64 // webhook events dropped (queue full or out of attempts)
	ErrorsDropped   int64 // error log entries dropped (queue full)
	Sockets         int   // WebSocket sockets held in any state (MaxSockets bounds them)
	RefusedPerIP    int64 // WebSockets refused with 429: over MaxConnectionsPerIP
	RefusedFull     int64 // WebSockets refused with 503: MaxSockets held
}

// Stats reads this node's counters.
func (s *Server) Stats() Stats {
	return Stats{Connections: s.hub.count(), WebhooksDropped: s.webhooks.dropped.Load(), ErrorsDropped: s.errs.dropped.Load(),
		Sockets: s.sockets.Held(), RefusedPerIP: s.refused.perIP.Load(), RefusedFull: s.refused.full.Load()}
}
