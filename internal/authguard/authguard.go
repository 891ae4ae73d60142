// Package authguard limits failed authentication and writes authentication
// to the audit trail, for every way into omnigate that takes a credential:
// access keys (the REST doors), the admin token and Pusher HTTP API
// signatures.
//
// Each failure takes a token from two buckets: its source address's (an
// IPv4 address, or an IPv6 /64) and its credential prefix's (the first
// characters of the key or token presented; for Pusher, the app). A full
// bucket holds PerAddress (or PerPrefix) tokens and refills evenly over a
// minute. While either bucket is empty, attempts from that address, or with
// that prefix, are refused before the credential is checked — so a
// guesser learns nothing more — with the time to wait. A source that
// authenticated successfully with a prefix in the last TrustFor keeps going
// with it, so that an attacker cannot lock a working client out (Pusher app
// ids are public; a client behind the same NAT as an attacker).
//
// A door calls Allow before checking a credential, then Failed or
// Succeeded:
//
//	at := authguard.Attempt{Door: authguard.API, Source: authguard.Source(r), Prefix: authguard.Prefix(key)}
//	if wait, ok := g.Allow(at); !ok { … answer 429 with Retry-After: wait … }
//	p, err := check(key)
//	if err != nil { g.Failed(at, "unknown_key"); … 401 … }
//	at.KeyID, at.AccountID = p.KeyID, p.AccountID
//	g.Succeeded(at)
//
// Failures are written to the audit trail one by one (the limits bound
// them), refusals once per bucket and minute with their count, and
// successes once per key, source and SuccessLogEvery with their count.
package authguard

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/metrics"
)

// The doors, as they are named in logs and metrics.
const (
	API    = "api"    // access keys: the MessageBird door, the account API
	Admin  = "admin"  // the admin token
	Pusher = "pusher" // Pusher HTTP API signatures
	Beams  = "beams"  // Beams secret keys and Beams tokens
	// Console: the web console's sign-ins (passwords and TOTP codes).
	Console = "console"
)

// Config tunes a Guard. Zero values mean the defaults.
type Config struct {
	// PerAddress is how many failed authentications one source address
	// may make per minute, all doors together (a burst of as many, then
	// evenly); default DefaultPerAddress; negative: no limit.
	PerAddress int
	// PerPrefix is how many failed authentications with one credential
	// prefix are allowed per minute, all addresses together; default
	// DefaultPerPrefix; negative: no limit.
	PerPrefix int
	// TrustFor is how long a source that authenticated with a prefix stays
	// exempt from both limits for that prefix; default 1 hour.
	TrustFor time.Duration
	// SuccessLogEvery is how often, at most, a key's successes from one
	// source are written to the audit trail (with their count); default 1
	// minute.
	SuccessLogEvery time.Duration
	// MaxTracked bounds the buckets and the sources remembered; default
	// 100000 each. Past it, full buckets and old sources are forgotten
	// first.
	MaxTracked int
}

// Defaults for Config.
const (
	DefaultPerAddress = 30
	DefaultPerPrefix  = 60
)

// PrefixLen is how many characters of a key or token make its prefix:
// "live_" and 7 random characters of an access key.
const PrefixLen = 12

// Attempt is one authentication: where it came from and with what; after
// a success, whose key it was.
type Attempt struct {
	Door   string
	Source string // the client's IP address
	Prefix string // see Prefix; for Pusher, the app id
	// Known once the credential is checked (a revoked key is known).
	KeyID, AccountID string
	Test             bool
}

// Guard limits failures and writes the audit trail of authentication. Its
// methods are safe for concurrent use; a nil *Guard allows everything and
// writes nothing.
type Guard struct {
	cfg     Config
	trail   *audit.Trail
	metrics *metrics.Metrics

	mu       sync.Mutex
	buckets  map[string]*bucket // "a " + address, "p " + door + " " + prefix
	nBuckets atomic.Int64       // len(buckets), read without the lock
	swept    time.Time          // when full buckets were last dropped
	seen     map[seenKey]*seen  // successes, by door, prefix and source
}

type bucket struct {
	tokens   float64
	at       time.Time // when tokens was computed
	refused  int64     // attempts refused since the last log line
	loggedAt time.Time
}

type seenKey struct{ door, prefix, source string }

type seen struct {
	lastOK   time.Time
	loggedAt time.Time
	count    int64 // successes since the last log line
}

