// Package smtp is the email channel's connector: an outbound MTA. It looks
// up each recipient domain's MX hosts (falling back to the domain's own
// address, RFC 5321 §5.1; a null MX fails at once, RFC 7505), keeps one
// queue per set of MX hosts (MX rollup: domains served by the same hosts
// share its connection and rate limits), reuses connections, uses STARTTLS
// when offered, and answers the dispatcher per recipient: 250 after DATA is
// sent, 4xx (or an unreachable host) is retried until RetryFor, 5xx fails
// the recipient with the server's code and text. A fixed relay can replace
// MX delivery (a provider, a test sink).
//
// The connector does not build messages: a Composer the app wires (MIME,
// DKIM signature, VERP return path) gives it the envelope and the bytes.
//
// It speaks SMTP with the standard library's net/smtp client, using its
// textproto connection directly for what net/smtp lacks (SIZE, pipelined
// RSET); see docs/DEPENDENCIES.md.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/omnigate/omnigate/internal/email/bounce"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	emailchan "github.com/omnigate/omnigate/internal/channel/email"
	"github.com/omnigate/omnigate/internal/message"
)

// KindName is the connector kind's name.
const KindName = "smtp"

// Envelope is what the SMTP transaction needs besides the message bytes.
type Envelope struct {
	// From is the envelope sender (return path, MAIL FROM); "" is the
	// null sender.
	From string
}

// Composer builds the message a recipient is sent, with its envelope.
// A *message.Invalid error fails the recipient; any other is retried.
type Composer func(ctx context.Context, m *message.Message, r *message.Recipient) (Envelope, []byte, error)

// BounceHook hears of each recipient a receiving server refused for good
// (a synchronous bounce), with the failure's category: the app suppresses
// addresses that bounce hard.
type BounceHook func(ctx context.Context, m *message.Message, r *message.Recipient, category bounce.Category, answer string)

// Kind is the smtp connector kind, composing messages with compose;
// bounced (nil: none) hears of synchronous bounces.
func Kind(compose Composer, bounced BounceHook) channel.Kind {
	return channel.Kind{Name: KindName, Channel: message.ChannelEmail, Check: Check,
		New: func(name string, settings []byte, rx channel.Receiver, log *slog.Logger) (channel.Connector, error) {
			c, err := New(name, settings, compose, log)
			if err == nil {
				c.bounced = bounced
			}
			return c, err
		}}
}

// statusErrorCode of an SMTP answer: 5000 + the reply code (550 → 5550);
// a 4xx retried past RetryFor gives 54xx. Codes the connector makes up
// itself follow the same rule with the reply a server would have given.
const codeBase = 5000

// Codes for failures that are not a server's answer.
const (
	CodeNullMX     = codeBase + 556 // the domain accepts no mail (null MX, RFC 7505)
	CodeNoDomain   = codeBase + 512 // the domain has no MX and no address
	CodeTooLarge   = codeBase + 552 // larger than the server's SIZE
	CodeBadMessage = codeBase + 554 // the message could not be composed
	CodeNoHost     = codeBase + 421 // no MX host could be reached within RetryFor
	// CodeNoSendingDomain: the From domain stopped being a sending domain
	// of the account between acceptance and sending (nothing is sent
	// unsigned).
	CodeNoSendingDomain = codeBase + 553
	// CodeNoSMTPUTF8: the message has a non-ASCII address (RFC 6531,
	// 6532) and the receiving server does not offer SMTPUTF8. The same
	// code as a server's "553 5.6.7"; the address is not suppressed.
	CodeNoSMTPUTF8 = codeBase + 553
)

// Connector delivers email over SMTP.
type Connector struct {
	name     string
	set      Settings
	compose  Composer
	bounced  BounceHook
	log      *slog.Logger
	resolver *net.Resolver
	helo     string

	mu      sync.Mutex
	queues  map[string]*queue // by destination key
	domains map[string]resolved
	stopped bool
	stop    chan struct{}
	started atomic.Bool
	wg      sync.WaitGroup // sends in flight
	reaper  sync.WaitGroup
	// now is the clock (tests move it past RetryFor).
	now func() time.Time
}

