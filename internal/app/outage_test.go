package app

import (
	"bufio"
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/worker"
)

// dbLock is a lock on the server's database held from a connection of the
// test's own, as another client of the database would hold it.
type dbLock struct {
	db       *sql.DB
	conn     *sql.Conn
	stop     chan struct{}
	canceled sync.WaitGroup
}

// lockDatabase makes the server's writes fail, from a transaction on a
// connection of its own. On SQLite it takes the database's one write lock
// (BEGIN IMMEDIATE): the server's writer waits out its busy_timeout, then
// fails. On PostgreSQL it runs lock (a LOCK TABLE on table) and cancels
// every statement that waits for it: only the server under test uses the
// test's schema, and other tests and their migrations are left alone.
func lockDatabase(engine, dsn, lock, table string) (*dbLock, error) {
	driver := "pgx"
	if engine == "sqlite" {
		driver, dsn = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	stmts := []string{"BEGIN IMMEDIATE"}
	if engine == "postgres" {
		stmts = []string{"BEGIN", lock}
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			db.Close()
			return nil, err
		}
	}
	l := &dbLock{db: db, conn: conn, stop: make(chan struct{})}
	if engine == "postgres" {
		l.canceled.Add(1)
		go func() {
			defer l.canceled.Done()
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				db.ExecContext(ctx, `SELECT pg_cancel_backend(pid) FROM pg_locks
					WHERE relation = '`+table+`'::regclass AND NOT granted AND pid <> pg_backend_pid()`)
			}
		}()
	}
	return l, nil
}

// release ends the lock's transaction.
func (l *dbLock) release(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.canceled.Wait()
	if _, err := l.conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
}

// sendJobs counts the send jobs in the queue, read on the lock's connection.
func (l *dbLock) sendJobs(t *testing.T) int {
	t.Helper()
	var n int
	if err := l.conn.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM jobs WHERE kind = 'send'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (l *dbLock) close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
		l.canceled.Wait()
	}
	l.conn.Close()
	l.db.Close()
}

