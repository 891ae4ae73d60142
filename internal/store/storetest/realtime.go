package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// realtimeBehaviours cover the realtime (Pusher) apps and error log.
var realtimeBehaviours = []behaviour{
	{"RealtimeApps", testRealtimeApps},
	{"RealtimeAppsScopedByAccount", testRealtimeAppsScoped},
	{"RealtimeSecretRotation", testRealtimeSecretRotation},
	{"RealtimeUsage", testRealtimeUsage},
	{"RealtimeAlertsOnce", testRealtimeAlertsOnce},
	{"RealtimeErrorLog", testRealtimeErrorLog},
}

// realtimeStore is the store's realtime part; every engine has one.
func realtimeStore(t *testing.T, st store.Store) store.Realtime {
	t.Helper()
	rt, ok := st.(store.Realtime)
	if !ok {
		t.Fatalf("%T does not implement store.Realtime", st)
	}
	return rt
}

func newRealtimeApp(t *testing.T, rt store.Realtime, a *store.Account, mutate ...func(*store.RealtimeApp)) *store.RealtimeApp {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	app := &store.RealtimeApp{
		ID: ids.New(), AccountID: a.ID, Name: "chat", Key: ids.Secret(20), Secret: ids.Secret(40), Enabled: true,
		MaxConnections: 100, MaxMessagesPerDay: 200_000, WebhookURL: "http://127.0.0.1:1/hook",
		WebhookEvents: []string{"channel_occupied", "member_added"}, ClientEventRate: 5, SubscriptionCount: true, CreatedAt: now, UpdatedAt: now,
	}
	for _, f := range mutate {
		f(app)
	}
	if err := rt.CreateRealtimeApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	return app
}

