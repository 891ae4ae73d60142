package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/smppserver"
)

// TestSMPPServerAccountWindow: an account's --window larger than the
// server's default (10) holds: 15 first parts of long messages, each
// held in the server while the test holds the database's write lock
// (holdWrites) and so holding the bind's window, are all taken, and only
// then is a request throttled; the lock released, all are answered.
func TestSMPPServerAccountWindow(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.SMPPListen = "127.0.0.1:0" })
		ctx := context.Background()
		const window = 15
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{Window: window, MaxRate: 1000, Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		cfg := slowBind
		cfg.Window = 2 * window // the client's own bound on requests in flight
		sess, err := session.Dial(ctx, s.app.SMPPAddr(), &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: cred.Password}, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close(ctx)

		part := func(ref uint16, seq uint8, text string) *smpp.SubmitSM {
			udh, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: ref, Total: 2, Seq: seq})
			return &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, ShortMessage: append(udh, text...)}
		}
		type answer struct {
			i  int
			st smpp.Status
		}
		release := holdWrites(t, s, engine)
		firsts := make(chan answer, 4*window)
		send := func(i int) {
			go func() {
				r, err := sess.Send(ctx, part(uint16(100+i), 1, "first half "))
				if err != nil {
					firsts <- answer{i, smpp.ESME_RSYSERR}
					return
				}
				firsts <- answer{i, r.Hdr().Status}
			}()
		}
		for i := range window {
			send(i)
		}
		// All 15 held at once, and then a request throttled: with a window
		// of 10 at most 10 are ever held. A part throttled because a query
		// got there first is sent again.
		waitFor(t, "15 parts held and a request throttled", 30*time.Second, func() bool {
			for {
				select {
				case a := <-firsts:
					if a.st != smpp.ESME_RTHROTTLED {
						t.Fatalf("first part %d answered while the store is held: %v", a.i, a.st)
					}
					send(a.i)
					continue
				default:
				}
				break
			}
			time.Sleep(50 * time.Millisecond)
			r, err := sess.Send(ctx, &smpp.QuerySM{MessageID: "0", SourceAddr: "Shop"})
			if err != nil {
				t.Fatal(err)
			}
			return r.Hdr().Status == smpp.ESME_RTHROTTLED && len(firsts) == 0
		})
		release()
		for range window {
			if a := <-firsts; a.st != smpp.ESME_ROK {
				t.Fatalf("first part %d: %v", a.i, a.st)
			}
		}
		for i := range window {
			r, err := sess.Send(ctx, part(uint16(100+i), 2, "second half"))
			if err != nil || r.Hdr().Status != smpp.ESME_ROK {
				t.Fatalf("second part %d: %v %v", i, r, err)
			}
		}
	})
}

// holdWrites holds the database's write lock as far as the SMPP server's
// parts go (SQLite: the one writer connection; PostgreSQL: the parts'
// table) until the function it returns is called (or the test ends), so
// that submits of parts wait in the server.
func holdWrites(t *testing.T, s *server, engine string) func() {
	t.Helper()
	tx, err := s.app.store.Writer().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if engine == "postgres" {
		if _, err := tx.Exec(`LOCK TABLE smpp_parts IN ACCESS EXCLUSIVE MODE`); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
	}
	var once sync.Once
	release := func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}
