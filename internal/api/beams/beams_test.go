package beams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/omnigate/omnigate/internal/api/beams"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/pushsim"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
	"github.com/omnigate/omnigate/internal/store/postgres"
	"github.com/omnigate/omnigate/internal/store/postgres/postgrestest"
	"github.com/omnigate/omnigate/internal/store/sqlite"
	"github.com/omnigate/omnigate/internal/store/sqlite/sqlitetest"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
	"github.com/omnigate/omnigate/internal/webpush"
	"github.com/omnigate/omnigate/internal/worker"
)

var ctx = context.Background()

// env is a real omnigate Beams door on loopback with its store, push
// service and the APNs and FCM simulators.
type env struct {
	t    testing.TB
	st   *sqlstore.Store
	app  *store.RealtimeApp
	apns *pushsim.APNs
	fcm  *pushsim.FCM
	web  *pushsim.WebPush
	svc  *push.Service
	url  string
	// fanoutBatch is the service's FanoutBatch (0: its default).
	fanoutBatch int
}

// openStore opens a fresh store of the engine ("sqlite" or "postgres"),
// skipping without a PostgreSQL server.
func openStore(t testing.TB, engine string) *sqlstore.Store {
	t.Helper()
	var st *sqlstore.Store
	var err error
	if engine == "postgres" {
		if !pgtest.Available() {
			t.Skip(pgtest.EnvVar + " is not set")
		}
		st, err = postgres.Open(ctx, postgres.Config{URL: postgrestest.URL(t)})
	} else {
		st, err = sqlitetest.Open(t, sqlite.Config{Path: filepath.Join(t.TempDir(), "beams.db"), Synchronous: sqlite.SyncNormal})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func engines(t *testing.T, f func(t *testing.T, open func(t *testing.T) *sqlstore.Store)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			f(t, func(t *testing.T) *sqlstore.Store { return openStore(t, engine) })
		})
	}
}

func newEnv(t testing.TB, st *sqlstore.Store, start bool) *env {
	t.Helper()
	return newEnvBatch(t, st, start, 0)
}

