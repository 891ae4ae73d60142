package storetest

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// pushBehaviours cover push notification devices, interests, publishes
// and quotas (package push).
var pushBehaviours = []behaviour{
	{"PushDevices", testPushDevices},
	{"PushPublish", testPushPublish},
	{"PushQuota", testPushQuota},
	{"PushGoesWithApp", testPushGoesWithApp},
	{"PushCredentials", testPushCredentials},
}

func pushStore(t *testing.T, st store.Store) store.Push {
	t.Helper()
	p, ok := st.(store.Push)
	if !ok {
		t.Fatalf("%T does not implement store.Push", st)
	}
	return p
}

func newPushDevice(t *testing.T, p store.Push, instance, accountID, id, user string, interests ...string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := &store.PushDevice{InstanceID: instance, ID: id, AccountID: accountID, Platform: store.PushFCM, Token: "tok-" + id, CreatedAt: now, UpdatedAt: now}
	if err := p.PutPushDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if user != "" {
		if err := p.SetPushUser(ctx, instance, id, user); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.SetPushInterests(ctx, instance, id, interests); err != nil {
		t.Fatal(err)
	}
}

func testPushDevices(t *testing.T, st store.Store) {
	p := pushStore(t, st)
	a := newAccount(t, st)
	inst, other := ids.New(), ids.New()
	newPushDevice(t, p, inst, a.ID, "fcm-1", "", "b", "a", "a")
	got, err := p.PushInterests(ctx, inst, "fcm-1")
	if err != nil || !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("interests %v, %v", got, err)
	}
	if err := p.AddPushInterest(ctx, inst, "fcm-1", "c"); err != nil {
		t.Fatal(err)
	}
	if err := p.AddPushInterest(ctx, inst, "fcm-1", "c"); err != nil {
		t.Fatalf("adding an interest twice: %v", err)
	}
	if err := p.RemovePushInterest(ctx, inst, "fcm-1", "a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.PushInterests(ctx, inst, "fcm-1"); !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Fatalf("after add and remove: %v", got)
	}
	// Another instance sees nothing of it.
	if _, err := p.GetPushDevice(ctx, other, "fcm-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another instance's device: %v", err)
	}
	if err := p.AddPushInterest(ctx, other, "fcm-1", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("interest on another instance's device: %v", err)
	}
	// Registering again replaces the token, keeps user and interests.
	if err := p.SetPushUser(ctx, inst, "fcm-1", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := p.PutPushDevice(ctx, &store.PushDevice{InstanceID: inst, ID: "fcm-1", AccountID: a.ID, Platform: store.PushFCM, Token: "new", UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	d, err := p.GetPushDevice(ctx, inst, "fcm-1")
	if err != nil || d.Token != "new" || d.UserID != "alice" || d.Platform != store.PushFCM {
		t.Fatalf("device after re-registering: %+v, %v", d, err)
	}
	if got, _ := p.PushInterests(ctx, inst, "fcm-1"); len(got) != 2 {
		t.Fatalf("interests lost on re-registering: %v", got)
	}
	newPushDevice(t, p, inst, a.ID, "fcm-2", "alice", "b")
	newPushDevice(t, p, inst, a.ID, "fcm-3", "bob", "b")
	if n, err := p.DeletePushUser(ctx, inst, "alice"); err != nil || n != 2 {
		t.Fatalf("DeletePushUser = %d, %v; want 2", n, err)
	}
	if got, _ := p.PushInterests(ctx, inst, "fcm-1"); len(got) != 0 {
		t.Fatalf("a deleted user's device kept interests %v", got)
	}
	if err := p.DeletePushDevice(ctx, inst, "fcm-3"); err != nil {
		t.Fatal(err)
	}
	if err := p.DeletePushDevice(ctx, inst, "fcm-3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func leasePushJobs(t *testing.T, st store.Store) []store.PushJob {
	t.Helper()
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobPush, N: 100, For: time.Minute, Owner: "n"})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.PushJob
	for _, j := range jobs {
		var pj store.PushJob
		if err := json.Unmarshal(j.Payload, &pj); err != nil {
			t.Fatal(err)
		}
		out = append(out, pj)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Device < out[j].Device })
	return out
}