// New makes a Guard writing to trail and counting in m (either may be nil).
func New(cfg Config, trail *audit.Trail, m *metrics.Metrics) *Guard {
	if cfg.PerAddress == 0 {
		cfg.PerAddress = DefaultPerAddress
	}
	if cfg.PerPrefix == 0 {
		cfg.PerPrefix = DefaultPerPrefix
	}
	if cfg.TrustFor <= 0 {
		cfg.TrustFor = time.Hour
	}
	if cfg.SuccessLogEvery <= 0 {
		cfg.SuccessLogEvery = time.Minute
	}
	if cfg.MaxTracked <= 0 {
		cfg.MaxTracked = 100000
	}
	return &Guard{cfg: cfg, trail: trail, metrics: m, buckets: make(map[string]*bucket), seen: make(map[seenKey]*seen)}
}

// Source is the client's address of a request: the TCP peer's IP.
func Source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Prefix is the part of a credential its failures are counted by.
func Prefix(credential string) string {
	if len(credential) > PrefixLen {
		return credential[:PrefixLen]
	}
	return credential
}

// addressKey is the bucket of an address: an IPv6 address counts by its
// /64, which one client usually holds whole.
func addressKey(source string) string {
	if ip := net.ParseIP(source); ip != nil && ip.To4() == nil {
		return "a " + ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return "a " + source
}

func prefixKey(at Attempt) string { return "p " + at.Door + " " + at.Prefix }

// Allow says whether an attempt may go on to have its credential checked;
// if not, how long to wait.
func (g *Guard) Allow(at Attempt) (time.Duration, bool) {
	if g == nil || g.nBuckets.Load() == 0 {
		return 0, true
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Sub(g.swept) >= time.Minute {
		g.sweep(now)
		g.swept = now
	}
	var wait time.Duration
	scope := ""
	if g.cfg.PerAddress > 0 {
		if w := g.waitFor(g.buckets[addressKey(at.Source)], g.cfg.PerAddress, now); w > 0 {
			wait, scope = w, "address"
		}
	}
	if g.cfg.PerPrefix > 0 {
		if w := g.waitFor(g.buckets[prefixKey(at)], g.cfg.PerPrefix, now); w > wait {
			wait, scope = w, "prefix"
		}
	}
	if wait == 0 || g.trusted(at, now) {
		return 0, true
	}
	key := addressKey(at.Source)
	if scope == "prefix" {
		key = prefixKey(at)
	}
	b := g.buckets[key]
	b.refused++
	if g.metrics != nil {
		g.metrics.Auth.Limited.WithLabelValues(at.Door, scope).Inc()
	}
	if now.Sub(b.loggedAt) >= time.Minute {
		g.trail.Record(slog.LevelWarn, "auth.limited", slog.String("door", at.Door), slog.String("scope", scope),
			slog.String("source", at.Source), credential(at), slog.Int64("refused", b.refused),
			slog.Int("retry_after_s", seconds(wait)))
		b.loggedAt, b.refused = now, 0
	}
	return wait, false
}

// waitFor refills b and says how long until it holds a token again (0:
// it holds one; a nil bucket is full).
func (g *Guard) waitFor(b *bucket, perMinute int, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	refill(b, perMinute, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / (float64(perMinute) / 60) * float64(time.Second))
}

func refill(b *bucket, perMinute int, now time.Time) {
	b.tokens = math.Min(float64(perMinute), b.tokens+now.Sub(b.at).Seconds()*float64(perMinute)/60)
	b.at = now
}

// trusted says whether the attempt's source authenticated with its prefix
// within TrustFor.
func (g *Guard) trusted(at Attempt, now time.Time) bool {
	s := g.seen[seenKey{at.Door, at.Prefix, at.Source}]
	return s != nil && now.Sub(s.lastOK) < g.cfg.TrustFor
}

// Failed counts a failed authentication and writes it to the audit trail;
// reason says why (unknown_key, revoked_key, bad_token, bad_signature …).
func (g *Guard) Failed(at Attempt, reason string) {
	if g == nil {
		return
	}
	if g.metrics != nil {
		g.metrics.Auth.Failures.WithLabelValues(at.Door, reason).Inc()
	}
	attrs := []slog.Attr{slog.String("door", at.Door), slog.String("reason", reason), slog.String("source", at.Source), credential(at)}
	if at.KeyID != "" {
		attrs = append(attrs, slog.String("key_id", at.KeyID), slog.String("account", at.AccountID))
	}
	g.trail.Record(slog.LevelWarn, "auth.failed", attrs...)
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cfg.PerAddress > 0 {
		g.take(addressKey(at.Source), g.cfg.PerAddress, now)
	}
	if g.cfg.PerPrefix > 0 {
		g.take(prefixKey(at), g.cfg.PerPrefix, now)
	}
}

// take takes a token from the bucket of key, making it full first if new.
// Attempts checked at once may all have been allowed on the bucket's last
// token: the bucket then goes below zero, down to minus its size, and the
// next attempts wait that much longer — over time every failure costs a
// token, however many come concurrently.
func (g *Guard) take(key string, perMinute int, now time.Time) {
	b := g.buckets[key]
	if b == nil {
		if len(g.buckets) >= g.cfg.MaxTracked {
			g.forgetBuckets(now)
		}
		b = &bucket{tokens: float64(perMinute), at: now}
		g.buckets[key] = b
	}
	refill(b, perMinute, now)
	b.tokens = math.Max(-float64(perMinute), b.tokens-1)
	g.nBuckets.Store(int64(len(g.buckets)))
}

// sweep drops the buckets that are full again: as good as none.
func (g *Guard) sweep(now time.Time) {
	for k, b := range g.buckets {
		per := g.cfg.PerPrefix
		if k[0] == 'a' {
			per = g.cfg.PerAddress
		}
		if refill(b, per, now); b.tokens >= float64(per) {
			delete(g.buckets, k)
		}
	}
	g.nBuckets.Store(int64(len(g.buckets)))
}

// forgetBuckets makes room: it sweeps, then, if that is not enough, drops
// any buckets down to nine tenths of the bound.
func (g *Guard) forgetBuckets(now time.Time) {
	g.sweep(now)
	for k := range g.buckets {
		if len(g.buckets) < g.cfg.MaxTracked*9/10 {
			break
		}
		delete(g.buckets, k)
	}
}

// Succeeded notes a successful authentication: the source is trusted with
// the prefix, and the success is written to the audit trail if the key was
// not, from that source, within SuccessLogEvery.
func (g *Guard) Succeeded(at Attempt) {
	if g == nil {
		return
	}
	now := time.Now()
	k := seenKey{at.Door, at.Prefix, at.Source}
	g.mu.Lock()
	s := g.seen[k]
	if s == nil {
		if len(g.seen) >= g.cfg.MaxTracked {
			g.forgetSeen(now)
		}
		s = &seen{}
		g.seen[k] = s
	}
	s.lastOK = now
	s.count++
	if now.Sub(s.loggedAt) < g.cfg.SuccessLogEvery {
		g.mu.Unlock()
		return
	}
	count := s.count
	s.loggedAt, s.count = now, 0
	g.mu.Unlock()
	attrs := []slog.Attr{slog.String("door", at.Door), slog.String("source", at.Source), slog.Int64("requests", count)}
	if at.KeyID != "" {
		attrs = append(attrs, slog.String("key_id", at.KeyID), slog.String("account", at.AccountID), slog.Bool("test", at.Test))
	} else {
		attrs = append(attrs, credential(at))
	}
	g.trail.Record(slog.LevelInfo, "auth.ok", attrs...)
}

// forgetSeen drops sources not trusted any more; if that is not enough,
// all of them.
func (g *Guard) forgetSeen(now time.Time) {
	for k, s := range g.seen {
		if now.Sub(s.lastOK) >= g.cfg.TrustFor {
			delete(g.seen, k)
		}
	}
	if len(g.seen) >= g.cfg.MaxTracked {
		clear(g.seen)
	}
}

// credential names an attempt's credential in the audit trail without
// giving it away: Pusher's app id as it is (it is public), a key's or
// token's prefix by a fingerprint (see Fingerprint).
func credential(at Attempt) slog.Attr {
	if at.Door == Pusher {
		return slog.String("app_id", at.Prefix)
	}
	return slog.String("credential", Fingerprint(at.Prefix))
}

// Fingerprint is how the audit trail names a credential prefix: the first
// 8 hex digits of its SHA-256 (printf %s PREFIX | sha256sum | cut -c1-8).
// Failures with one fingerprint aim at one key; with ever new ones, they
// are guesses.
func Fingerprint(prefix string) string {
	sum := sha256.Sum256([]byte(prefix))
	return hex.EncodeToString(sum[:4])
}

// seconds rounds a wait up to whole seconds, at least 1 (Retry-After).
func seconds(d time.Duration) int { return max(1, int(math.Ceil(d.Seconds()))) }

// RetryAfter is the value of a Retry-After header for a wait.
func RetryAfter(d time.Duration) string { return strconv.Itoa(seconds(d)) }
