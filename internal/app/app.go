// Package app wires omnigate together — config → store → services →
// servers — and runs it until it is told to stop, then stops it in order so
// that nothing accepted is lost: the HTTP server stops taking requests and
// finishes those in flight, the accept path commits what is queued, the
// dispatcher and webhook sender finish their jobs, and the store closes.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/api"
	"github.com/omnigate/omnigate/internal/api/account"
	"github.com/omnigate/omnigate/internal/api/admin"
	"github.com/omnigate/omnigate/internal/api/conversations"
	"github.com/omnigate/omnigate/internal/api/emaillinks"
	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/api/smtpsubmit"
	"github.com/omnigate/omnigate/internal/api/twilio"
	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/connectors"
	"github.com/omnigate/omnigate/internal/dispatch"
	"github.com/omnigate/omnigate/internal/email/links"
	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/inbound"
	"github.com/omnigate/omnigate/internal/lifecycle"
	"github.com/omnigate/omnigate/internal/mailin"
	"github.com/omnigate/omnigate/internal/mailsink"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/numbers"
	"github.com/omnigate/omnigate/internal/optout"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/privacy"
	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/smppserver"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/subscriptions"
	"github.com/omnigate/omnigate/internal/templates"
	"github.com/omnigate/omnigate/internal/users"
	"github.com/omnigate/omnigate/internal/verify"
	"github.com/omnigate/omnigate/internal/webhook"
	"github.com/omnigate/omnigate/internal/worker"
)

// App is a running omnigate.
type App struct {
	// loops are the periodic passes (maintenance, fallbacks, backups, the
	// heartbeat) started by Run, which waits for them before it closes
	// the store (background).
	loops      sync.WaitGroup
	cfg        Config
	log        *slog.Logger
	store      *sqlstore.Store
	metrics    *metrics.Metrics
	pipeline   *pipeline.Pipeline
	dispatcher *dispatch.Dispatcher
	webhooks   *webhook.Sender
	convHooks  *webhook.ConvDeliverer // Conversations /v1/webhooks (conversations.go)
	channels   *channel.Registry
	connectors *connectors.Manager
	router     *dispatch.TableRouter // the connectors' routes, and each channel's fallback
	receiver   *inbound.Receiver
	billing    *billing.Service
	hlr        *hlr.Service // Lookup's HLR queries and the check before sending (hlr.go)
	compliance *compliance.Engine
	desk       *compliance.Desk
	privacy    *privacy.Service
	retention  *privacy.Retention
	notifier   *notice.Notifier
	topups     *worker.Pool // automatic top-ups (billing.NewTopUps)
	demoSMSC   *smsc.Server
	demoMail   *mailsink.Sink // the demo's receiving mail server
	// composer builds every email the node sends (one cache of sending
	// domains' parsed keys for every smtp connector).
	composer *emailComposer
	demoChat *chatsim.Server // the demo's WhatsApp Cloud API simulator
	// demoWhatsAppChannel is the demo account's Conversations channel on
	// the simulator's number.
	demoWhatsAppChannel string
	demoTemplateID      string             // the simulator's id of the demo's approved template
	templateSync        templateSyncState  // the last WhatsApp template sync
	mailIn              *mailin.Server     // the inbound SMTP listener, when configured
	submission          *smtpsubmit.Server // the SMTP submission door, when configured
	smppDoor            *smppserver.Server // the SMPP server for customers, when configured
	realtime            *realtime.Server
	auth                *auth.Authenticator
	guard               *authguard.Guard // limits failed authentication (keys, admin token, Pusher signatures)
	trail               *audit.Trail     // the audit trail: authentications, admin actions
	changes             *audit.Log       // the stored audit log: every change by an operator or a key
	users               *users.Service   // console users, sessions, seats (console.go)
	demoOwner           *demoOwner       // the demo account's console owner
	style               *rest.Style      // the REST doors' style: authentication, and the routes registered
	// api is the API's listener and server; rt realtime's, when
	// Config.RealtimeHTTPAddr gives it a listener of its own (else nil).
	api, rt *endpoint
	// tls is set when the API is served over HTTPS.
	ready *readiness
	tls   bool
	// emailLinks signs the links emails carry (unsubscribe, open, click)
	// under the public URL; see EmailLinks.
	emailLinks *links.Signer
	// Demo is the demo account, when Config.Demo is set.
	Demo *DemoAccount
	// verify creates and checks one-time codes (/verify).
	verify *verify.Service
	// numbers sells and reclaims numbers (/v1/phone-numbers).
	numbers *numbers.Service
	// push serves the Beams APIs and delivers push notifications (push.go).
	push        *push.Service
	pushSims    *pushSims          // with PushConfig.Simulator or the demo
	vapidPublic string             // the Web Push VAPID public key
	demoBeams   *store.RealtimeApp // the demo's Beams instance
	// imports runs the import jobs of the admin and account APIs.
	imports *imports.Runner
	node    string // this node's id (node.go)

	// subs runs plans, trials, subscriptions, invoices and the account
	// lifecycle (ACCT-2…4; subscriptions.go).
	subs *subscriptions.Service
}