// newEnvBatch is newEnv whose service queues at most fanoutBatch delivery
// jobs per transaction (0: its default).
func newEnvBatch(t testing.TB, st *sqlstore.Store, start bool, fanoutBatch int) *env {
	t.Helper()
	a := &store.Account{ID: ids.New(), Name: "acme", Currency: "EUR", SigningKey: ids.Secret(40), CreatedAt: time.Now().UTC()}
	if err := st.CreateAccount(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	app := &store.RealtimeApp{ID: ids.New(), AccountID: a.ID, Name: "beams", Key: ids.Secret(20), Secret: ids.Secret(40), Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateRealtimeApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	apns, err := pushsim.NewAPNs()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { apns.Close() })
	fcm, err := pushsim.NewFCM()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fcm.Close() })
	web, err := pushsim.StartWebPush("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { web.Close() })
	e := &env{t: t, st: st, app: app, apns: apns, fcm: fcm, web: web, fanoutBatch: fanoutBatch}
	e.svc = e.service()
	if start {
		e.svc.Start()
		t.Cleanup(func() { e.svc.Stop(ctx) })
	}
	door := beams.New(e.svc, slog.Default())
	door.ErrorLog = st
	door.Guard = authguard.New(authguard.Config{PerAddress: 20, PerPrefix: 20}, nil, nil)
	mux := http.NewServeMux()
	door.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// service makes a push service delivering to the simulators.
func (e *env) service() *push.Service {
	e.t.Helper()
	ap, err := push.NewAPNs(push.APNsConfig{URL: e.apns.URL(), Key: e.apns.KeyPEM, KeyID: e.apns.KeyID, TeamID: e.apns.TeamID, Topic: e.apns.Topic, HTTP: e.apns.Client()})
	if err != nil {
		e.t.Fatal(err)
	}
	var sa push.ServiceAccount
	if err := json.Unmarshal(e.fcm.ServiceAccount, &sa); err != nil {
		e.t.Fatal(err)
	}
	fc, err := push.NewFCM(push.FCMConfig{URL: e.fcm.URL(), Account: sa, HTTP: e.fcm.Client()})
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		e.t.Fatal(err)
	}
	wp := &push.Web{Client: &webpush.Client{Key: key, Subject: "mailto:ops@example.com"}}
	return push.New(push.Config{APNs: ap, FCM: fc, Web: wp, Retry: worker.Backoff{Min: 20 * time.Millisecond, Max: 50 * time.Millisecond},
		Pool:    worker.Config{Owner: "test", Poll: 20 * time.Millisecond},
		APNsURL: e.apns.URL(), APNsSandboxURL: e.apns.URL(), APNsHTTP: e.apns.Client(),
		FCMURL: e.fcm.URL(), FCMTokenURL: e.fcm.URL() + "/token", FCMHTTP: e.fcm.Client(),
		FanoutBatch: e.fanoutBatch}, e.st, slog.Default())
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (e *env) do(method, path, auth, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

type beamsError struct {
	Error       string `json:"error"`
	Description string `json:"description"`
}

func (e *env) register(platform, token string) string {
	e.t.Helper()
	var out struct{ ID string }
	body, _ := json.Marshal(map[string]any{"token": token, "metadata": map[string]string{"sdkVersion": "test"}})
	if code := e.do("POST", "/device_api/v1/instances/"+e.app.ID+"/devices/"+platform, "", string(body), &out); code != 200 || out.ID == "" {
		e.t.Fatalf("registering a %s device: %d %+v", platform, code, out)
	}
	return out.ID
}

func (e *env) device(platform, id string) string {
	return "/device_api/v1/instances/" + e.app.ID + "/devices/" + platform + "/" + id
}

func (e *env) publish(target, body string) (int, string, beamsError) {
	e.t.Helper()
	var out struct {
		PublishID string `json:"publishId"`
		beamsError
	}
	code := e.do("POST", "/publish_api/v1/instances/"+e.app.ID+"/publishes/"+target, "Bearer "+e.app.Secret, body, &out)
	return code, out.PublishID, out.beamsError
}

// beamsToken is what the server SDKs' generateToken makes.
func beamsToken(t *testing.T, instance, secret, user string, exp time.Time) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user, "iss": push.TokenIssuer(instance), "exp": exp.Unix(), "iat": time.Now().Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// waitFor polls until cond holds (the test's own deadline bounds it).
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(10 * time.Millisecond)
	}
}

const apnsToken = "6e1326c0e4758b54332fab3b3cb2f9ed92e2cd332e9ba8182f49027054b64d29"

const publishBody = `{"interests":["news"],
	"apns":{"aps":{"alert":{"title":"Hello","body":"from omnigate"}}},
	"fcm":{"notification":{"title":"Hello","body":"from omnigate"},"data":{"n":1,"s":"x"}}}`

