package postgres_test

import (
	"context"
	"testing"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), postgres.Config{URL: postgrestest.URL(t), MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// Several processes starting at once must migrate one at a time.
func TestConcurrentMigrations(t *testing.T) {
	u := pgtest.URL(t)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			st, err := postgres.Open(context.Background(), postgres.Config{URL: u, MaxConns: 2})
			if err == nil {
				st.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migration: %v", err)
		}
	}
}