func testPushPublish(t *testing.T, st store.Store) {
	p := pushStore(t, st)
	a := newAccount(t, st)
	inst := ids.New()
	newPushDevice(t, p, inst, a.ID, "d1", "alice", "news", "sport")
	newPushDevice(t, p, inst, a.ID, "d2", "bob", "news")
	newPushDevice(t, p, inst, a.ID, "d3", "carol", "sport")
	newPushDevice(t, p, inst, a.ID, "d4", "", "weather")
	newPushDevice(t, p, ids.New(), a.ID, "d5", "alice", "news")
	now := time.Now().UTC().Truncate(time.Microsecond)
	pub := &store.PushPublish{InstanceID: inst, ID: "pub-1", AccountID: a.ID, Target: "interests", Targets: []string{"news", "sport"},
		Body: []byte(`{"fcm":{}}`), Suppressed: map[string]bool{"carol": true}, CreatedAt: now}
	if err := p.PublishPush(ctx, pub, nil); err != nil {
		t.Fatal(err)
	}
	if pub.Deliveries != 2 {
		t.Fatalf("deliveries %d, want 2 (d1 once, d2; carol suppressed)", pub.Deliveries)
	}
	jobs := leasePushJobs(t, st)
	if len(jobs) != 2 || jobs[0] != (store.PushJob{Instance: inst, Publish: "pub-1", Device: "d1"}) || jobs[1].Device != "d2" {
		t.Fatalf("jobs %+v", jobs)
	}
	users := &store.PushPublish{InstanceID: inst, ID: "pub-2", AccountID: a.ID, Target: "users", Targets: []string{"alice", "nobody"},
		Body: []byte(`{}`), Suppressed: map[string]bool{}, CreatedAt: now}
	if err := p.PublishPush(ctx, users, nil); err != nil || users.Deliveries != 1 {
		t.Fatalf("to users: %d, %v; want alice's one device of this instance", users.Deliveries, err)
	}
	if jobs := leasePushJobs(t, st); len(jobs) != 1 || jobs[0].Device != "d1" {
		t.Fatalf("user jobs %+v", jobs)
	}
	got, err := p.GetPushPublish(ctx, inst, "pub-1")
	if err != nil || !reflect.DeepEqual(got.Targets, pub.Targets) || string(got.Body) != `{"fcm":{}}` || got.Deliveries != 2 || !got.CreatedAt.Equal(now) {
		t.Fatalf("GetPushPublish = %+v, %v", got, err)
	}
	if n, err := p.PurgePushPublishes(ctx, now.Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("PurgePushPublishes = %d, %v", n, err)
	}
}

func testPushQuota(t *testing.T, st store.Store) {
	p := pushStore(t, st)
	a := newAccount(t, st)
	inst := ids.New()
	if err := p.SetPushQuota(ctx, inst, 5); err != nil {
		t.Fatal(err)
	}
	month := time.Date(2026, 5, 31, 23, 0, 0, 0, time.UTC)
	var alerts []int
	alert := func(th int, used, limit int64) *store.Job {
		alerts = append(alerts, th)
		return &store.Job{Kind: store.JobAlert, AccountID: a.ID, Payload: []byte(`{}`), RunAt: month, CreatedAt: month}
	}
	for i := range 6 {
		pub := &store.PushPublish{InstanceID: inst, ID: ids.New(), AccountID: a.ID, Target: "interests", Targets: []string{"x"}, Body: []byte(`{}`), CreatedAt: month}
		err := p.PublishPush(ctx, pub, alert)
		if i < 5 && err != nil {
			t.Fatalf("publish %d: %v", i+1, err)
		}
		if i == 5 && !errors.Is(err, store.ErrPushQuota) {
			t.Fatalf("publish over the quota: %v", err)
		}
	}
	if !reflect.DeepEqual(alerts, []int{80, 100}) {
		t.Fatalf("alerts %v, want 80 then 100 once each", alerts)
	}
	if js, _ := st.LeaseJobs(ctx, store.Lease{Kind: store.JobAlert, N: 10, For: time.Minute, Owner: "n"}); len(js) != 2 {
		t.Fatalf("%d alert jobs stored, want 2", len(js))
	}
	if max, used, err := p.PushQuota(ctx, inst, month); err != nil || max != 5 || used != 5 {
		t.Fatalf("PushQuota = %d, %d, %v", max, used, err)
	}
	// The next month starts again.
	pub := &store.PushPublish{InstanceID: inst, ID: ids.New(), AccountID: a.ID, Target: "interests", Targets: []string{"x"}, Body: []byte(`{}`), CreatedAt: month.Add(2 * time.Hour)}
	if err := p.PublishPush(ctx, pub, alert); err != nil {
		t.Fatalf("publish in the next month: %v", err)
	}
}