// EmailLinks makes the signed one-click unsubscribe, open-pixel and click
// URLs of email recipients, for compose.Options; the public endpoints
// (internal/api/emaillinks) verify them on any node sharing the master key.
func (a *App) EmailLinks() *links.Signer { return a.emailLinks }

// New opens the store, builds the services and binds the listener; Run
// starts serving.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	cfg = cfg.WithDefaults()
	cfg, err := cfg.readAdminToken()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkDataDir(cfg.DataDir); err != nil { // node id, demo keys (and SQLite: checked again by openStore)
		return nil, err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	node, err := nodeID(cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, err
	}
	if n, err := st.ReleaseLeases(ctx, node); err != nil {
		st.Close()
		return nil, err
	} else if n > 0 {
		log.Info("resuming jobs held when this node last stopped", "jobs", n)
	}
	a := &App{cfg: cfg, log: log, store: st, metrics: metrics.New()}
	// The links in emails are signed with a key derived from the master
	// key (openStore made one if there was none).
	master, _, err := cfg.loadMasterKey(log)
	if err == nil && master == nil {
		err = errors.New("there is none")
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("master key for email links: %w", err)
	}
	a.emailLinks = links.New(master.Derive(links.KeyPurpose), cfg.PublicURL)
	a.ready = newReadiness(st, node, cfg.HeartbeatEvery, log)
	a.metrics.WatchQueue(st, log)
	accounts := store.NewAccountCache(st, 0)

	// Every committer (accepts, receipts, the pools' outcomes) keeps
	// groupcommit's default of one commit at a time, on both engines. On
	// PostgreSQL concurrent flushers made more, smaller transactions that
	// queued on the server's WAL flush: capacity runs
	// (bench/compare-kannel.sh, 2 cores) delivered 727/s with 4, 823/s
	// with 2, 928–948/s with 1. Several nodes still commit concurrently,
	// one flusher each.
	commit := groupcommit.Config{}
	if cfg.IsPostgres() {
		commit.Linger, commit.LingerRate, commit.LingerBelow = pgLinger, pgLingerRate, pgLingerBelow
	}
	whCfg, dCfg := cfg.Webhook, cfg.Dispatch
	whCfg.Pool.Owner, dCfg.Pool.Owner = node, node
	whCfg.Pool.Commit, dCfg.Pool.Commit = commit, commit
	whCfg.Formats = map[string]webhook.Format{message.ReportConversations: conversations.ReportBody}
	whCfg.Forms = map[string]webhook.FormFormat{twilio.Report: {Header: twilio.HeaderSignature, Render: twilio.Callbacks{Store: st}.Render}}
	whCfg.Deliverers = map[string]webhook.Deliverer{smppserver.ReportSMPP: a.smppReceipt}
	whCfg.Inbound = a.smppInbound
	whCfg.InboundForm = a.twilioInbound
	a.webhooks = webhook.New(whCfg, st, accounts, a.metrics, log)
	a.composer = newEmailComposer(a)
	a.channels = ChannelsWith(ChannelDeps{EmailSettle: cfg.EmailSettle, ComposeEmail: a.composer.compose, EmailBounced: a.emailBounced})
	a.connectors = connectors.New(st, a.channels, log)
	if cfg.IsPostgres() {
		// Several nodes may share the database: they share carrier binds
		// out through lease rows (connectors/binds.go).
		a.connectors.ShareBinds(connectors.BindSharing{Store: st, Node: node, TTL: cfg.BindLease, Live: 3 * cfg.HeartbeatEvery})
		dCfg.Elsewhere = a.connectors.Elsewhere
	}
	a.node = node
	router := dispatch.NewTableRouter(a.connectors)
	a.router = router
	a.connectors.SetRouter(router)
	dCfg.Suspended, dCfg.Suspend = a.connectors.Suspended, a.suspendConnector
	a.dispatcher = dispatch.New(dCfg, st, router, accounts, a.metrics, a.webhooks.Notify, log)
	bCfg := cfg.Billing
	bCfg.Channels = withHLRUnit(a.channels.Units())
	a.billing = billing.New(bCfg, st, accounts, nil, log)
	a.hlr = a.newHLR(node, accounts)
	nCfg, tCfg := cfg.Notifier, cfg.TopUps
	nCfg.Pool.Owner, nCfg.SMTPAddr, nCfg.SMTPFrom = node, cfg.SMTPAddr, cfg.SMTPFrom
	tCfg.Pool.Owner = node
	a.notifier = notice.New(nCfg, st, log)
	a.topups = billing.NewTopUps(tCfg, st, nil, log)
	a.compliance = compliance.New(compliance.Config{Channels: complianceRules(st)}, st, a.metrics)
	a.desk = compliance.NewDesk(cfg.Compliance, st, a.compliance)
	a.desk.OnNotice(a.notifier.Notify)
	retention, _ := privacy.ParseRetention(cfg.Retention) // Validate checked it
	a.privacy = &privacy.Service{Store: st, Log: log, Notify: a.notifier.Notify}
	a.retention = &privacy.Retention{Store: st, Config: retention, Node: node, Every: cfg.RetentionEvery}
	a.pipeline = pipeline.New(pipeline.Config{Prepare: a.channels.Prepare, Commit: commit, Charger: a.billing, Compliance: a.compliance, Log: log,
		Instruction: smsInstruction, Reach: reachOf(a.hlr)},
		st, a.metrics, a.dispatcher.Notify)
	a.pipeline.AddInboundHook(optout.New(st, a.pipeline, log).Hook)
	var convInbound pipeline.InboundHook
	a.convHooks, convInbound = conversationHooks(st, a.webhooks, cfg.PublicURL, log)
	a.pipeline.AddInboundHook(convInbound)
	a.pipeline.OnInbound = a.webhooks.NotifyInbound
	a.pipeline.OnBilling = func() { a.notifier.Notify(); a.topups.Notify() }
	a.verify = a.newVerify(cfg.Verify, log)
	a.numbers = a.newNumbers(cfg.Numbers, log)
	if a.push, err = a.newPush(cfg, node); err != nil {
		a.pushSims.close()
		st.Close()
		return nil, err
	}
	if !cfg.APIOnly {
		a.pipeline.Handoff = a.dispatcher
	}
	a.receiver = inbound.New(st, a.pipeline, a.metrics, commit, a.webhooks.Notify, log)
	a.receiver.Reports = a.webhooks
	a.connectors.SetReceiver(a.receiver)
	if cfg.Demo {
		demo, err := a.startDemoSMSC()
		if err != nil {
			st.Close()
			return nil, err
		}
		router.SetFallback(demo)
	}

	if cfg.Demo {
		if a.Demo, err = EnsureDemo(ctx, st, cfg.DataDir); err != nil {
			st.Close()
			return nil, fmt.Errorf("setting up the demo account: %w", err)
		}
		if a.demoBeams, err = ensureDemoBeams(ctx, st, a.Demo.ID); err != nil {
			st.Close()
			return nil, fmt.Errorf("setting up the demo's Beams instance: %w", err)
		}
	}
	authCfg := cfg.Auth
	authCfg.Log = log
	a.auth = auth.NewAuthenticator(st, authCfg)
	a.trail = audit.New(audit.Config{}, log.Handler())
	a.metrics.WatchAuditTrail(a.trail.Dropped)
	a.guard = authguard.New(cfg.AuthLimits, a.trail, a.metrics)
	a.style = rest.New(rest.Config{PublicURL: cfg.PublicURL}, a.auth, a.metrics, log)
	a.style.Protect(a.guard, a.trail)
	a.changes = audit.NewLog(st, log)
	a.changes.UseKeys(st.AuditKey) // identifiers pseudonymised with the account's key
	a.style.UseAuditLog(a.changes)
	a.subs = a.newSubscriptions(cfg.Subscriptions, node, log)
	acct := account.New(a.style, st, a.billing, a.desk)
	acct.UseSubscriptions(a.subs)
	a.imports = imports.New(st)
	if n, err := a.imports.Sweep(ctx); err != nil {
		log.Warn("failing the imports a restart stopped", "err", err)
	} else if n > 0 {
		log.Warn("imports stopped by a restart were failed: post their files again", "imports", n)
	}
	acct.UseImports(a.imports)
	emailDomains, err := cfg.EmailDomains()
	if err != nil {
		st.Close()
		return nil, err
	}
	acct.UseEmailDomains(emailDomains)
	acct.UsePrivacy(a.privacy)
	doors := []api.Door{a.messageBird(st), acct, acct.RealtimeApps(st), acct.Beams(st),
		conversations.New(a.style, st, a.pipeline, a.metrics, renderTemplate(templates.New(st))).SetFallbackMinAfter(cfg.FallbackMinAfter), emaillinks.New(a.emailLinks, st, a.webhooks.Notify, log),
		a.withVerify(twilio.New(st, a.pipeline, a.metrics, a.guard, a.trail, log, 0, cfg.PublicURL)), providerHooks{a.connectors}, a.beamsDoor()}
	for _, d := range doors {
		if t, ok := d.(*twilio.API); ok {
			t.UseAuditLog(a.changes)
		}
	}
	useWATemplates(doors, a.connectors) // WhatsApp template submission for the Conversations door
	doors = append(doors, a.newConsole(st))
	if cfg.AdminToken != "" {
		adminAPI := admin.New(cfg.AdminToken, st, a.billing, a.desk, log)
		adminAPI.OnRelease(a.dispatcher.Notify)
		adminAPI.UseEmailDomains(emailDomains)
		adminAPI.UseVerify(a.verify)
		adminAPI.UsePrivacy(a.privacy, a.retention)
		adminAPI.Protect(a.guard, a.trail)
		adminAPI.UseAuditLog(a.changes)
		adminAPI.UseImports(a.imports)
		adminAPI.UseSubscriptions(a.subs)
		adminAPI.UseBeams(st)
		doors = append(doors, adminAPI)
	}
	if a.realtime, err = a.newRealtime(cfg); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.startMailIn(); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Demo {
		if err := ensureDemoEmail(ctx, st, a.Demo.ID); err != nil {
			st.Close()
			return nil, fmt.Errorf("setting up the demo's email: %w", err)
		}
		mail, err := a.startDemoMail()
		if err != nil {
			st.Close()
			return nil, err
		}
		router.SetFallback(mail)
		chat, err := a.startDemoWhatsApp()
		if err != nil {
			st.Close()
			return nil, err
		}
		router.SetFallback(chat)
		if a.demoWhatsAppChannel, err = ensureDemoWhatsAppChannel(ctx, st, a.Demo.ID, a.demoTemplateID); err != nil {
			st.Close()
			return nil, fmt.Errorf("setting up the demo's WhatsApp channel: %w", err)
		}
	}
	var tlsCfg *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("tls-cert, tls-key: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		a.tls = true
	}
	if err := a.startSubmission(tlsCfg); err != nil {
		st.Close()
		return nil, err
	}
	if err := a.startSMPPServer(tlsCfg); err != nil {
		st.Close()
		return nil, err
	}
	apiHandler := api.Handler(a.ready, a.metrics, doors...)
	if cfg.RealtimeHTTPAddr == "" {
		apiHandler = a.withRealtime(apiHandler)
	}
	if a.api, err = a.listen("api", cfg.HTTPAddr, apiHandler, tlsCfg); err != nil {
		st.Close()
		return nil, fmt.Errorf("listening on %s: %w", cfg.HTTPAddr, err)
	}
	if cfg.PublicURL == "" {
		a.emailLinks = a.emailLinks.WithBase(a.URL())
		a.users.SetPublicURL(a.URL())
	}
	if a.demoChat != nil {
		if tlsCfg != nil {
			a.demoChat.SetWebhookTLS(pinned(tlsCfg.Certificates[0]))
		}
		a.demoChat.SetWebhook(a.URL() + "/webhooks/whatsapp/" + DemoWhatsAppConnector)
	}
	if cfg.RealtimeHTTPAddr != "" {
		if a.rt, err = a.listen("realtime", cfg.RealtimeHTTPAddr, a.realtimeHandler(), tlsCfg); err != nil {
			a.api.close()
			st.Close()
			return nil, fmt.Errorf("realtime-http: listening on %s: %w", cfg.RealtimeHTTPAddr, err)
		}
	}
	return a, nil
}