// resolved is a domain's destination, cached for resolveTTL.
type resolved struct {
	key   string
	hosts []string // MX hosts in preference order, or [relay]
	err   error    // a permanent failure (null MX, no such domain)
	at    time.Time
}

const resolveTTL = 5 * time.Minute

// New builds a connector from its settings.
func New(name string, raw []byte, compose Composer, log *slog.Logger) (*Connector, error) {
	set, err := ParseSettings(raw)
	if err != nil {
		return nil, err
	}
	if compose == nil {
		return nil, errors.New("smtp: no composer")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Connector{name: name, set: set, compose: compose, log: log.With("connector", name),
		queues: map[string]*queue{}, domains: map[string]resolved{}, stop: make(chan struct{}), now: time.Now}
	c.resolver = net.DefaultResolver
	if set.Resolver != "" {
		addr, timeout := set.Resolver, time.Duration(set.ConnectTimeout)
		c.resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: timeout}
			return d.DialContext(ctx, network, addr)
		}}
	}
	c.helo = set.HeloName
	if c.helo == "" {
		if h, err := os.Hostname(); err == nil && printable(h) && h != "" {
			c.helo = h
		} else {
			c.helo = "localhost"
		}
	}
	return c, nil
}

// Name is the connector's name.
func (c *Connector) Name() string { return c.name }

// Channel is email.
func (c *Connector) Channel() string { return message.ChannelEmail }

// Start begins closing idle connections; connections open on demand.
func (c *Connector) Start() {
	if !c.started.CompareAndSwap(false, true) {
		return
	}
	c.reaper.Add(1)
	go func() {
		defer c.reaper.Done()
		t := time.NewTicker(time.Duration(c.set.IdleTimeout) / 2)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.closeIdle(c.now().Add(-time.Duration(c.set.IdleTimeout)))
			}
		}
	}()
}

// Up is 1 while the connector runs: it connects per destination on demand.
func (c *Connector) Up() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || !c.started.Load() {
		return 0
	}
	return 1
}

// Stop refuses new sends, waits for those in flight until ctx ends, and
// closes every connection.
func (c *Connector) Stop(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	close(c.stop)
	c.mu.Unlock()
	c.reaper.Wait()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.closeIdle(time.Time{}.Add(1<<63 - 1))
	return err
}

// QueueState describes one destination queue (for tests, logs and the
// operator).
type QueueState struct {
	Key     string   // the sorted MX host set, or "relay:host:port"
	Hosts   []string // in preference order
	Domains []string // recipient domains seen on it, sorted
	Open    int      // connections open (busy or idle)
	Idle    int
	Sent    int64 // messages a server answered 250
}