func TestBeamsPublishDelivers(t *testing.T) {
	engines(t, func(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
		e := newEnv(t, open(t), true)
		ios := e.register("apns", apnsToken)
		android := e.register("fcm", "fcm-token-1")
		for _, id := range []string{ios} {
			if code := e.do("PUT", e.device("apns", id)+"/interests", "", `{"interests":["news","sport"]}`, nil); code != 200 {
				t.Fatalf("setting interests: %d", code)
			}
		}
		if code := e.do("POST", e.device("fcm", android)+"/interests/news", "", "", nil); code != 200 {
			t.Fatalf("adding an interest: %d", code)
		}
		var in struct{ Interests []string }
		if e.do("GET", e.device("apns", ios)+"/interests", "", "", &in); fmt.Sprint(in.Interests) != "[news sport]" {
			t.Fatalf("interests %v", in.Interests)
		}
		code, id, _ := e.publish("interests", publishBody)
		if code != 200 || !strings.HasPrefix(id, "pubid-") {
			t.Fatalf("publish: %d %q", code, id)
		}
		waitFor(func() bool { return len(e.apns.Deliveries()) == 1 && len(e.fcm.Deliveries()) == 1 })
		a := e.apns.Deliveries()[0]
		if a.Token != apnsToken || a.Topic != e.apns.Topic || a.PushType != "alert" || a.Proto != "HTTP/2.0" || !bytes.Contains(a.Payload, []byte(`"from omnigate"`)) {
			t.Fatalf("APNs delivery %+v", a)
		}
		var m struct {
			Token        string
			Notification map[string]string
			Data         map[string]string
		}
		json.Unmarshal(e.fcm.Deliveries()[0].Message, &m)
		if m.Token != "fcm-token-1" || m.Notification["title"] != "Hello" || m.Data["n"] != "1" || m.Data["s"] != "x" {
			t.Fatalf("FCM message %s", e.fcm.Deliveries()[0].Message)
		}

		// A user bound with a Beams token gets publishes to users; a
		// token of another secret, or expired, is refused.
		user := e.device("fcm", android) + "/user_id"
		for _, bad := range []string{
			beamsToken(t, e.app.ID, "wrong-secret", "alice", time.Now().Add(time.Hour)),
			beamsToken(t, e.app.ID, e.app.Secret, "alice", time.Now().Add(-time.Hour)),
			beamsToken(t, "other-instance", e.app.Secret, "alice", time.Now().Add(time.Hour)),
			"not.a.jwt",
		} {
			var be beamsError
			if code := e.do("PUT", user, "Bearer "+bad, "", &be); code != 401 || be.Error == "" || be.Description == "" {
				t.Fatalf("a bad Beams token: %d %+v", code, be)
			}
		}
		if code := e.do("PUT", user, "Bearer "+beamsToken(t, e.app.ID, e.app.Secret, "alice", time.Now().Add(time.Hour)), "", nil); code != 200 {
			t.Fatalf("binding a user: %d", code)
		}
		if code, _, be := e.publish("users", `{"users":["alice"],"fcm":{"notification":{"title":"Hi Alice"}}}`); code != 200 {
			t.Fatalf("publish to users: %d %+v", code, be)
		}
		waitFor(func() bool { return len(e.fcm.Deliveries()) == 2 })

		// A failing push service is retried; an unregistered token
		// removes the device.
		e.fcm.Fail(http.StatusServiceUnavailable, 2)
		e.apns.Unregister(apnsToken)
		if code, _, _ := e.publish("interests", publishBody); code != 200 {
			t.Fatal(code)
		}
		waitFor(func() bool { return len(e.fcm.Deliveries()) == 3 })
		waitFor(func() bool { return e.do("GET", e.device("apns", ios), "", "", nil) == 404 })
		if n := len(e.apns.Deliveries()); n != 1 {
			t.Fatalf("%d APNs deliveries, want 1", n)
		}

		// Deleting the user removes its devices.
		if code := e.do("DELETE", "/user_api/v1/instances/"+e.app.ID+"/users/alice", "Bearer "+e.app.Secret, "", nil); code != 200 {
			t.Fatalf("deleting a user: %d", code)
		}
		if code := e.do("GET", e.device("fcm", android), "", "", nil); code != 404 {
			t.Fatalf("a deleted user's device answers %d", code)
		}
	})
}