func testRealtimeApps(t *testing.T, st store.Store) {
	rt := realtimeStore(t, st)
	a := newAccount(t, st)
	app := newRealtimeApp(t, rt, a)
	for name, get := range map[string]func() (*store.RealtimeApp, error){
		"GetRealtimeApp":   func() (*store.RealtimeApp, error) { return rt.GetRealtimeApp(ctx, a.ID, app.ID) },
		"RealtimeAppByID":  func() (*store.RealtimeApp, error) { return rt.RealtimeAppByID(ctx, app.ID) },
		"RealtimeAppByKey": func() (*store.RealtimeApp, error) { return rt.RealtimeAppByKey(ctx, app.Key) },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, app) {
			t.Fatalf("%s = %+v, want %+v", name, got, app)
		}
	}
	if _, err := rt.RealtimeAppByKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RealtimeAppByKey(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := rt.RealtimeAppByID(ctx, ids.New()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RealtimeAppByID(unknown) = %v, want ErrNotFound", err)
	}
	// Ids and keys are unique; the account must exist.
	dupKey := *app
	dupKey.ID = ids.New()
	if err := rt.CreateRealtimeApp(ctx, &dupKey); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("creating an app with a taken key = %v, want ErrConflict", err)
	}
	dupID := *app
	dupID.Key = ids.Secret(20)
	if err := rt.CreateRealtimeApp(ctx, &dupID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("creating an app with a taken id = %v, want ErrConflict", err)
	}
	orphan := *app
	orphan.ID, orphan.Key, orphan.AccountID = ids.New(), ids.Secret(20), ids.New()
	if err := rt.CreateRealtimeApp(ctx, &orphan); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("creating an app for an unknown account = %v, want ErrNotFound", err)
	}
	// Settings change; credentials do not.
	upd := *app
	upd.Name, upd.Enabled, upd.MaxConnections, upd.MaxMessagesPerDay = "renamed", false, 7, 9
	upd.WebhookURL, upd.WebhookEvents, upd.ClientEventRate, upd.SubscriptionCount = "", nil, 0, false
	upd.Key, upd.Secret = "changed-key", "changed-secret"
	if err := rt.UpdateRealtimeApp(ctx, &upd); err != nil {
		t.Fatal(err)
	}
	got, err := rt.GetRealtimeApp(ctx, a.ID, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := upd
	want.Key, want.Secret = app.Key, app.Secret
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("after update %+v, want %+v", got, &want)
	}
	if !got.UpdatedAt.After(app.UpdatedAt) && !got.UpdatedAt.Equal(app.UpdatedAt) {
		t.Fatalf("UpdatedAt %v went back from %v", got.UpdatedAt, app.UpdatedAt)
	}
	second := newRealtimeApp(t, rt, a, func(x *store.RealtimeApp) { x.CreatedAt = x.CreatedAt.Add(time.Second) })
	list, err := rt.ListRealtimeApps(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != app.ID || list[1].ID != second.ID {
		t.Fatalf("ListRealtimeApps = %v, %v; want the two apps oldest first", list, err)
	}
	// Deleting takes the app's usage and errors with it.
	if _, err := rt.AddRealtimeMessages(ctx, app.ID, time.Now(), 5); err != nil {
		t.Fatal(err)
	}
	if err := rt.AddRealtimeErrors(ctx, []store.RealtimeError{{AccountID: a.ID, AppID: app.ID, Code: 4004, Message: "over quota", IP: "192.0.2.1", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := rt.DeleteRealtimeApp(ctx, a.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.RealtimeAppByID(ctx, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted app still readable: %v", err)
	}
	if n, _ := rt.AddRealtimeMessages(ctx, app.ID, time.Now(), 0); n != 0 {
		t.Fatalf("deleted app's usage is %d, want 0", n)
	}
	if errs, _ := rt.ListRealtimeErrors(ctx, a.ID, app.ID); len(errs) != 0 {
		t.Fatalf("deleted app has %d errors", len(errs))
	}
	if err := rt.DeleteRealtimeApp(ctx, a.ID, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice = %v, want ErrNotFound", err)
	}
	all, err := rt.ListRealtimeApps(ctx, "")
	if err != nil || len(all) != 1 || all[0].ID != second.ID {
		t.Fatalf("ListRealtimeApps(all) = %v, %v", all, err)
	}
}

func testRealtimeAppsScoped(t *testing.T, st store.Store) {
	rt := realtimeStore(t, st)
	a, b := newAccount(t, st), newAccount(t, st)
	app := newRealtimeApp(t, rt, a)
	if _, err := rt.GetRealtimeApp(ctx, b.ID, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account read the app: %v", err)
	}
	if list, err := rt.ListRealtimeApps(ctx, b.ID); err != nil || len(list) != 0 {
		t.Fatalf("another account listed %d apps, %v", len(list), err)
	}
	stolen := *app
	stolen.AccountID, stolen.Enabled = b.ID, false
	if err := rt.UpdateRealtimeApp(ctx, &stolen); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account updated the app: %v", err)
	}
	if _, err := rt.RotateRealtimeSecret(ctx, b.ID, app.ID, "x", time.Now().Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account rotated the secret: %v", err)
	}
	if err := rt.DeleteRealtimeApp(ctx, b.ID, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account deleted the app: %v", err)
	}
	if err := rt.AddRealtimeErrors(ctx, []store.RealtimeError{{AccountID: a.ID, AppID: app.ID, Code: 4009, Message: "m", IP: "192.0.2.7", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if errs, err := rt.ListRealtimeErrors(ctx, b.ID, app.ID); err != nil || len(errs) != 0 {
		t.Fatalf("another account listed %d errors, %v", len(errs), err)
	}
	got, err := rt.GetRealtimeApp(ctx, a.ID, app.ID)
	if err != nil || !got.Enabled || got.Secret != app.Secret {
		t.Fatalf("the owner's app changed: %+v, %v", got, err)
	}
}

func testRealtimeSecretRotation(t *testing.T, st store.Store) {
	rt := realtimeStore(t, st)
	a := newAccount(t, st)
	app := newRealtimeApp(t, rt, a)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if got := app.ValidSecrets(now); !reflect.DeepEqual(got, []string{app.Secret}) {
		t.Fatalf("ValidSecrets before rotation = %v", got)
	}
	until := now.Add(24 * time.Hour)
	rotated, err := rt.RotateRealtimeSecret(ctx, a.ID, app.ID, "new-secret", until)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret != "new-secret" || rotated.PreviousSecret != app.Secret || !rotated.PreviousSecretExpiresAt.Equal(until) {
		t.Fatalf("after rotation %+v", rotated)
	}
	if got, _ := rt.RealtimeAppByKey(ctx, app.Key); !reflect.DeepEqual(got, rotated) {
		t.Fatalf("stored app %+v, want %+v", got, rotated)
	}
	if got := rotated.ValidSecrets(now); !reflect.DeepEqual(got, []string{"new-secret", app.Secret}) {
		t.Fatalf("ValidSecrets in the grace period = %v", got)
	}
	if got := rotated.ValidSecrets(until); !reflect.DeepEqual(got, []string{"new-secret"}) {
		t.Fatalf("ValidSecrets after the grace period = %v", got)
	}
	// A second rotation retires the first secret at once.
	again, err := rt.RotateRealtimeSecret(ctx, a.ID, app.ID, "newer-secret", until)
	if err != nil || again.PreviousSecret != "new-secret" {
		t.Fatalf("second rotation: %+v, %v", again, err)
	}
}

func testRealtimeUsage(t *testing.T, st store.Store) {
	rt := realtimeStore(t, st)
	a := newAccount(t, st)
	app := newRealtimeApp(t, rt, a)
	day := time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if _, err := rt.AddRealtimeMessages(ctx, app.ID, day, 3); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, err := rt.AddRealtimeMessages(ctx, app.ID, day, 0); err != nil || n != 240 {
		t.Fatalf("total %d, %v; want 240 after concurrent adds", n, err)
	}
	next := day.Add(2 * time.Minute) // the next UTC day
	if n, _ := rt.AddRealtimeMessages(ctx, app.ID, next, 1); n != 1 {
		t.Fatalf("the next day starts at %d, want 1", n)
	}
	// In another time zone, the same instant is the same UTC day.
	if n, _ := rt.AddRealtimeMessages(ctx, app.ID, next.In(time.FixedZone("X", -5*3600)), 1); n != 2 {
		t.Fatalf("a zoned time counted on day total %d, want 2", n)
	}
	if _, err := rt.MarkRealtimeAlert(ctx, app.ID, store.RealtimeLimitMessages, 80, day); err != nil {
		t.Fatal(err)
	}
	n, err := rt.PurgeRealtimeUsage(ctx, next)
	if err != nil || n != 2 {
		t.Fatalf("PurgeRealtimeUsage = %d, %v; want the day's count and alert", n, err)
	}
	if n, _ := rt.AddRealtimeMessages(ctx, app.ID, day, 0); n != 0 {
		t.Fatalf("purged day still counts %d", n)
	}
	if n, _ := rt.AddRealtimeMessages(ctx, app.ID, next, 0); n != 2 {
		t.Fatalf("the kept day counts %d, want 2", n)
	}
}

func testRealtimeAlertsOnce(t *testing.T, st store.Store) {
	rt := realtimeStore(t, st)
	a := newAccount(t, st)
	app := newRealtimeApp(t, rt, a)
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := rt.MarkRealtimeAlert(ctx, app.ID, store.RealtimeLimitConnections, 80, now)
			if err != nil {
				t.Error(err)
				return
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firsts != 1 {
		t.Fatalf("%d callers were first to mark the alert, want 1", firsts)
	}
	for _, tc := range []struct {
		limit     string
		threshold int
		at        time.Time
	}{
		{store.RealtimeLimitConnections, 100, now},
		{store.RealtimeLimitMessages, 80, now},
		{store.RealtimeLimitConnections, 80, now.Add(24 * time.Hour)},
	} {
		if first, err := rt.MarkRealtimeAlert(ctx, app.ID, tc.limit, tc.threshold, tc.at); err != nil || !first {
			t.Fatalf("MarkRealtimeAlert(%v) = %v, %v; want a first", tc, first, err)
		}
	}
}

func testRealtimeErrorLog(t *testing.T, st store.Store) {
	rt := realtimeStore(t, st)
	a := newAccount(t, st)
	app, other := newRealtimeApp(t, rt, a), newRealtimeApp(t, rt, a)
	base := time.Now().UTC().Truncate(time.Microsecond).Add(-20 * 24 * time.Hour)
	var batch []store.RealtimeError
	for i := 0; i < 130; i++ {
		batch = append(batch, store.RealtimeError{AccountID: a.ID, AppID: app.ID, Code: 4004 + i%2,
			Message: fmt.Sprintf("error %d", i), IP: fmt.Sprintf("192.0.2.%d", i%250), At: base.Add(time.Duration(i) * time.Hour)})
		if len(batch) == 40 {
			if err := rt.AddRealtimeErrors(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	if err := rt.AddRealtimeErrors(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := rt.AddRealtimeErrors(ctx, []store.RealtimeError{{AccountID: a.ID, AppID: other.ID, Code: 4001, Message: "x", IP: "198.51.100.1", At: base}}); err != nil {
		t.Fatal(err)
	}
	errs, err := rt.ListRealtimeErrors(ctx, a.ID, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != store.RealtimeErrorsPerApp {
		t.Fatalf("%d errors kept, want the newest %d", len(errs), store.RealtimeErrorsPerApp)
	}
	if errs[0].Message != "error 129" || errs[99].Message != "error 30" || errs[0].IP != "192.0.2.129" || errs[0].Code != 4005 {
		t.Fatalf("kept %+v … %+v; want errors 129 down to 30, newest first", errs[0], errs[99])
	}
	if !errs[0].At.Equal(base.Add(129 * time.Hour)) {
		t.Fatalf("time %v, want %v", errs[0].At, base.Add(129*time.Hour))
	}
	// Purging by age deletes the rows (with their IPs), not only hides them.
	cutoff := base.Add(100 * time.Hour)
	n, err := rt.PurgeRealtimeErrors(ctx, cutoff)
	if err != nil || n != 71 {
		t.Fatalf("PurgeRealtimeErrors = %d, %v; want 70 of the app and 1 of the other", n, err)
	}
	errs, _ = rt.ListRealtimeErrors(ctx, a.ID, app.ID)
	if len(errs) != 30 || errs[29].Message != "error 100" {
		t.Fatalf("after purge %d errors, oldest %+v", len(errs), errs[len(errs)-1])
	}
	if left, _ := rt.ListRealtimeErrors(ctx, a.ID, other.ID); len(left) != 0 {
		t.Fatalf("the other app kept %d old errors", len(left))
	}
	if n, _ := rt.PurgeRealtimeErrors(ctx, cutoff); n != 0 {
		t.Fatalf("purging again deleted %d", n)
	}
}
