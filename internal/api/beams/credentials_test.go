package beams_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// newInstance makes another instance (realtime app) of the env's account.
func (e *env) newInstance() *store.RealtimeApp {
	e.t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	app := &store.RealtimeApp{ID: ids.New(), AccountID: e.app.AccountID, Name: "beams-2", Key: ids.Secret(20), Secret: ids.Secret(40), Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := e.st.CreateRealtimeApp(ctx, app); err != nil {
		e.t.Fatal(err)
	}
	return app
}

// on makes the env's requests go to another instance.
func (e *env) on(app *store.RealtimeApp) *env {
	c := *e
	c.app = app
	return &c
}

// TestBeamsCredentialsPerInstance: two instances with their own APNs keys
// (other teams, other bundle ids) and FCM service accounts (other
// projects) each deliver with their own; an instance without its own
// delivers with the process's defaults; bad keys are refused when set.
func TestBeamsCredentialsPerInstance(t *testing.T) {
	engines(t, func(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
		e := newEnv(t, open(t), true)
		shop, news := e.newInstance(), e.newInstance()
		for i, app := range []*store.RealtimeApp{shop, news} {
			keyID, team, topic, project := []string{"SHOPKEY001", "NEWSKEY001"}[i], []string{"SHOPTEAM01", "NEWSTEAM01"}[i],
				[]string{"com.shop.app", "com.news.app"}[i], []string{"shop-project", "news-project"}[i]
			pem, err := e.apns.AddKey(keyID, team, topic)
			if err != nil {
				t.Fatal(err)
			}
			a := &store.PushAPNsCredentials{Key: string(pem), KeyID: keyID, TeamID: team, Topic: topic, UpdatedAt: time.Now()}
			if err := push.CheckAPNs(a); err != nil {
				t.Fatal(err)
			}
			if err := e.st.SetPushAPNs(ctx, app.AccountID, app.ID, a); err != nil {
				t.Fatal(err)
			}
			f, err := push.ParseServiceAccount(e.fcm.AddServiceAccount(project))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.st.SetPushFCM(ctx, app.AccountID, app.ID, f); err != nil {
				t.Fatal(err)
			}
		}
		for _, app := range []*store.RealtimeApp{e.app, shop, news} {
			x := e.on(app)
			for _, dev := range []string{x.register("apns", apnsToken), x.register("fcm", "fcm-"+app.ID)} {
				platform, _, _ := strings.Cut(dev, "-")
				if code := x.do("PUT", x.device(platform, dev)+"/interests", "", `{"interests":["news"]}`, nil); code != 200 {
					t.Fatalf("interests: %d", code)
				}
			}
			if code, _, be := x.publish("interests", publishBody); code != 200 {
				t.Fatalf("publish: %d %+v", code, be)
			}
		}
		waitFor(func() bool { return len(e.apns.Deliveries()) == 3 && len(e.fcm.Deliveries()) == 3 })
		topics := map[string]string{}
		for _, d := range e.apns.Deliveries() {
			topics[d.KeyID] = d.Topic
		}
		if topics["SIMKEY0001"] != e.apns.Topic || topics["SHOPKEY001"] != "com.shop.app" || topics["NEWSKEY001"] != "com.news.app" {
			t.Fatalf("APNs deliveries by key: %v", topics)
		}
		projects := map[string]string{}
		for _, d := range e.fcm.Deliveries() {
			projects[d.Token] = d.Project
		}
		if projects["fcm-"+e.app.ID] != e.fcm.ProjectID || projects["fcm-"+shop.ID] != "shop-project" || projects["fcm-"+news.ID] != "news-project" {
			t.Fatalf("FCM deliveries by project: %v", projects)
		}

		// Removing an instance's own credentials falls back to the defaults
		// (once the cache's TTL passed).
		if err := e.st.DeletePushFCM(ctx, shop.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.st.DeletePushFCM(ctx, shop.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting absent credentials: %v", err)
		}
		creds, err := e.st.PushCredentials(ctx, shop.ID)
		if err != nil || creds.FCM != nil || creds.APNs == nil || creds.APNs.Topic != "com.shop.app" {
			t.Fatalf("credentials after deleting FCM's: %+v %v", creds, err)
		}

		// Bad keys are refused on set.
		for _, bad := range []*store.PushAPNsCredentials{
			{Key: "not a key", KeyID: "SHOPKEY001", TeamID: "SHOPTEAM01", Topic: "com.shop.app"},
			{Key: string(e.apns.KeyPEM), KeyID: "short", TeamID: "SHOPTEAM01", Topic: "com.shop.app"},
			{Key: string(e.apns.KeyPEM), KeyID: "SHOPKEY001", TeamID: "SHOPTEAM01", Topic: "has space"},
		} {
			var ce *push.CredentialError
			if err := push.CheckAPNs(bad); !errors.As(err, &ce) {
				t.Errorf("bad APNs credentials %+v accepted: %v", bad, err)
			}
		}
		for _, bad := range []string{`{`, `{"type":"authorized_user"}`, `{"project_id":"p","client_email":"a@b","private_key":"nope"}`,
			`{"project_id":"p","client_email":"a@b","private_key":` + jsonString(string(e.apns.KeyPEM)) + `}`} {
			var ce *push.CredentialError
			if _, err := push.ParseServiceAccount([]byte(bad)); !errors.As(err, &ce) {
				t.Errorf("bad service account %.40s accepted: %v", bad, err)
			}
		}
	})
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\n':
			b.WriteString(`\n`)
		case '"':
			b.WriteString(`\"`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
