package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/groupcommit"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// lostAnswer is the real store, except that its first accept batches end
// with an error as a commit whose answer was lost does (PostgreSQL
// committed; the deadline hit before the client heard it). committed says
// whether the batch is written first.
type lostAnswer struct {
	store.Store
	committed bool
	fail      atomic.Int32 // batches still to fail
}

func (s *lostAnswer) AcceptCharged(ctx context.Context, items []*store.Accept) error {
	if s.fail.Add(-1) < 0 {
		return s.Store.AcceptCharged(ctx, items)
	}
	if s.committed {
		if err := s.Store.AcceptCharged(ctx, items); err != nil {
			return err
		}
	}
	return fmt.Errorf("accepting messages: commit: %w", context.DeadlineExceeded)
}

// engines opens a fresh store on SQLite and, when OMNIGATE_TEST_POSTGRES is
// set, on PostgreSQL, with an account, and runs f on each.
func engines(t *testing.T, f func(t *testing.T, st *sqlstore.Store, account string)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			var st *sqlstore.Store
			var err error
			if engine == "sqlite" {
				st, err = sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "p.db"), Synchronous: sqlite.SyncNormal})
			} else {
				st, err = postgres.Open(ctx, postgres.Config{URL: postgrestest.URL(t), MaxConns: 4})
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			a := &store.Account{ID: ids.New(), Name: "a", Currency: "EUR", SigningKey: "k", CreatedAt: time.Now()}
			if err := st.CreateAccount(ctx, a, nil); err != nil {
				t.Fatal(err)
			}
			f(t, st, a.ID)
		})
	}
}

// lingeringPipeline is a pipeline on st whose accept flusher waits 300 ms
// for company, so that messages accepted at once share one batch; each
// recipient is one part.
func lingeringPipeline(st store.Store) *pipeline.Pipeline {
	prepare := func(m *message.Message) error {
		for i := range m.Recipients {
			m.Recipients[i].PartCount, m.Recipients[i].Length = 1, len(m.Body)
		}
		return nil
	}
	return pipeline.New(pipeline.Config{Prepare: prepare, Commit: groupcommit.Config{Linger: 300 * time.Millisecond}},
		st, metrics.New(), nil)
}

// acceptThree accepts three messages at once through a pipeline on st (one
// batch: the flusher lingers for them) and returns them with Accept's
// answers.
func acceptThree(t *testing.T, st store.Store, account string) ([]*message.Message, []error) {
	p := lingeringPipeline(st)
	defer p.Stop(context.Background())
	ms := make([]*message.Message, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range ms {
		ms[i] = &message.Message{AccountID: account, Channel: message.ChannelSMS, Type: message.TypeSMS, Originator: "ACME",
			Body: fmt.Sprintf("order %d shipped", i), Details: message.Details{SMS: &message.SMS{DataCoding: "plain"}},
			Recipients: []message.Recipient{{Address: fmt.Sprintf("3161234567%d", i), Country: "NL", CountryPrefix: 31}}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Accept(context.Background(), ms[i], pipeline.Options{})
		}()
	}
	wg.Wait()
	return ms, errs
}

// TestAcceptLostCommitAnswer: an accept batch that was committed but
// answered with an error (its deadline hit during the commit) is answered
// as accepted, once, rather than retried item by item into duplicate-key
// errors (a 500 for messages that were stored and go out).
func TestAcceptLostCommitAnswer(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store, account string) {
		ctx := context.Background()
		lost := &lostAnswer{Store: st, committed: true}
		lost.fail.Store(1)
		ms, errs := acceptThree(t, lost, account)
		for i, m := range ms {
			if errs[i] != nil {
				t.Fatalf("message %d: Accept = %v; it was stored, so it is accepted", i, errs[i])
			}
			got, err := st.GetMessage(ctx, account, m.ID)
			if err != nil || got.Body != m.Body {
				t.Fatalf("message %d not stored: %v", i, err)
			}
		}
	})
}

// TestAcceptFailedCommit: a batch that failed without committing is not
// taken for stored: its messages are retried alone (here they fail again)
// and their senders are told.
func TestAcceptFailedCommit(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store, account string) {
		ctx := context.Background()
		lost := &lostAnswer{Store: st, committed: false}
		lost.fail.Store(4) // the batch and each of its three retries
		ms, errs := acceptThree(t, lost, account)
		for i, m := range ms {
			if !errors.Is(errs[i], context.DeadlineExceeded) {
				t.Fatalf("message %d: Accept = %v; want the commit's error", i, errs[i])
			}
			if _, err := st.GetMessage(ctx, account, m.ID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("message %d: GetMessage = %v; want not stored", i, err)
			}
		}
	})
}

// TestPresetIDAgainCannotSinkABatch: a message accepted a second time under
// the id its door chose (a long SMPP message completed on two nodes at
// once) fails alone, answered as the message already stored; the messages
// accepted at the same moment are stored, not answered as accepted and
// lost with a batch the duplicate rolled back.
func TestPresetIDAgainCannotSinkABatch(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store, account string) {
		ctx := context.Background()
		p := lingeringPipeline(st)
		defer p.Stop(ctx)
		msg := func(i int) *message.Message {
			return &message.Message{AccountID: account, Channel: message.ChannelSMS, Type: message.TypeSMS, Originator: "ACME",
				Body: fmt.Sprintf("part of order %d", i), Details: message.Details{SMS: &message.SMS{DataCoding: "plain"}},
				Recipients: []message.Recipient{{Address: fmt.Sprintf("3161234567%d", i), Country: "NL", CountryPrefix: 31}}}
		}
		preset := ids.New()
		if err := p.Accept(ctx, msg(0), pipeline.Options{ID: preset}); err != nil {
			t.Fatal(err)
		}
		ms := []*message.Message{msg(1), msg(2), msg(3)}
		errs := make([]error, len(ms))
		var wg sync.WaitGroup
		for i, m := range ms {
			opts := pipeline.Options{}
			if i == 0 {
				opts.ID = preset // the same message again
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = p.Accept(ctx, m, opts)
			}()
			time.Sleep(5 * time.Millisecond) // the preset one first, as a batch's first item
		}
		wg.Wait()
		if errs[0] != nil {
			t.Fatalf("the preset id again: %v; want it answered as the message stored", errs[0])
		}
		if got, err := st.GetMessage(ctx, account, preset); err != nil || got.Body != "part of order 0" {
			t.Fatalf("the message under the preset id: %+v %v; want the first one, unchanged", got, err)
		}
		for i, m := range ms[1:] {
			if errs[i+1] != nil {
				t.Fatalf("message %d: %v", i+1, errs[i+1])
			}
			if _, err := st.GetMessage(ctx, account, m.ID); err != nil {
				t.Fatalf("message %d answered accepted but not stored: %v", i+1, err)
			}
		}
	})
}
