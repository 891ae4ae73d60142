package app

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omnigate/omnigate/internal/api/beams"
	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/pushsim"
	"github.com/omnigate/omnigate/internal/realtime"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webpush"
)

// Push notifications (Pusher Beams-compatible, docs/push.md): the Beams
// APIs on the API's listener, a Beams instance being a realtime app, and
// delivery workers with a connector per platform configured by PushConfig
// (or the simulators, with PushConfig.Simulator or the demo).

// PushConfig configures the push connectors.
type PushConfig struct {
	// APNs: the .p8 key file, its key id, the team id, the app's bundle id
	// (apns-topic) and the server (default Apple's production one).
	APNsKeyFile, APNsKeyID, APNsTeamID, APNsTopic, APNsURL string
	// FCM: the service-account key file (JSON), and the API and token URLs
	// when not Google's.
	FCMServiceAccountFile, FCMURL, FCMTokenURL string
	// VAPIDKey is the Web Push VAPID private key (base64url); empty: one
	// is generated once into the data directory (push-vapid.key).
	// VAPIDSubject is the contact in its JWTs (mailto: or https:).
	VAPIDKey, VAPIDSubject string
	// Simulator delivers APNs and FCM to in-process simulators (on with
	// the demo).
	Simulator bool
	// Service tunes delivery (workers, retries).
	Service push.Config
}

// pushSims are the simulators the push connectors use with
// PushConfig.Simulator.
type pushSims struct {
	apns *pushsim.APNs
	fcm  *pushsim.FCM
}

func (s *pushSims) close() {
	if s == nil {
		return
	}
	s.apns.Close()
	s.fcm.Close()
}

// newPush builds the push service and its connectors.
func (a *App) newPush(cfg Config, node string) (*push.Service, error) {
	pc := cfg.Push
	sc := pc.Service
	sc.Pool.Owner = node
	if pc.Simulator || cfg.Demo {
		apns, err := pushsim.NewAPNs()
		if err != nil {
			return nil, fmt.Errorf("push simulator: %w", err)
		}
		fcm, err := pushsim.NewFCM()
		if err != nil {
			apns.Close()
			return nil, fmt.Errorf("push simulator: %w", err)
		}
		a.pushSims = &pushSims{apns: apns, fcm: fcm}
		if sc.APNs, err = push.NewAPNs(push.APNsConfig{URL: apns.URL(), Key: apns.KeyPEM, KeyID: apns.KeyID, TeamID: apns.TeamID, Topic: apns.Topic, HTTP: apns.Client()}); err != nil {
			return nil, err
		}
		var sa push.ServiceAccount
		if err := json.Unmarshal(fcm.ServiceAccount, &sa); err != nil {
			return nil, err
		}
		if sc.FCM, err = push.NewFCM(push.FCMConfig{URL: fcm.URL(), Account: sa, HTTP: fcm.Client()}); err != nil {
			return nil, err
		}
		// Instances with their own credentials go to the simulators too.
		sc.APNsURL, sc.APNsSandboxURL, sc.APNsHTTP = apns.URL(), apns.URL(), apns.Client()
		sc.FCMURL, sc.FCMTokenURL, sc.FCMHTTP = fcm.URL(), fcm.URL()+"/token", fcm.Client()
	} else {
		// Instances with their own credentials use Apple's servers (the
		// production or the sandbox one, as each asks) and FCM's, or the
		// operator's FCM URLs when set.
		sc.FCMURL, sc.FCMTokenURL = pc.FCMURL, pc.FCMTokenURL
		if pc.APNsKeyFile != "" {
			key, err := os.ReadFile(pc.APNsKeyFile)
			if err != nil {
				return nil, fmt.Errorf("apns-key: %w", err)
			}
			if sc.APNs, err = push.NewAPNs(push.APNsConfig{URL: pc.APNsURL, Key: key, KeyID: pc.APNsKeyID, TeamID: pc.APNsTeamID, Topic: pc.APNsTopic}); err != nil {
				return nil, err
			}
		}
		if pc.FCMServiceAccountFile != "" {
			b, err := os.ReadFile(pc.FCMServiceAccountFile)
			if err != nil {
				return nil, fmt.Errorf("fcm-service-account: %w", err)
			}
			var sa push.ServiceAccount
			if err := json.Unmarshal(b, &sa); err != nil {
				return nil, fmt.Errorf("fcm-service-account: %w", err)
			}
			if sc.FCM, err = push.NewFCM(push.FCMConfig{URL: pc.FCMURL, TokenURL: pc.FCMTokenURL, Account: sa}); err != nil {
				return nil, err
			}
		}
	}
	key, err := vapidKey(pc.VAPIDKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	subject := pc.VAPIDSubject
	if subject == "" {
		subject = "mailto:push@localhost"
	}
	a.vapidPublic = webpush.PublicKey(key)
	a.log.Info("push: VAPID public key (the applicationServerKey web pages subscribe with)", "vapid_public_key", a.vapidPublic)
	sc.Web = &push.Web{Client: &webpush.Client{Key: key, Subject: subject}}
	deliveries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "omnigate_push_deliveries_total", Help: "Push notification delivery attempts, by platform (web, apns, fcm) and outcome (delivered, gone, retry, dropped).",
	}, []string{"platform", "outcome"})
	a.metrics.Registry.MustRegister(deliveries)
	sc.OnDelivery = func(platform, outcome string) { deliveries.WithLabelValues(platform, outcome).Inc() }
	svc := push.New(sc, a.store, a.log)
	svc.Notify = a.notifier.Notify
	return svc, nil
}