func TestBeamsErrors(t *testing.T) {
	engines(t, func(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
		e := newEnv(t, open(t), false)
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("i%d", i)
		}
		manyJSON, _ := json.Marshal(many)
		for _, tc := range []struct {
			name, target, auth, body string
			status                   int
		}{
			{"no key", "interests", "-", publishBody, 401},
			{"wrong key", "interests", "Bearer nope", publishBody, 401},
			{"not JSON", "interests", "", `{"interests":`, 400},
			{"no interests", "interests", "", `{"interests":[],"fcm":{}}`, 400},
			{"too many interests", "interests", "", `{"interests":` + string(manyJSON) + `,"fcm":{}}`, 400},
			{"bad interest", "interests", "", `{"interests":["a b"],"fcm":{}}`, 400},
			{"no payload", "interests", "", `{"interests":["a"]}`, 400},
			{"apns without aps", "interests", "", `{"interests":["a"],"apns":{"x":1}}`, 400},
			{"users to interests", "interests", "", `{"interests":["a"],"users":["u"],"fcm":{}}`, 400},
			{"too large", "interests", "", `{"interests":["a"],"fcm":{"data":{"x":"` + strings.Repeat("x", 11000) + `"}}}`, 413},
			{"empty user", "users", "", `{"users":[""],"fcm":{}}`, 400},
		} {
			auth := "Bearer " + e.app.Secret
			if tc.auth == "-" {
				auth = ""
			} else if tc.auth != "" {
				auth = tc.auth
			}
			var be beamsError
			code := e.do("POST", "/publish_api/v1/instances/"+e.app.ID+"/publishes/"+tc.target, auth, tc.body, &be)
			if code != tc.status || be.Error == "" || be.Description == "" {
				t.Errorf("%s: %d %+v, want %d in Beams' error shape", tc.name, code, be, tc.status)
			}
		}
		var be beamsError
		if code := e.do("POST", "/device_api/v1/instances/"+e.app.ID+"/devices/apns", "", `{"token":"not-hex"}`, &be); code != 400 || be.Description == "" {
			t.Errorf("a bad APNs token: %d %+v", code, be)
		}
		if code := e.do("POST", "/device_api/v1/instances/"+e.app.ID+"/devices/web", "", `{"token":{"endpoint":"x"}}`, &be); code != 400 {
			t.Errorf("a bad web subscription: %d %+v", code, be)
		}
		if code := e.do("POST", "/device_api/v1/instances/nope/devices/fcm", "", `{"token":"t"}`, &be); code != 404 {
			t.Errorf("an unknown instance: %d %+v", code, be)
		}
		if code := e.do("POST", "/device_api/v1/instances/"+e.app.ID+"/devices/blackberry", "", `{"token":"t"}`, &be); code != 404 {
			t.Errorf("an unknown platform: %d %+v", code, be)
		}
		// PUSH-4: the refused device API requests are in the instance's
		// error log with the client's address.
		errs, err := e.st.ListRealtimeErrors(ctx, e.app.AccountID, e.app.ID)
		if err != nil || len(errs) != 3 {
			t.Fatalf("error log %+v, %v; want the 3 refusals of this instance", errs, err)
		}
		for _, x := range errs {
			if x.IP != "127.0.0.1" || (x.Code != 400 && x.Code != 404) || !strings.HasPrefix(x.Message, "beams device API: ") {
				t.Errorf("error log entry %+v", x)
			}
		}
	})
}

