package beams_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// BenchmarkBeamsFanout publishes to one interest of 500 FCM devices
// through the Beams door and waits until the FCM simulator (HTTP/2 over
// TLS, OAuth token cached) has every delivery: deliveries/s end to end,
// and how long the publish request took (it commits the publish and its
// 500 jobs).
func BenchmarkBeamsFanout(b *testing.B) {
	const devices = 500
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			st := openStore(b, engine)
			e := newEnv(b, st, true)
			now := time.Now().UTC()
			for i := range devices {
				id := fmt.Sprintf("fcm-bench-%d", i)
				if err := st.PutPushDevice(ctx, &store.PushDevice{InstanceID: e.app.ID, ID: id, AccountID: e.app.AccountID, Platform: store.PushFCM,
					Token: id, CreatedAt: now, UpdatedAt: now}); err != nil {
					b.Fatal(err)
				}
				if err := st.SetPushInterests(ctx, e.app.ID, id, []string{"bench"}); err != nil {
					b.Fatal(err)
				}
			}
			var publishTime time.Duration
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if code, _, be := e.publish("interests", `{"interests":["bench"],"fcm":{"notification":{"title":"bench"}}}`); code != 200 {
					b.Fatalf("publish: %d %+v", code, be)
				}
				publishTime += time.Since(start)
				want := (i + 1) * devices
				waitFor(func() bool { return len(e.fcm.Deliveries()) >= want })
			}
			b.ReportMetric(float64(b.N*devices)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(publishTime.Microseconds())/1000/float64(b.N), "ms/publish")
		})
	}
}

// BenchmarkBeamsLargeInterest publishes to an interest of 20,000 devices
// and queues every delivery job (no worker delivers them): in batches of
// 1,000 (the publish's transaction holds the first, the fan-out the rest,
// as the service does), or all in the publish's one transaction (the
// former way, FanoutBatch above the interest's size). ms/publish is how
// long the publish request took (its transaction); ns/op is the whole.
func BenchmarkBeamsLargeInterest(b *testing.B) {
	const devices = 20000
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, batch := range []int{1000, devices + 1} {
			name := fmt.Sprintf("%s/batch=%d", engine, batch)
			if batch > devices {
				name = engine + "/one-transaction"
			}
			b.Run(name, func(b *testing.B) {
				e := newEnvBatch(b, openStore(b, engine), false, batch)
				e.addDevices(devices, "everyone")
				var publishTime time.Duration
				b.ResetTimer()
				for range b.N {
					start := time.Now()
					code, id, be := e.publish("interests", `{"interests":["everyone"],"fcm":{"notification":{"title":"To all"}}}`)
					if code != 200 {
						b.Fatalf("publish: %d %+v", code, be)
					}
					publishTime += time.Since(start)
					for {
						_, done, err := e.st.FanOutPush(ctx, e.app.ID, id, nil, batch)
						if err != nil {
							b.Fatal(err)
						}
						if done {
							break
						}
					}
					b.StopTimer()
					if _, err := e.st.Writer().ExecContext(ctx, `DELETE FROM jobs WHERE kind IN ('push', 'push_fanout')`); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(publishTime.Microseconds())/1000/float64(b.N), "ms/publish")
			})
		}
	}
}