// Addr is the address the API listens on (useful with port 0).
func (a *App) Addr() string { return a.api.Addr() }

// AuditLog is the stored audit log of changes: what a part built on the
// app (the console) records its users' changes in.
func (a *App) AuditLog() *audit.Log { return a.changes }

// RealtimeAddr is the address realtime clients connect to: the API's,
// or Config.RealtimeHTTPAddr's listener when it has one.
func (a *App) RealtimeAddr() string {
	if a.rt != nil {
		return a.rt.Addr()
	}
	return a.Addr()
}

// URL is the scheme and address the API is served at: https with
// TLSCert and TLSKey, http otherwise.
func (a *App) URL() string {
	if a.tls {
		return "https://" + a.Addr()
	}
	return "http://" + a.Addr()
}

// Run serves until ctx ends, then stops gracefully within the shutdown
// timeout. It returns nil after a clean stop.
func (a *App) Run(ctx context.Context) error {
	a.trail.Start()
	// Asked to stop while starting (ctx ended): a clean stop, not an error.
	startFailed := func(what string, err error) error {
		stopErr := a.stop(context.Background())
		if ctx.Err() != nil {
			return stopErr
		}
		return fmt.Errorf("starting %s: %w", what, err)
	}
	if err := a.startRealtime(ctx); err != nil {
		return startFailed("realtime", err)
	}
	if !a.cfg.APIOnly {
		if err := a.connectors.Start(ctx, 5*time.Second); err != nil {
			return startFailed("connectors", err)
		}
		a.webhooks.Start()
		a.convHooks.Start()
		a.dispatcher.Start()
		a.notifier.Start()
		a.topups.Start()
		a.hlr.Start()
		a.push.Start()
	}
	stopDebug, err := a.startDebug()
	if err != nil {
		a.stop(context.Background())
		return fmt.Errorf("starting the profiler listener on %s: %w", a.cfg.DebugAddr, err)
	}
	defer stopDebug(context.Background())
	a.ready.beat(ctx)
	heartbeat := make(chan struct{})
	a.background(func() { a.ready.run(heartbeat) })
	maintenance := a.startMaintenance()
	backups := a.startBackups()     // backups.go
	fallbacks := a.startFallbacks() // fallback.go
	serveErr := make(chan error, 4) // two servers per endpoint
	a.api.serve(serveErr)
	if a.demoChat != nil {
		go a.demoHandsetWrites(ctx)
	}
	if a.rt != nil {
		a.rt.serve(serveErr)
		a.log.Info("realtime serving on its own listener", "addr", a.rt.Addr())
	}
	if a.smppDoor != nil {
		a.smppDoor.Start()
		a.log.Info("SMPP server listening", "addr", a.smppDoor.Addr(), "tls", a.cfg.SMPPTLS)
	}
	if a.submission != nil {
		a.submission.Start()
		a.log.Info("SMTP submission listening", "addr", a.submission.Addr(), "starttls", a.tls)
	}
	if a.mailIn != nil {
		a.mailIn.Start()
		a.log.Info("inbound SMTP (bounces, complaints, unsubscribes) listening", "addr", a.mailIn.Addr())
	}
	a.log.Info("omnigate serving", "addr", a.Addr(), "tls", a.tls, "database", a.databaseName(), "demo", a.cfg.Demo)

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	a.log.Info("omnigate stopping")
	close(heartbeat)
	if err == nil {
		a.drain()
	}
	close(maintenance)
	close(backups)
	close(fallbacks)
	stopCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := lifecycle.Wait(stopCtx, &a.loops); err != nil {
		a.log.Warn("stopping: a periodic pass is still running; closing under it", "err", err)
	}
	return errors.Join(err, a.stop(stopCtx))
}