// TestBeamsQuotaSuppressionRestart: publishes stop at the monthly quota
// with alerts at 80 % and 100 %; a suppressed user gets nothing; jobs
// stored while no worker runs are delivered by the next one.
func TestBeamsQuotaSuppressionRestart(t *testing.T) {
	engines(t, func(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
		e := newEnv(t, open(t), false)
		dev := e.register("fcm", "fcm-bob")
		e.do("PUT", e.device("fcm", dev)+"/interests", "", `{"interests":["news"]}`, nil)
		e.do("PUT", e.device("fcm", dev)+"/user_id", "Bearer "+beamsToken(t, e.app.ID, e.app.Secret, "bob", time.Now().Add(time.Hour)), "", nil)
		other := e.register("fcm", "fcm-carol")
		e.do("PUT", e.device("fcm", other)+"/interests", "", `{"interests":["news"]}`, nil)
		if err := e.st.AddSuppression(ctx, e.app.AccountID, store.Suppression{Channel: push.Channel, Recipient: "bob", Reason: store.SuppressManual, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.SetPushQuota(ctx, e.app.ID, 5); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if code, _, be := e.publish("interests", `{"interests":["news"],"fcm":{"data":{"i":"`+fmt.Sprint(i)+`"}}}`); code != 200 {
				t.Fatalf("publish %d: %d %+v", i, code, be)
			}
		}
		if code, _, be := e.publish("interests", `{"interests":["news"],"fcm":{}}`); code != 429 || be.Description == "" {
			t.Fatalf("over the quota: %d %+v", code, be)
		}
		alerts, _ := e.st.LeaseJobs(ctx, store.Lease{Kind: store.JobAlert, N: 10, For: time.Minute, Owner: "t"})
		if len(alerts) != 2 || !bytes.Contains(alerts[0].Payload, []byte(push.NoticeType)) {
			t.Fatalf("%d alert jobs, want 2 (80 %% and 100 %%)", len(alerts))
		}
		// No worker ran yet: the deliveries wait in the queue; a service
		// started now (as after a restart) delivers them, to carol only.
		svc := e.service()
		svc.Start()
		defer svc.Stop(ctx)
		waitFor(func() bool { return len(e.fcm.Deliveries()) == 5 })
		for _, d := range e.fcm.Deliveries() {
			if d.Token != "fcm-carol" {
				t.Fatalf("a suppressed user's device got %s", d.Message)
			}
		}
	})
}

// TestBeamsWebPush: a browser's subscription registered as a web device
// gets the publish encrypted (RFC 8291) and VAPID-signed; the simulator
// decrypts it as the browser would. An unsubscribed browser's device is
// removed.
func TestBeamsWebPush(t *testing.T) {
	engines(t, func(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
		e := newEnv(t, open(t), true)
		sub := e.web.NewSubscription()
		subJSON, _ := json.Marshal(sub)
		id := e.register("web", string(subJSON))
		if !strings.HasPrefix(id, "web-") {
			t.Fatalf("web device id %q", id)
		}
		e.do("PUT", e.device("web", id)+"/interests", "", `{"interests":["hello"]}`, nil)
		body := `{"interests":["hello"],"web":{"notification":{"title":"Hello","body":"from omnigate","deep_link":"https://example.com"},"data":{"k":"v"},"time_to_live":60}}`
		if code, _, be := e.publish("interests", body); code != 200 {
			t.Fatalf("publish: %d %+v", code, be)
		}
		waitFor(func() bool { return len(e.web.Messages(sub.Endpoint)) == 1 })
		m := e.web.Messages(sub.Endpoint)[0]
		var got struct {
			Notification map[string]string
			Data         map[string]string
		}
		if m.Err != "" || json.Unmarshal(m.Plaintext, &got) != nil || got.Notification["title"] != "Hello" || got.Data["k"] != "v" || m.TTL != time.Minute {
			t.Fatalf("the browser got %+v (%s)", m, m.Plaintext)
		}
		e.web.Unsubscribe(sub.Endpoint)
		e.publish("interests", body)
		waitFor(func() bool { return e.do("GET", e.device("web", id), "", "", nil) == 404 })
	})
}

// TestBeamsAuthGuard: wrong secret keys and forged Beams tokens count as
// failed authentications; past the limit the door answers 429 in Beams'
// shape, even to the right key, until the minute passes.
func TestBeamsAuthGuard(t *testing.T) {
	e := newEnv(t, openStore(t, "sqlite"), false)
	dev := e.register("fcm", "fcm-guard")
	forged := beamsToken(t, e.app.ID, "not-the-secret", "mallory", time.Now().Add(time.Hour))
	failures := 0
	for failures < 20 {
		if code := e.do("POST", "/publish_api/v1/instances/"+e.app.ID+"/publishes/interests", "Bearer wrong", publishBody, nil); code != 401 {
			t.Fatalf("failure %d answered %d, want 401", failures+1, code)
		}
		failures++
		if code := e.do("PUT", e.device("fcm", dev)+"/user_id", "Bearer "+forged, "", nil); code != 401 {
			t.Fatalf("failure %d answered %d, want 401", failures+1, code)
		}
		failures++
	}
	var be beamsError
	if code := e.do("POST", "/publish_api/v1/instances/"+e.app.ID+"/publishes/interests", "Bearer "+e.app.Secret, publishBody, &be); code != 429 || be.Description == "" {
		t.Fatalf("after %d failures the right key got %d %+v, want 429", failures, code, be)
	}
}
