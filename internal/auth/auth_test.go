package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

var ctx = context.Background()

// engines runs f on a fresh SQLite store, and on PostgreSQL when
// OMNIGATE_TEST_POSTGRES is set.
func engines[T testing.TB](t T, run func(string, func(T)) bool, f func(T, *sqlstore.Store)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		run(engine, func(t T) {
			var st *sqlstore.Store
			var err error
			if engine == "postgres" {
				if !pgtest.Available() {
					t.Skip(pgtest.EnvVar + " is not set")
				}
				st, err = postgres.Open(ctx, postgres.Config{URL: postgrestest.URL(t)})
			} else {
				st, err = sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "auth.db"), Synchronous: sqlite.SyncNormal})
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			f(t, st)
		})
	}
}

// account stores an account with a live key and returns the key's text
// and record.
func account(t testing.TB, st store.Store) (string, *store.AccessKey) {
	t.Helper()
	a := &store.Account{ID: ids.New(), Name: "acme", Currency: "EUR", SigningKey: ids.Secret(40), CreatedAt: time.Now().UTC()}
	text, k := auth.NewKey(a.ID, false)
	if err := st.CreateAccount(ctx, a, []*store.AccessKey{k}); err != nil {
		t.Fatal(err)
	}
	return text, k
}

// Two nodes keep a key in memory; it is revoked through the first. The
// first refuses it at once, the second once it next reads the revocation
// generation; both say which key it was.
func TestRevocationReachesEveryNode(t *testing.T) {
	engines(t, t.Run, func(t *testing.T, st *sqlstore.Store) {
		text, k := account(t, st)
		a := auth.NewAuthenticator(st, auth.Config{TTL: time.Hour, RevocationCheck: 100 * time.Millisecond})
		b := auth.NewAuthenticator(st, auth.Config{TTL: time.Hour, RevocationCheck: 100 * time.Millisecond})
		for _, n := range []*auth.Authenticator{a, b} {
			if p, err := n.Authenticate(ctx, text); err != nil || p.KeyID != k.ID {
				t.Fatalf("Authenticate = %+v, %v", p, err)
			}
		}
		if _, err := st.RevokeAccessKey(ctx, k.AccountID, k.ID, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
		a.Revoked()
		if p, err := a.Authenticate(ctx, text); !errors.Is(err, auth.ErrRevoked) || !errors.Is(err, auth.ErrUnauthorized) || p.KeyID != k.ID {
			t.Fatalf("the revoking node: %+v, %v; want ErrRevoked at once", p, err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			_, err := b.Authenticate(ctx, text)
			if errors.Is(err, auth.ErrRevoked) {
				break
			}
			if err != nil || time.Now().After(deadline) {
				t.Fatalf("the other node: %v, want ErrRevoked within its check interval", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		for _, n := range []*auth.Authenticator{a, b} {
			if err := n.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// slowKeys is the real store, with reads of keys held until released: it
// lets a revocation commit while a node is reading the key.
type slowKeys struct {
	*sqlstore.Store
	reading, release chan struct{}
}

func (s *slowKeys) AccessKeyByHash(ctx context.Context, hash []byte) (*store.AccessKey, error) {
	k, err := s.Store.AccessKeyByHash(ctx, hash)
	s.reading <- struct{}{}
	<-s.release
	return k, err
}

// A key read just before its revocation committed is not kept as valid:
// the next request after the node learns of the revocation reads it again.
func TestKeyReadDuringRevocationNotKept(t *testing.T) {
	engines(t, t.Run, func(t *testing.T, st *sqlstore.Store) {
		text, k := account(t, st)
		slow := &slowKeys{Store: st, reading: make(chan struct{}), release: make(chan struct{})}
		n := auth.NewAuthenticator(slow, auth.Config{TTL: time.Hour, RevocationCheck: 50 * time.Millisecond})
		first := make(chan error, 1)
		go func() { _, err := n.Authenticate(ctx, text); first <- err }()
		<-slow.reading // the key is read, not revoked yet
		if _, err := st.RevokeAccessKey(ctx, k.AccountID, k.ID, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
		close(slow.release)
		if err := <-first; err != nil {
			t.Fatalf("the request read before the revocation: %v", err)
		}
		go func() {
			for range slow.reading {
			}
		}()
		deadline := time.Now().Add(2 * time.Second)
		for {
			_, err := n.Authenticate(ctx, text)
			if errors.Is(err, auth.ErrRevoked) {
				break
			}
			if err != nil || time.Now().After(deadline) {
				t.Fatalf("after the revocation: %v, want ErrRevoked", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(slow.reading)
	})
}

// BenchmarkAuthenticate measures one authentication of a kept key, with
// the revocation generation read on every request or at most every
// DefaultRevocationCheck, from 8 goroutines per CPU.
func BenchmarkAuthenticate(b *testing.B) {
	engines(b, b.Run, func(b *testing.B, st *sqlstore.Store) {
		text, _ := account(b, st)
		for _, check := range []struct {
			name  string
			every time.Duration
		}{{"check=every-request", -1}, {"check=" + auth.DefaultRevocationCheck.String(), auth.DefaultRevocationCheck}} {
			b.Run(check.name, func(b *testing.B) {
				n := auth.NewAuthenticator(st, auth.Config{RevocationCheck: check.every})
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := n.Authenticate(ctx, text); err != nil {
							b.Error(err)
							return
						}
					}
				})
				n.Stop(ctx)
			})
		}
	})
}