// On PostgreSQL each stage's commits (accepts, receipts, the send and
// report jobs' outcomes) wait up to pgLinger for more items while items
// come at pgLingerRate a second or more and fewer than pgLingerBelow were
// queued: at a steady few hundred messages a second each batch then
// carries several, and the server runs a batch's statements once instead
// of once per message. Under a heavy load the queue that builds during a
// commit is batch enough; a wait ends when the items stop coming
// (groupcommit.Config.LingerRate), and a jobs' pool waits only while it
// has jobs still being handled and no backlog. An idle node never waits.
// 5 ms: capacity +14 %, CPU per message −18 %, p99 at a fixed rate a
// quarter (bench/results/2026-12-06-pg-commit-wait.md); 10 ms: another
// −14 % CPU per message at a fixed rate, capacity and p99 no worse; 20 ms
// no better (bench/results/2026-12-06-pg-wait-10ms.md).
const (
	pgLinger      = 10 * time.Millisecond
	pgLingerRate  = 200 // items a second, at least
	pgLingerBelow = 4
)

// drainWatched: a drain is skipped when nothing asked /readyz within it.
const drainWatched = 10 * time.Second

// drain is the lame duck of a graceful stop: /readyz fails at once, the
// node leaves the live count that shares binds out, responses ask clients
// to close their connections, and everything keeps being served for
// Config.Drain, so that a load balancer polling /readyz moves its traffic
// before the listener closes.
func (a *App) drain() {
	watched := a.ready.drain(drainWatched)
	if a.cfg.Drain <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if err := a.store.ForgetNode(ctx, a.node); err != nil {
		a.log.Warn("draining: removing this node's heartbeat", "err", err)
	}
	cancel()
	if !watched {
		a.log.Info("not draining: nothing asked /readyz in the last " + drainWatched.String())
		return
	}
	for _, e := range []*endpoint{a.api, a.rt} {
		if e != nil {
			e.closing.Store(true)
		}
	}
	a.log.Info("draining: /readyz answers 503; serving on", "for", a.cfg.Drain)
	time.Sleep(a.cfg.Drain)
}