// metric reads one series of the server's /metrics; 0 when absent.
func (s *server) metric(series string) float64 {
	s.t.Helper()
	sc := bufio.NewScanner(strings.NewReader(string(s.do("GET", "/metrics", "", "", nil).raw)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

const (
	retried   = `omnigate_outcome_commit_retries_total{kind="send",result="retry"}`
	extended  = `omnigate_outcome_commit_retries_total{kind="send",result="extended"}`
	recovered = `omnigate_outcome_commit_retries_total{kind="send",result="recovered"}`
	abandoned = `omnigate_outcome_commit_retries_total{kind="send",result="abandoned"}`
)

// outage is a server with an SMSC whose first submit locks the database
// (lock) before it is answered: the message has reached the carrier, and
// the server's record of it cannot be written.
type outage struct {
	s    *server
	smsc *smsc.Server
	lock *dbLock
	id   string // the message sent
}

func startOutage(t *testing.T, engine string, lease time.Duration, lock, table string) *outage {
	var dsn string
	s := start(t, engine, func(c *Config) {
		c.Demo = false
		c.Dispatch.Pool.Lease = lease
		c.Dispatch.Pool.CommitRetry = worker.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}
		// Few other writes queue behind the lock (on SQLite each waits
		// out the busy_timeout in turn): the pools that have no work here
		// wake only when told to.
		c.Dispatch.Pool.Poll = time.Second
		c.Webhook.Pool.Poll, c.Notifier.Pool.Poll, c.TopUps.Pool.Poll = time.Hour, time.Hour, time.Hour
		dsn = c.SQLitePath()
		if engine == "postgres" {
			dsn = c.DatabaseURL
		}
	})
	var once sync.Once
	locked := make(chan error, 1)
	o := &outage{s: s}
	o.smsc = s.useSMSC(smsc.Config{OnSubmit: func() {
		once.Do(func() {
			var err error
			o.lock, err = lockDatabase(engine, dsn, lock, table)
			locked <- err
		})
	}}, smppconn.Settings{})
	o.id = s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "once"})["id"].(string)
	select {
	case err := <-locked:
		if err != nil {
			t.Fatalf("locking the database: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the message never reached the SMSC")
	}
	t.Cleanup(o.lock.close)
	return o
}

// end releases the database, waits (up to within) until the send job is
// done and the message delivered, and says how many times the SMSC took it.
func (o *outage) end(t *testing.T, within time.Duration) int64 {
	t.Helper()
	o.lock.release(t)
	waitFor(t, "the send job to be done", within, func() bool { return o.lock.sendJobs(t) == 0 })
	o.s.waitStatus(o.id, "delivered")
	return o.smsc.Stats().Submits.Load()
}

// sentOnce ends the outage and checks that the message was recorded once
// the database was back, and sent once. within bounds the wait for the
// job: beyond the lease, so that a server which sends it again does.
func (o *outage) sentOnce(t *testing.T, within time.Duration) {
	t.Helper()
	if n := o.end(t, within); n != 1 {
		t.Fatalf("the SMSC took the message %d times; want once", n)
	}
	// Counted just after the commit the test has seen.
	waitFor(t, recovered+" to be 1", 10*time.Second, func() bool { return o.s.metric(recovered) == 1 })
}

// holdUntil keeps the database locked until the server's metric series
// reaches 1, or at most d.
func (o *outage) holdUntil(series string, d time.Duration) {
	deadline := time.Now().Add(d)
	for o.s.metric(series) < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDatabaseStopDuringSend: the database stops taking writes once a
// message has reached the SMSC, before its outcome is recorded, and comes
// back within the job's lease. The outcome is recorded when it is back and
// the message is not sent again.
func TestDatabaseStopDuringSend(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		// On PostgreSQL a write fails at once; on SQLite after the
		// writer's busy_timeout (10 s), and a shared transaction that
		// failed is tried again write by write.
		lease, holdAtMost := 20*time.Second, 5*time.Second
		if engine == "sqlite" {
			lease, holdAtMost = 3*time.Minute, 2*time.Minute
		}
		o := startOutage(t, engine, lease, "LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE", "jobs")
		// Keep the database stopped until the server has seen the outcome's
		// commit fail (at most holdAtMost: a server that does not count its
		// failures shows what it does in what follows).
		o.holdUntil(retried, holdAtMost)
		o.sentOnce(t, lease+30*time.Second)
	})
}

// TestOutcomeWaitKeepsLease: the outcome's commit keeps failing for longer
// than the job's lease while the jobs table can still be written (on
// PostgreSQL, another client holds the recipients table; SQLite's one
// write lock cannot tell the two apart). The lease is extended meanwhile,
// so no other attempt sends the message again.
func TestOutcomeWaitKeepsLease(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		if engine == "sqlite" {
			t.Skip("SQLite locks the whole database: an outcome that cannot be written means a lease that cannot be extended")
		}
		const lease = 4 * time.Second
		// Reads go on: another attempt could read the message and send it.
		o := startOutage(t, engine, lease, "LOCK TABLE recipients IN EXCLUSIVE MODE", "recipients")
		// Past two leases, the first would have ended, the job been leased
		// again and the message sent again.
		time.Sleep(2 * lease)
		if o.s.metric(extended) < 1 {
			t.Errorf("%s = 0 after two leases of failing commits", extended)
		}
		o.sentOnce(t, 30*time.Second)
	})
}

// TestOutcomeAbandonedAtLeaseEnd: an outage that outlasts the job's lease
// (the jobs table cannot be written either, so the lease cannot be
// extended). The worker gives up as the lease ends, and the message is sent
// again once the database is back: sent at least once, never lost.
func TestOutcomeAbandonedAtLeaseEnd(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		if engine == "sqlite" {
			t.Skip("on SQLite each write waits out busy_timeout behind those queued before it, so when a commit fails depends on the queue; the worker's giving up is the same on both engines")
		}
		o := startOutage(t, engine, 3*time.Second, "LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE", "jobs")
		o.holdUntil(abandoned, time.Minute)
		if a := o.s.metric(abandoned); a != 1 {
			t.Fatalf("%s = %v while the database was locked; want 1", abandoned, a)
		}
		if n := o.end(t, 30*time.Second); n != 2 {
			t.Fatalf("the SMSC took the message %d times; want twice (the job ran again)", n)
		}
	})
}