// vapidKey is the configured VAPID key, or the one kept in the data
// directory (made on first use).
func vapidKey(configured, dataDir string) (*ecdsa.PrivateKey, error) {
	if configured != "" {
		k, err := webpush.ParsePrivateKey(strings.TrimSpace(configured))
		if err != nil {
			return nil, fmt.Errorf("vapid-key: %w", err)
		}
		return k, nil
	}
	path := filepath.Join(dataDir, "push-vapid.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := webpush.ParsePrivateKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k, err := webpush.GenerateVAPIDKey()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(webpush.PrivateKeyString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("keeping the VAPID key: %w", err)
	}
	return k, nil
}

// beamsDoor is the Beams APIs' door; device API refusals go to the
// instance's (realtime app's) error log with the client's address.
func (a *App) beamsDoor() *beams.Door {
	d := beams.New(a.push, a.log)
	d.ErrorLog = a.store
	d.Guard = a.guard
	return d
}

// demoBeamsName names the demo account's Beams instance.
const demoBeamsName = "Beams demo"

// ensureDemoBeams gives the demo account a Beams instance (once).
func ensureDemoBeams(ctx context.Context, st interface {
	store.RealtimeApps
}, accountID string) (*store.RealtimeApp, error) {
	apps, err := st.ListRealtimeApps(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, app := range apps {
		if app.Name == demoBeamsName {
			return app, nil
		}
	}
	return realtime.CreateApp(ctx, st, accountID, "", func(a *store.RealtimeApp) { a.Name = demoBeamsName })
}

// printDemoBeams adds the Beams instance to the demo banner.
func (a *App) printDemoBeams(w io.Writer) {
	if a.demoBeams == nil {
		return
	}
	fmt.Fprintf(w, `Push notifications (Beams API; APNs and FCM go to simulators; docs/push.md):
instance id %[2]s, secret key %[3]s

  curl -X POST %[1]s/device_api/v1/instances/%[2]s/devices/fcm -H 'Content-Type: application/json' -d '{"token":"demo-device"}'
  curl -X PUT %[1]s/device_api/v1/instances/%[2]s/devices/fcm/ID/interests -d '{"interests":["hello"]}'
  curl -X POST %[1]s/publish_api/v1/instances/%[2]s/publishes/interests -H 'Authorization: Bearer %[3]s' \
    -H 'Content-Type: application/json' -d '{"interests":["hello"],"fcm":{"notification":{"title":"Hello","body":"from omnigate"}}}'

`, a.URL(), a.demoBeams.ID, a.demoBeams.Secret)
}

// pushPublishRetention is how long a publish (its targets and payloads)
// is kept: longer than its deliveries are retried.
const pushPublishRetention = 31 * 24 * time.Hour

// maintainPush deletes old publishes and past months' usage.
func (a *App) maintainPush(ctx context.Context, now time.Time) {
	if n, err := a.store.PurgePushPublishes(ctx, now.Add(-pushPublishRetention)); err != nil {
		a.log.Warn("maintenance: purging push publishes", "err", err)
	} else if n > 0 {
		a.log.Info("maintenance: dropped old push publishes", "publishes", n)
	}
}
