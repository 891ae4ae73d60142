package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/store"
)

// A Beams instance's own APNs and FCM credentials (docs/push.md). The
// private keys are sealed (pushAPNsKeyColumn, pushFCMKeyColumn); the ids
// beside them are what the account is shown.

// SetPushAPNs sets or replaces an instance's APNs credentials.
func (s *Store) SetPushAPNs(ctx context.Context, accountID, instanceID string, c *store.PushAPNsCredentials) error {
	key, err := s.seal(ctx, pushAPNsKeyColumn, instanceID, c.Key)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO push_apns_credentials (instance_id, account_id, key_id, team_id, topic, sandbox, private_key, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET account_id = excluded.account_id, key_id = excluded.key_id,
		team_id = excluded.team_id, topic = excluded.topic, sandbox = excluded.sandbox, private_key = excluded.private_key, updated_at = excluded.updated_at`),
		instanceID, accountID, c.KeyID, c.TeamID, c.Topic, c.Sandbox, key, micros(c.UpdatedAt)); err != nil {
		return fmt.Errorf("setting APNs credentials: %w", err)
	}
	return nil
}

// SetPushFCM sets or replaces an instance's FCM service account.
func (s *Store) SetPushFCM(ctx context.Context, accountID, instanceID string, c *store.PushFCMCredentials) error {
	key, err := s.seal(ctx, pushFCMKeyColumn, instanceID, c.PrivateKey)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO push_fcm_credentials (instance_id, account_id, project_id, client_email, private_key, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET account_id = excluded.account_id, project_id = excluded.project_id,
		client_email = excluded.client_email, private_key = excluded.private_key, updated_at = excluded.updated_at`),
		instanceID, accountID, c.ProjectID, c.ClientEmail, key, micros(c.UpdatedAt)); err != nil {
		return fmt.Errorf("setting FCM credentials: %w", err)
	}
	return nil
}

// DeletePushAPNs removes an instance's APNs credentials.
func (s *Store) DeletePushAPNs(ctx context.Context, instanceID string) error {
	return s.deletePushCredentials(ctx, "push_apns_credentials", instanceID)
}

// DeletePushFCM removes an instance's FCM credentials.
func (s *Store) DeletePushFCM(ctx context.Context, instanceID string) error {
	return s.deletePushCredentials(ctx, "push_fcm_credentials", instanceID)
}

func (s *Store) deletePushCredentials(ctx context.Context, table, instanceID string) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM `+table+` WHERE instance_id = ?`), instanceID)
	if err != nil {
		return fmt.Errorf("deleting push credentials: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// PushCredentials reads an instance's own credentials, with their keys
// opened.
func (s *Store) PushCredentials(ctx context.Context, instanceID string) (*store.PushCredentials, error) {
	var out store.PushCredentials
	var a store.PushAPNsCredentials
	var updated int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT key_id, team_id, topic, sandbox, private_key, updated_at FROM push_apns_credentials
		WHERE instance_id = ?`), instanceID).Scan(&a.KeyID, &a.TeamID, &a.Topic, &a.Sandbox, &a.Key, &updated)
	switch {
	case err == nil:
		if err := s.open(ctx, pushAPNsKeyColumn, instanceID, &a.Key); err != nil {
			return nil, err
		}
		a.UpdatedAt = fromMicros(updated)
		out.APNs = &a
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("reading APNs credentials: %w", err)
	}
	var f store.PushFCMCredentials
	err = s.r.QueryRowContext(ctx, s.d.rebind(`SELECT project_id, client_email, private_key, updated_at FROM push_fcm_credentials
		WHERE instance_id = ?`), instanceID).Scan(&f.ProjectID, &f.ClientEmail, &f.PrivateKey, &updated)
	switch {
	case err == nil:
		if err := s.open(ctx, pushFCMKeyColumn, instanceID, &f.PrivateKey); err != nil {
			return nil, err
		}
		f.UpdatedAt = fromMicros(updated)
		out.FCM = &f
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("reading FCM credentials: %w", err)
	}
	return &out, nil
}