// stop shuts down in dependency order: no new requests, then queued accepts
// committed, then workers finished, then the database closed.
func (a *App) stop(ctx context.Context) error {
	var errs []error
	for _, e := range []*endpoint{a.api, a.rt} {
		if e != nil {
			if err := e.shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if a.smppDoor != nil {
		if err := a.smppDoor.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping SMPP server: %w", err))
		}
	}
	if a.submission != nil {
		if err := a.submission.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping SMTP submission: %w", err))
		}
	}
	if a.mailIn != nil {
		if err := a.mailIn.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping inbound SMTP: %w", err))
		}
	}
	if err := a.stopRealtime(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := a.verify.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping verifications: %w", err))
	}
	if err := a.pipeline.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping accept path: %w", err))
	}
	if err := a.dispatcher.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping dispatcher: %w", err))
	}
	if err := a.connectors.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping connectors: %w", err))
	}
	if err := a.receiver.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping receipts: %w", err))
	}
	if a.demoChat != nil {
		if err := a.demoChat.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the demo WhatsApp simulator: %w", err))
		}
	}
	if a.demoMail != nil {
		if err := a.demoMail.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping the demo mail server: %w", err))
		}
	}
	if a.demoSMSC != nil {
		if err := a.demoSMSC.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the demo SMSC: %w", err))
		}
	}
	if err := a.webhooks.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping webhooks: %w", err))
	}
	if !a.cfg.APIOnly {
		if err := a.convHooks.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping conversation webhooks: %w", err))
		}
	}
	if err := a.notifier.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping notifier: %w", err))
	}
	if err := a.topups.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping top-ups: %w", err))
	}
	if err := a.push.Stop(ctx); err != nil {
		errs = append(errs, err)
	}
	a.pushSims.close()
	if err := a.hlr.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping HLR queries: %w", err))
	}
	if err := a.trail.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping the audit trail: %w", err))
	}
	if err := a.auth.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping authentication: %w", err))
	}
	a.imports.Close() // running imports fail: nothing imported
	if len(errs) == 0 && a.node != "" {
		// Every worker finished: jobs still leased to this node (none,
		// unless a pool gave some up) are due now for the other nodes,
		// not when their leases run out.
		if n, err := a.store.ReleaseLeases(ctx, a.node); err != nil {
			errs = append(errs, err)
		} else if n > 0 {
			a.log.Info("handed back jobs this node held", "jobs", n)
		}
	}
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing store: %w", err))
	}
	return errors.Join(errs...)
}

func (a *App) databaseName() string {
	if a.cfg.IsPostgres() {
		return redactURL(a.cfg.DatabaseURL)
	}
	return a.cfg.SQLitePath()
}

// PrintDemo writes the demo banner: keys and a first curl.
func (a *App) PrintDemo(w io.Writer) {
	if a.Demo != nil {
		a.Demo.Print(w, a.URL())
		a.printDemoEmail(w)
		a.printDemoWhatsApp(w)
		a.printDemoHLR(w)
		a.printDemoBeams(w)
		a.printDemoConsole(w)
	}
}

// background runs f on a goroutine Run waits for before it closes the
// store: a pass of a periodic loop that runs when the server stops ends
// first, rather than going on against a closed store (and, in a test,
// logging after its test ended).
func (a *App) background(f func()) {
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		f()
	}()
}