// Queues lists the destination queues, by key.
func (c *Connector) Queues() []QueueState {
	c.mu.Lock()
	qs := make([]*queue, 0, len(c.queues))
	for _, q := range c.queues {
		qs = append(qs, q)
	}
	c.mu.Unlock()
	out := make([]QueueState, 0, len(qs))
	for _, q := range qs {
		q.mu.Lock()
		st := QueueState{Key: q.key, Hosts: slices.Clone(q.hosts), Open: len(q.slots), Idle: len(q.idle), Sent: q.sent.Load()}
		for d := range q.domains {
			st.Domains = append(st.Domains, d)
		}
		q.mu.Unlock()
		sort.Strings(st.Domains)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Send delivers one recipient's message.
func (c *Connector) Send(ctx context.Context, s channel.Submission) (channel.Result, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return channel.Result{}, &channel.TemporaryError{Reason: "connector stopped", Err: channel.ErrUnavailable}
	}
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	m, r := s.Message, s.Recipient
	env, data, err := c.compose(ctx, m, r)
	if err != nil {
		var inv *message.Invalid
		if errors.As(err, &inv) {
			return channel.Result{}, &channel.PermanentError{Code: CodeBadMessage, Reason: "the message cannot be composed: " + err.Error()}
		}
		var pe *channel.PermanentError
		if errors.As(err, &pe) {
			return channel.Result{}, err
		}
		return channel.Result{}, c.temporary(m, CodeBadMessage, "composing the message", err)
	}
	at := strings.LastIndexByte(r.Address, '@')
	if at < 0 {
		return channel.Result{}, &channel.PermanentError{Code: CodeNoDomain, Reason: "not an email address"}
	}
	domain := strings.ToLower(r.Address[at+1:])
	q, err := c.queueFor(ctx, domain)
	if err != nil {
		var pe *channel.PermanentError
		if errors.As(err, &pe) {
			return channel.Result{}, err
		}
		return channel.Result{}, c.temporary(m, CodeNoHost, "looking up "+domain, err)
	}
	if err := q.wait(ctx, c.now); err != nil {
		return channel.Result{}, err
	}
	if err := c.deliver(ctx, q, env.From, r.Address, data); err != nil {
		var ans *answer
		if errors.As(err, &ans) {
			if ans.Code >= 500 {
				cat := bounce.Classify(ans.Code, enhancedCode(ans.Msg), ans.Msg)
				if c.bounced != nil {
					c.bounced(ctx, m, r, cat, ans.String())
				}
				return channel.Result{}, &channel.PermanentError{Code: codeBase + ans.Code, Reason: "bounced: " + string(cat) + ": " + ans.String()}
			}
			return channel.Result{}, c.temporary(m, codeBase+ans.Code, ans.String(), nil)
		}
		var pe *channel.PermanentError
		if errors.As(err, &pe) {
			return channel.Result{}, err
		}
		return channel.Result{}, c.temporary(m, CodeNoHost, "delivering to "+strings.Join(q.hosts, ", "), err)
	}
	q.sent.Add(1)
	return channel.Result{Status: message.Sent, PartIDs: []string{emailchan.ProviderID(m.ID, r.Seq)}}, nil
}

// temporary is a *channel.TemporaryError, or a *channel.PermanentError
// with code once the message has been retried for RetryFor (counted from
// its send time, when its first attempt was due). The backoff hint grows
// with the message's age: half of it, at most an hour.
func (c *Connector) temporary(m *message.Message, code int, reason string, err error) error {
	age := c.now().Sub(m.SendAt())
	if age >= time.Duration(c.set.RetryFor) {
		text := reason
		if err != nil {
			text += ": " + err.Error()
		}
		return &channel.PermanentError{Code: code, Reason: fmt.Sprintf("gave up after %s of temporary failures: %s", time.Duration(c.set.RetryFor), text)}
	}
	return &channel.TemporaryError{Reason: reason, After: min(max(age/2, 0), time.Hour), Err: err}
}

// queueFor resolves a domain to its destination queue.
func (c *Connector) queueFor(ctx context.Context, domain string) (*queue, error) {
	now := c.now()
	c.mu.Lock()
	res, ok := c.domains[domain]
	c.mu.Unlock()
	if !ok || now.Sub(res.at) > resolveTTL {
		var err error
		res, err = c.resolve(ctx, domain)
		if err != nil {
			return nil, err
		}
		res.at = now
		c.mu.Lock()
		c.domains[domain] = res
		c.mu.Unlock()
	}
	if res.err != nil {
		return nil, res.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queues[res.key]
	if !ok {
		q = &queue{key: res.key, hosts: res.hosts, slots: make(chan struct{}, c.set.MaxConnections),
			returned: make(chan struct{}, 1), domains: map[string]bool{}}
		if c.set.RatePerSecond > 0 {
			q.interval = time.Duration(float64(time.Second) / c.set.RatePerSecond)
		}
		c.queues[res.key] = q
	}
	q.mu.Lock()
	q.domains[domain] = true
	q.mu.Unlock()
	return q, nil
}

// resolve finds a domain's destination: the relay, its MX hosts by
// preference, or the domain itself when it has no MX. A permanent failure
// is returned in resolved.err; an error is temporary (DNS unreachable).
func (c *Connector) resolve(ctx context.Context, domain string) (resolved, error) {
	if c.set.Relay != "" {
		return resolved{key: "relay:" + c.set.Relay, hosts: []string{c.set.Relay}}, nil
	}
	rctx, cancel := context.WithTimeout(ctx, time.Duration(c.set.ConnectTimeout))
	defer cancel()
	mxs, err := c.resolver.LookupMX(rctx, domain)
	if err != nil && !notFound(err) && len(mxs) == 0 {
		return resolved{}, err
	}
	if len(mxs) > 0 {
		// LookupMX sorts by preference (randomising equal ones).
		if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
			return resolved{err: &channel.PermanentError{Code: CodeNullMX,
				Reason: "556 5.1.10 " + domain + " accepts no mail (null MX, RFC 7505)"}}, nil
		}
		var hosts []string
		for _, mx := range mxs {
			h := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
			if h != "" && !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) > 0 {
			return resolved{key: rollupKey(hosts), hosts: hosts}, nil
		}
	}
	// No MX: the domain itself is the implicit MX, if it has an address.
	ips, err := c.resolver.LookupIPAddr(rctx, domain)
	if err != nil && !notFound(err) {
		return resolved{}, err
	}
	if len(ips) == 0 {
		return resolved{err: &channel.PermanentError{Code: CodeNoDomain,
			Reason: "550 5.1.2 " + domain + " has no MX and no address: the domain does not receive mail"}}, nil
	}
	return resolved{key: rollupKey([]string{domain}), hosts: []string{domain}}, nil
}

// rollupKey is the destination key of a set of MX hosts: sorted, so that
// domains with the same hosts (in any order or preference) share a queue.
func rollupKey(hosts []string) string {
	s := slices.Clone(hosts)
	sort.Strings(s)
	return "mx:" + strings.Join(s, ",")
}

func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// answer is an SMTP reply that is not success.
type answer struct {
	Code int
	Msg  string
}

func (a *answer) Error() string { return a.String() }

// enhancedCode is the RFC 3463 enhanced status code a reply's text starts
// with ("5.1.1 user unknown" → "5.1.1"), or "".
func enhancedCode(msg string) string {
	f := strings.Fields(msg)
	if len(f) == 0 {
		return ""
	}
	p := strings.Split(f[0], ".")
	if len(p) != 3 || len(p[0]) != 1 || (p[0] != "2" && p[0] != "4" && p[0] != "5") {
		return ""
	}
	for _, x := range p[1:] {
		if x == "" || len(x) > 3 || strings.Trim(x, "0123456789") != "" {
			return ""
		}
	}
	return f[0]
}
func (a *answer) String() string { return fmt.Sprintf("%d %s", a.Code, oneLine(a.Msg)) }

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

func asAnswer(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 400 && te.Code < 600 {
		return &answer{Code: te.Code, Msg: te.Msg}
	}
	return err
}

// deliver runs one transaction on a connection of the queue, opening one
// when none is idle; a reused connection that turns out dead is replaced
// once.
func (c *Connector) deliver(ctx context.Context, q *queue, from, to string, data []byte) error {
	for attempt := 0; ; attempt++ {
		cn, err := c.acquire(ctx, q)
		if err != nil {
			return err
		}
		err = cn.send(ctx, from, to, data)
		var ans *answer
		switch {
		case err == nil || errors.As(err, &ans):
			if err == nil {
				cn.sent++
			}
			if errors.As(err, &ans) && ans.Code == 421 {
				q.discard(cn)
			} else {
				q.release(cn, c.set.MessagesPerConnection, c.now())
			}
			return err
		case errors.As(err, new(*channel.PermanentError)):
			q.release(cn, c.set.MessagesPerConnection, c.now()) // refused before sending
			return err
		case cn.reused && attempt == 0:
			q.discard(cn) // closed by the server while idle: try a fresh one
			continue
		default:
			q.discard(cn)
			return err
		}
	}
}

// acquire takes an idle connection of the queue or opens one within its
// connection limit, waiting for either until ctx ends.
func (c *Connector) acquire(ctx context.Context, q *queue) (*conn, error) {
	for {
		if cn := q.takeIdle(); cn != nil {
			return cn, nil
		}
		select {
		case q.slots <- struct{}{}:
			cn, err := c.dial(ctx, q)
			if err != nil {
				<-q.slots
				q.signal()
				return nil, err
			}
			return cn, nil
		case <-q.returned:
		case <-ctx.Done():
			return nil, &channel.TemporaryError{Reason: "waiting for a connection to " + q.key, Err: ctx.Err()}
		case <-c.stop:
			return nil, &channel.TemporaryError{Reason: "connector stopped", Err: channel.ErrUnavailable}
		}
	}
}

// closeIdle closes idle connections last used before t.
func (c *Connector) closeIdle(t time.Time) {
	c.mu.Lock()
	qs := make([]*queue, 0, len(c.queues))
	for _, q := range c.queues {
		qs = append(qs, q)
	}
	c.mu.Unlock()
	for _, q := range qs {
		for _, cn := range q.expire(t) {
			cn.quit()
			<-q.slots
		}
		q.signal()
	}
}

// queue is one destination: a set of MX hosts (or the relay) shared by the
// domains they serve, with its connection and rate limits.
type queue struct {
	key      string
	hosts    []string
	slots    chan struct{} // one per open connection
	returned chan struct{} // a connection became idle or a slot free
	interval time.Duration // between messages; 0 means no limit
	sent     atomic.Int64

	mu      sync.Mutex
	idle    []*conn
	next    time.Time
	domains map[string]bool
}

func (q *queue) signal() {
	select {
	case q.returned <- struct{}{}:
	default:
	}
}

func (q *queue) takeIdle() *conn {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.idle); n > 0 {
		cn := q.idle[n-1]
		q.idle = q.idle[:n-1]
		return cn
	}
	return nil
}

