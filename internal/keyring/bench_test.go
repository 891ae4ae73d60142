package keyring_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// The cost of secrets at rest, for bench/secrets.sh (docs/operations.md,
// "Secrets at rest"): sealing and opening one value, reading an account
// with its signing key in clear and sealed, and encrypting a database's
// secrets (an upgrade's first start) and re-encrypting them (a rotation).

func BenchmarkSeal(b *testing.B) {
	ctx := context.Background()
	k := benchKeyring(b, benchStore(b, "sqlite"))
	secret := []byte(ids.Secret(40))
	for b.Loop() {
		if _, err := k.Seal(ctx, "accounts.signing_key/01a23b53d9f7230745bf95b68b4cd0f1", secret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	k := benchKeyring(b, benchStore(b, "sqlite"))
	const aad = "accounts.signing_key/01a23b53d9f7230745bf95b68b4cd0f1"
	v, err := k.Seal(ctx, aad, []byte(ids.Secret(40)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := k.Open(ctx, aad, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetAccount reads two accounts of one store in turn: one whose
// signing key is stored in clear (written before the store had a keyring,
// as before encryption at rest) and one whose key is sealed, and reports
// the mean time of each read; reading them in turn keeps the machine's
// noise out of the comparison.
func BenchmarkGetAccount(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			st := benchStore(b, engine)
			var accts [2]*store.Account
			for i := range accts {
				if i == 1 {
					st.UseKeyring(benchKeyring(b, st))
				}
				accts[i] = &store.Account{ID: ids.New(), Name: "bench", Currency: "EUR", SigningKey: ids.Secret(40), CreatedAt: time.Now().UTC()}
				if err := st.CreateAccount(ctx, accts[i], nil); err != nil {
					b.Fatal(err)
				}
			}
			// Each iteration reads both, each starting in turn: the second
			// read of a pair came out slower on PostgreSQL, whichever
			// account it was.
			var spent [2]time.Duration
			n := 0
			for b.Loop() {
				for j := range accts {
					i := (n + j) % 2
					start := time.Now()
					got, err := st.GetAccount(ctx, accts[i].ID)
					spent[i] += time.Since(start)
					if err != nil || got.SigningKey != accts[i].SigningKey {
						b.Fatalf("%v %v", got, err)
					}
				}
				n++
			}
			b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "ns/read-clear")
			b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "ns/read-sealed")
		})
	}
}

// BenchmarkReseal times, once, encrypting the signing keys of
// OMNIGATE_BENCH_ACCOUNTS accounts (default 2000) stored in clear, as the
// first start after an upgrade does, then re-encrypting them under a new
// data key, as `omnigate secrets rotate` does; it reports microseconds per
// secret. Run it with -benchtime=1x.
func BenchmarkReseal(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("OMNIGATE_BENCH_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			st := benchStore(b, engine)
			for i := 0; i < n; i++ {
				if err := st.CreateAccount(ctx, &store.Account{ID: ids.New(), Name: "bench", Currency: "EUR", SigningKey: ids.Secret(40),
					CreatedAt: time.Now().UTC()}, nil); err != nil {
					b.Fatal(err)
				}
			}
			k := benchKeyring(b, st)
			st.UseKeyring(k)
			for b.Loop() {
				start := time.Now()
				done, err := st.Reseal(ctx, false)
				if err != nil || done["accounts.signing_key"] != n {
					b.Fatalf("upgrade: %v %v", done, err)
				}
				upgrade := time.Since(start)
				if _, err := k.Rotate(ctx); err != nil {
					b.Fatal(err)
				}
				start = time.Now()
				done, err = st.Reseal(ctx, true)
				if err != nil || done["accounts.signing_key"] != n {
					b.Fatalf("rotation: %v %v", done, err)
				}
				rotation := time.Since(start)
				b.ReportMetric(float64(upgrade.Microseconds())/float64(n), "µs/secret-upgrade")
				b.ReportMetric(float64(rotation.Microseconds())/float64(n), "µs/secret-rotate")
				b.ReportMetric(float64(n), "secrets")
			}
		})
	}
}

func benchStore(b *testing.B, engine string) *sqlstore.Store {
	b.Helper()
	var st *sqlstore.Store
	var err error
	switch engine {
	case "sqlite":
		st, err = sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "bench.db"), Synchronous: sqlite.SyncFull})
	case "postgres":
		if !pgtest.Available() {
			b.Skip(pgtest.EnvVar + " is not set")
		}
		st, err = postgres.Open(context.Background(), postgres.Config{URL: pgtest.URL(b)})
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func benchKeyring(b *testing.B, st *sqlstore.Store) *keyring.Keyring {
	b.Helper()
	m, err := keyring.GenerateMasterFile(filepath.Join(b.TempDir(), "master.key"))
	if err != nil {
		b.Fatal(err)
	}
	k, err := keyring.Open(context.Background(), st, m)
	if err != nil {
		b.Fatal(err)
	}
	return k
}
