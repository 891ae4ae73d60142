package smppserver

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// SMPP 3.4 bounds system_id to 15 characters and the password to 8, so a
// password has little entropy: it is kept as a salted PBKDF2-SHA256 hash
// with many iterations (the access keys, 32 random bytes, need only
// SHA-256). The value records its parameters: "pbkdf2-sha256$N$salt$hash".
const (
	hashScheme = "pbkdf2-sha256"
	// HashIterations is the work factor of new hashes.
	HashIterations = 600_000
	passwordLen    = 8
)

// HashPassword returns the stored form of password.
func HashPassword(password string) (string, error) {
	return hashWith(password, HashIterations)
}

func hashWith(password string, iter int) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return hashScheme + "$" + strconv.Itoa(iter) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// CheckPassword reports whether password matches the stored hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// Issued are credentials as the CLI prints them; Password is "" when they
// were not rotated (it is not kept).
type Issued struct {
	SystemID, Password string
	Credential         *store.SMPPCredential
}

// IssueOptions change what Issue does.
type IssueOptions struct {
	// Rotate makes a new password for credentials that exist.
	Rotate bool
	// AllowIPs, when not nil, replace the allowed addresses (an empty,
	// non-nil list allows every address).
	AllowIPs []string
	// MaxRate and Window, when > 0, set the account's limits.
	MaxRate, Window int
	// Iterations is the PBKDF2 work factor of a new password; 0 means
	// HashIterations. Tests lower it: under the race detector one check
	// of HashIterations costs 2.4 s of CPU, and every bind checks one.
	Iterations int
}

// Issue creates an account's SMPP credentials, or returns those it has
// (with a new password when opts.Rotate).
func Issue(ctx context.Context, st store.SMPPCredentials, accountID string, opts IssueOptions) (*Issued, error) {
	if opts.Window > DefaultMaxWindow {
		return nil, fmt.Errorf("window %d: at most %d requests in flight per bind", opts.Window, DefaultMaxWindow)
	}
	for _, a := range opts.AllowIPs {
		if !validIPRule(a) {
			return nil, fmt.Errorf("allowed address %q: not an IP address or CIDR prefix", a)
		}
	}
	c, err := st.SMPPCredential(ctx, accountID)
	fresh := errors.Is(err, store.ErrNotFound)
	if err != nil && !fresh {
		return nil, err
	}
	if fresh {
		c = &store.SMPPCredential{AccountID: accountID, CreatedAt: time.Now().UTC()}
	}
	out := &Issued{Credential: c}
	if fresh || opts.Rotate {
		out.Password = randomString(passwordLen)
		iter := opts.Iterations
		if iter <= 0 {
			iter = HashIterations
		}
		if c.PasswordHash, err = hashWith(out.Password, iter); err != nil {
			return nil, err
		}
		c.CreatedAt = time.Now().UTC()
	}
	if opts.AllowIPs != nil {
		c.AllowedIPs = opts.AllowIPs
	}
	if opts.MaxRate > 0 {
		c.MaxRate = opts.MaxRate
	}
	if opts.Window > 0 {
		c.Window = opts.Window
	}
	changed := fresh || opts.Rotate || opts.AllowIPs != nil || opts.MaxRate > 0 || opts.Window > 0
	for attempt := 0; changed; attempt++ {
		if fresh && (c.SystemID == "" || attempt > 0) {
			c.SystemID = "og" + strings.ToLower(randomString(10))
		}
		err = st.SaveSMPPCredential(ctx, c)
		if errors.Is(err, store.ErrConflict) && fresh && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	out.SystemID = c.SystemID
	return out, nil
}

func validIPRule(s string) bool {
	if _, _, err := net.ParseCIDR(s); err == nil {
		return true
	}
	return net.ParseIP(s) != nil
}

// ipAllowed reports whether host may bind under rules.
func ipAllowed(rules []string, host string) bool {
	if len(rules) == 0 {
		return true
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, r := range rules {
		if _, n, err := net.ParseCIDR(r); err == nil {
			if n.Contains(ip) {
				return true
			}
		} else if rip := net.ParseIP(r); rip != nil && rip.Equal(ip) {
			return true
		}
	}
	return false
}