func (q *queue) release(cn *conn, perConn int, now time.Time) {
	if cn.sent >= perConn {
		q.discard(cn)
		return
	}
	cn.lastUsed, cn.reused = now, true
	q.mu.Lock()
	q.idle = append(q.idle, cn)
	q.mu.Unlock()
	q.signal()
}

func (q *queue) discard(cn *conn) {
	cn.quit()
	<-q.slots
	q.signal()
}

func (q *queue) expire(t time.Time) []*conn {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out, keep []*conn
	for _, cn := range q.idle {
		if cn.lastUsed.Before(t) {
			out = append(out, cn)
		} else {
			keep = append(keep, cn)
		}
	}
	q.idle = keep
	return out
}

// wait takes the queue's next sending slot under its rate limit. A wait
// longer than ctx allows is a temporary error with the wait as its hint.
func (q *queue) wait(ctx context.Context, now func() time.Time) error {
	if q.interval <= 0 {
		return nil
	}
	q.mu.Lock()
	t := now()
	at := t
	if q.next.After(t) {
		at = q.next
	}
	if dl, ok := ctx.Deadline(); ok && at.After(dl) {
		q.mu.Unlock()
		return &channel.TemporaryError{Reason: "rate limit of " + q.key, After: at.Sub(t)}
	}
	q.next = at.Add(q.interval)
	q.mu.Unlock()
	if d := at.Sub(t); d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return &channel.TemporaryError{Reason: "rate limit of " + q.key, Err: ctx.Err()}
		}
	}
	return nil
}

// tlsConfig for STARTTLS to host: verified only when TLS is required.
func (c *Connector) tlsConfig(host string) *tls.Config {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	return &tls.Config{ServerName: name, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.set.TLS != TLSRequired}
}
