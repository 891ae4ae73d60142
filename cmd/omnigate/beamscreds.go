package main

import (
	"context"
	"errors"
	"flag"

	"io"
	"os"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	"github.com/omnigate/omnigate/internal/push"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// beamsCredentialsCmd shows, sets or removes a Beams instance's own APNs
// and FCM credentials (docs/push.md), as PUT and DELETE
// /beams/instances/{id}/apns|fcm do: the keys are checked and stored
// sealed; what is printed names them without them.
func beamsCredentialsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg app.Config
	fs := flag.NewFlagSet("beams credentials", flag.ContinueOnError)
	storeFlags(fs, &cfg)
	id := fs.String("id", "", "instance id (required)")
	apnsKey := fs.String("apns-key", "", "the instance's APNs .p8 key file")
	keyID := fs.String("apns-key-id", "", "its 10-character key id")
	teamID := fs.String("apns-team-id", "", "the team id")
	topic := fs.String("apns-topic", "", "the app's bundle id")
	sandbox := fs.Bool("apns-sandbox", false, "send to Apple's development server (apps built for development)")
	sa := fs.String("fcm-service-account", "", "the instance's FCM service-account key file (JSON)")
	remove := fs.String("remove", "", "apns or fcm: remove the instance's own credentials (it uses the platform's again)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *id == "" {
		return usagef("beams credentials: --id is required")
	}
	if *remove != "" && *remove != store.PushAPNs && *remove != store.PushFCM {
		return usagef("beams credentials: --remove is apns or fcm")
	}
	var apns *store.PushAPNsCredentials
	if *apnsKey != "" || *keyID != "" || *teamID != "" || *topic != "" {
		if *apnsKey == "" {
			return usagef("beams credentials: --apns-key is required with the other --apns-* flags")
		}
		key, err := os.ReadFile(*apnsKey)
		if err != nil {
			return usagef("beams credentials: --apns-key: %v", err)
		}
		apns = &store.PushAPNsCredentials{Key: string(key), KeyID: *keyID, TeamID: *teamID, Topic: *topic, Sandbox: *sandbox,
			UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		if err := push.CheckAPNs(apns); err != nil {
			return usagef("beams credentials: APNs %v", err)
		}
	}
	var fcm *store.PushFCMCredentials
	if *sa != "" {
		b, err := os.ReadFile(*sa)
		if err != nil {
			return usagef("beams credentials: --fcm-service-account: %v", err)
		}
		if fcm, err = push.ParseServiceAccount(b); err != nil {
			return usagef("beams credentials: FCM %v", err)
		}
		fcm.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	return withStore(ctx, cfg, func(st *sqlstore.Store) error {
		inst, err := st.RealtimeAppByID(ctx, *id)
		if errors.Is(err, store.ErrNotFound) {
			return usagef("beams credentials: no instance %q", *id)
		} else if err != nil {
			return err
		}
		if apns != nil {
			if err := st.SetPushAPNs(ctx, inst.AccountID, inst.ID, apns); err != nil {
				return err
			}
		}
		if fcm != nil {
			if err := st.SetPushFCM(ctx, inst.AccountID, inst.ID, fcm); err != nil {
				return err
			}
		}
		switch *remove {
		case store.PushAPNs:
			err = st.DeletePushAPNs(ctx, inst.ID)
		case store.PushFCM:
			err = st.DeletePushFCM(ctx, inst.ID)
		}
		if errors.Is(err, store.ErrNotFound) {
			return usagef("beams credentials: instance %s has no %s credentials of its own", inst.ID, *remove)
		} else if err != nil {
			return err
		}
		creds, err := st.PushCredentials(ctx, inst.ID)
		if err != nil {
			return err
		}
		return printJSON(stdout, showCredentials(inst.ID, creds))
	})
}

// credentialsJSON is what `beams credentials` prints: the keys' ids, not
// the keys; null platforms use the platform's defaults.
type credentialsJSON struct {
	InstanceID string `json:"instanceId"`
	APNs       *struct {
		KeyID   string `json:"keyId"`
		TeamID  string `json:"teamId"`
		Topic   string `json:"topic"`
		Sandbox bool   `json:"sandbox"`
		Updated string `json:"updatedAt"`
	} `json:"apns"`
	FCM *struct {
		ProjectID   string `json:"projectId"`
		ClientEmail string `json:"clientEmail"`
		Updated     string `json:"updatedAt"`
	} `json:"fcm"`
}

func showCredentials(id string, c *store.PushCredentials) credentialsJSON {
	out := credentialsJSON{InstanceID: id}
	if a := c.APNs; a != nil {
		out.APNs = &struct {
			KeyID   string `json:"keyId"`
			TeamID  string `json:"teamId"`
			Topic   string `json:"topic"`
			Sandbox bool   `json:"sandbox"`
			Updated string `json:"updatedAt"`
		}{a.KeyID, a.TeamID, a.Topic, a.Sandbox, a.UpdatedAt.UTC().Format(time.RFC3339)}
	}
	if f := c.FCM; f != nil {
		out.FCM = &struct {
			ProjectID   string `json:"projectId"`
			ClientEmail string `json:"clientEmail"`
			Updated     string `json:"updatedAt"`
		}{f.ProjectID, f.ClientEmail, f.UpdatedAt.UTC().Format(time.RFC3339)}
	}
	return out
}