// testPushGoesWithApp: an instance is a realtime app; deleting the app
// deletes its devices, interests, publishes and quota.
func testPushGoesWithApp(t *testing.T, st store.Store) {
	p := pushStore(t, st)
	rt := realtimeStore(t, st)
	a := newAccount(t, st)
	app := newRealtimeApp(t, rt, a)
	newPushDevice(t, p, app.ID, a.ID, "d1", "alice", "news")
	if err := p.SetPushQuota(ctx, app.ID, 10); err != nil {
		t.Fatal(err)
	}
	pub := &store.PushPublish{InstanceID: app.ID, ID: "pub", AccountID: a.ID, Target: "users", Targets: []string{"alice"}, Body: []byte(`{}`), CreatedAt: time.Now()}
	if err := p.PublishPush(ctx, pub, nil); err != nil {
		t.Fatal(err)
	}
	if err := rt.DeleteRealtimeApp(ctx, a.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetPushDevice(ctx, app.ID, "d1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the device outlived its app: %v", err)
	}
	if in, _ := p.PushInterests(ctx, app.ID, "d1"); len(in) != 0 {
		t.Fatalf("interests outlived the app: %v", in)
	}
	if _, err := p.GetPushPublish(ctx, app.ID, "pub"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the publish outlived its app: %v", err)
	}
	if max, used, err := p.PushQuota(ctx, app.ID, time.Now()); err != nil || max != 0 || used != 0 {
		t.Fatalf("quota after deletion %d/%d, %v", used, max, err)
	}
}

// testPushCredentials: an instance's own APNs and FCM credentials are
// set, replaced, read back whole, removed (ErrNotFound when there were
// none), and go with the app.
func testPushCredentials(t *testing.T, st store.Store) {
	p := pushStore(t, st)
	rt := realtimeStore(t, st)
	a := newAccount(t, st)
	app, other := newRealtimeApp(t, rt, a), newRealtimeApp(t, rt, a)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if c, err := p.PushCredentials(ctx, app.ID); err != nil || c.APNs != nil || c.FCM != nil {
		t.Fatalf("a new instance's credentials: %+v %v", c, err)
	}
	apns := &store.PushAPNsCredentials{Key: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n", KeyID: "KEY1234567", TeamID: "TEAM123456",
		Topic: "com.example.app", UpdatedAt: now}
	if err := p.SetPushAPNs(ctx, a.ID, app.ID, apns); err != nil {
		t.Fatal(err)
	}
	apns2 := *apns
	apns2.Topic, apns2.Sandbox = "com.example.other", true
	if err := p.SetPushAPNs(ctx, a.ID, app.ID, &apns2); err != nil {
		t.Fatal(err)
	}
	fcm := &store.PushFCMCredentials{ProjectID: "proj", ClientEmail: "push@proj.iam.gserviceaccount.com", PrivateKey: "-----BEGIN PRIVATE KEY-----\nxyz\n", UpdatedAt: now}
	if err := p.SetPushFCM(ctx, a.ID, app.ID, fcm); err != nil {
		t.Fatal(err)
	}
	c, err := p.PushCredentials(ctx, app.ID)
	if err != nil || c.APNs == nil || *c.APNs != apns2 || c.FCM == nil || *c.FCM != *fcm {
		t.Fatalf("read back %+v %+v, %v", c.APNs, c.FCM, err)
	}
	if c, _ := p.PushCredentials(ctx, other.ID); c.APNs != nil || c.FCM != nil {
		t.Fatalf("another instance has them: %+v", c)
	}
	if err := p.DeletePushAPNs(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.DeletePushAPNs(ctx, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting absent credentials: %v", err)
	}
	if err := p.DeletePushFCM(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting absent credentials: %v", err)
	}
	if err := rt.DeleteRealtimeApp(ctx, a.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := p.PushCredentials(ctx, app.ID); err != nil || c.FCM != nil {
		t.Fatalf("credentials outlived their app: %+v %v", c, err)
	}
}
