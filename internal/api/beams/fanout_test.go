package beams_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// addDevices writes n FCM devices subscribed to interest straight into
// the store, a few hundred rows per statement (registering 20,000
// through the device API would take most of the test's time).
func (e *env) addDevices(n int, interest string) {
	e.t.Helper()
	now := time.Now().UnixMicro()
	for start := 0; start < n; start += 500 {
		var devs, ins []string
		for i := start; i < min(start+500, n); i++ {
			id := fmt.Sprintf("fcm-bulk%06d", i)
			devs = append(devs, fmt.Sprintf("('%s', '%s', '%s', 'fcm', 'tok-%06d', '', '', %d, %d)", e.app.ID, id, e.app.AccountID, i, now, now))
			ins = append(ins, fmt.Sprintf("('%s', '%s', '%s')", e.app.ID, interest, id))
		}
		if _, err := e.st.Writer().ExecContext(ctx, `INSERT INTO push_devices (instance_id, id, account_id, platform, token, user_id, metadata, created_at, updated_at) VALUES `+strings.Join(devs, ", ")); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.st.Writer().ExecContext(ctx, `INSERT INTO push_interests (instance_id, interest, device_id) VALUES `+strings.Join(ins, ", ")); err != nil {
			e.t.Fatal(err)
		}
	}
}

// queuedDevices reads the delivery jobs queued for a publish: how many
// per device.
func (e *env) queuedDevices(publish string) map[string]int {
	e.t.Helper()
	rows, err := e.st.Writer().QueryContext(ctx, `SELECT payload FROM jobs WHERE kind = 'push'`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var b []byte
		var j store.PushJob
		if err := rows.Scan(&b); err != nil || json.Unmarshal(b, &j) != nil {
			e.t.Fatalf("a push job: %s %v", b, err)
		}
		if j.Publish == publish {
			out[j.Device]++
		}
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestBeamsLargeInterest: a publish to an interest of 20,000 devices
// commits with the first batch of delivery jobs and a fan-out job; the
// fan-out, interrupted after a few batches (a node that died) and run by
// two workers at once, queues every device exactly once, less the
// suppressed one.
func TestBeamsLargeInterest(t *testing.T) {
	engines(t, func(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
		const devices = 20000
		e := newEnv(t, open(t), false)
		e.addDevices(devices, "everyone")
		if err := e.st.AddSuppression(ctx, e.app.AccountID, store.Suppression{Channel: push.Channel, Recipient: "fcm-bulk000042", Reason: store.SuppressManual, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		code, id, be := e.publish("interests", `{"interests":["everyone","nobody"],"fcm":{"notification":{"title":"To all"}}}`)
		if code != 200 {
			t.Fatalf("publish: %d %+v", code, be)
		}
		pub, err := e.st.GetPushPublish(ctx, e.app.ID, id)
		if err != nil || pub.Deliveries != 999 {
			t.Fatalf("the publish's first batch: %+v %v; want 999 jobs (1000 devices, one suppressed)", pub, err)
		}
		if n := len(e.queuedDevices(id)); n != 999 {
			t.Fatalf("%d jobs with the publish, want 999", n)
		}

		// A node queued three more batches and died; then two workers
		// run the rest at once, until both find nothing left.
		suppressed := map[string]bool{"fcm-bulk000042": true}
		for range 3 {
			if n, done, err := e.st.FanOutPush(ctx, e.app.ID, id, suppressed, 1000); err != nil || n != 1000 || done {
				t.Fatalf("a fan-out batch: %d %v %v", n, done, err)
			}
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, done, err := e.st.FanOutPush(ctx, e.app.ID, id, suppressed, 1000)
					if err != nil {
						t.Error(err)
						return
					}
					if done {
						return
					}
				}
			}()
		}
		wg.Wait()
		queued := e.queuedDevices(id)
		if len(queued) != devices-1 || queued["fcm-bulk000042"] != 0 {
			t.Fatalf("%d devices queued, want %d (all but the suppressed one)", len(queued), devices-1)
		}
		for dev, n := range queued {
			if n != 1 {
				t.Fatalf("%s queued %d times", dev, n)
			}
		}
		if pub, err := e.st.GetPushPublish(ctx, e.app.ID, id); err != nil || pub.Deliveries != devices-1 {
			t.Fatalf("the publish counts %+v %v, want %d deliveries", pub, err, devices-1)
		}
		if n, done, err := e.st.FanOutPush(ctx, e.app.ID, id, suppressed, 1000); n != 0 || !done || err != nil {
			t.Fatalf("a finished fan-out ran again: %d %v %v", n, done, err)
		}
	})
}

// TestBeamsFanOutDelivers: the service's fan-out worker queues a large
// publish in batches, resuming from where a dead node stopped, and every
// device gets the notification once.
func TestBeamsFanOutDelivers(t *testing.T) {
	engines(t, func(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
		const devices = 1000
		e := newEnvBatch(t, open(t), false, 64)
		e.addDevices(devices, "everyone")
		code, id, be := e.publish("interests", `{"interests":["everyone"],"fcm":{"notification":{"title":"To all"}}}`)
		if code != 200 {
			t.Fatalf("publish: %d %+v", code, be)
		}
		if _, done, err := e.st.FanOutPush(ctx, e.app.ID, id, nil, 64); done || err != nil {
			t.Fatalf("a batch before the worker: %v %v", done, err)
		}
		e.svc.Start()
		t.Cleanup(func() { e.svc.Stop(ctx) })
		waitFor(func() bool { return len(e.fcm.Deliveries()) >= devices })
		seen := map[string]int{}
		for _, d := range e.fcm.Deliveries() {
			seen[d.Token]++
		}
		if len(seen) != devices {
			t.Fatalf("%d devices got it, want %d", len(seen), devices)
		}
		for tok, n := range seen {
			if n != 1 {
				t.Fatalf("%s got it %d times", tok, n)
			}
		}
		waitFor(func() bool {
			var n int
			err := e.st.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = 'push_fanout'`).Scan(&n)
			return err == nil && n == 0
		})
	})
}
