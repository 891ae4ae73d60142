package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

var _ store.Realtime = (*Store)(nil)

const realtimeAppColumns = `id, account_id, name, app_key, secret, previous_secret, previous_expires_at, enabled,
	max_connections, max_messages_day, webhook_url, webhook_events, client_event_rate, created_at, updated_at,
	subscription_count`

// CreateRealtimeApp stores a new realtime app.
func (s *Store) CreateRealtimeApp(ctx context.Context, a *store.RealtimeApp) error {
	secret, err := s.seal(ctx, realtimeSecretColumn, a.ID, a.Secret)
	if err != nil {
		return err
	}
	previous, err := s.seal(ctx, realtimePrevColumn, a.ID, a.PreviousSecret)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "creating realtime app", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), a.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("creating realtime app: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM realtime_apps WHERE id = ? OR app_key = ?`), a.ID, a.Key).Scan(&n); err != nil {
			return fmt.Errorf("creating realtime app: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO realtime_apps (`+realtimeAppColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			a.ID, a.AccountID, a.Name, a.Key, secret, previous, micros(a.PreviousSecretExpiresAt), a.Enabled,
			a.MaxConnections, a.MaxMessagesPerDay, a.WebhookURL, strings.Join(a.WebhookEvents, ","), a.ClientEventRate,
			micros(a.CreatedAt), micros(a.UpdatedAt), a.SubscriptionCount)
		if err != nil {
			return fmt.Errorf("creating realtime app: %w", err)
		}
		return nil
	})
}

func scanRealtimeApp(row interface{ Scan(...any) error }) (*store.RealtimeApp, error) {
	var a store.RealtimeApp
	var prevExpires, created, updated int64
	var events string
	if err := row.Scan(&a.ID, &a.AccountID, &a.Name, &a.Key, &a.Secret, &a.PreviousSecret, &prevExpires, &a.Enabled,
		&a.MaxConnections, &a.MaxMessagesPerDay, &a.WebhookURL, &events, &a.ClientEventRate, &created, &updated,
		&a.SubscriptionCount); err != nil {
		return nil, err
	}
	a.PreviousSecretExpiresAt, a.CreatedAt, a.UpdatedAt = fromMicros(prevExpires), fromMicros(created), fromMicros(updated)
	if events != "" {
		a.WebhookEvents = strings.Split(events, ",")
	}
	return &a, nil
}

// openRealtimeApp decrypts an app's secrets (outside the query that read
// it: opening may read data keys).
func (s *Store) openRealtimeApp(ctx context.Context, a *store.RealtimeApp) error {
	if err := s.open(ctx, realtimeSecretColumn, a.ID, &a.Secret); err != nil {
		return err
	}
	return s.open(ctx, realtimePrevColumn, a.ID, &a.PreviousSecret)
}

// realtimeApp reads one app by a condition on constant column names.
func (s *Store) realtimeApp(ctx context.Context, where string, args ...any) (*store.RealtimeApp, error) {
	a, err := scanRealtimeApp(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+realtimeAppColumns+` FROM realtime_apps WHERE `+where), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading realtime app: %w", err)
	}
	if err := s.openRealtimeApp(ctx, a); err != nil {
		return nil, err
	}
	return a, nil
}

// GetRealtimeApp reads one of an account's apps.
func (s *Store) GetRealtimeApp(ctx context.Context, accountID, id string) (*store.RealtimeApp, error) {
	return s.realtimeApp(ctx, `account_id = ? AND id = ?`, accountID, id)
}

// RealtimeAppByID finds an app by its id.
func (s *Store) RealtimeAppByID(ctx context.Context, id string) (*store.RealtimeApp, error) {
	return s.realtimeApp(ctx, `id = ?`, id)
}

// RealtimeAppByKey finds an app by its key.
func (s *Store) RealtimeAppByKey(ctx context.Context, key string) (*store.RealtimeApp, error) {
	return s.realtimeApp(ctx, `app_key = ?`, key)
}

// ListRealtimeApps lists an account's apps (every app for ""), oldest first.
func (s *Store) ListRealtimeApps(ctx context.Context, accountID string) ([]*store.RealtimeApp, error) {
	q, args := `SELECT `+realtimeAppColumns+` FROM realtime_apps ORDER BY created_at, id`, []any(nil)
	if accountID != "" {
		q, args = `SELECT `+realtimeAppColumns+` FROM realtime_apps WHERE account_id = ? ORDER BY created_at, id`, []any{accountID}
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing realtime apps: %w", err)
	}
	defer rows.Close()
	var out []*store.RealtimeApp
	for rows.Next() {
		a, err := scanRealtimeApp(rows)
		if err != nil {
			return nil, fmt.Errorf("listing realtime apps: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing realtime apps: %w", err)
	}
	rows.Close()
	for _, a := range out {
		if err := s.openRealtimeApp(ctx, a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateRealtimeApp changes an app's settings, not its credentials.
func (s *Store) UpdateRealtimeApp(ctx context.Context, a *store.RealtimeApp) error {
	a.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE realtime_apps SET name = ?, enabled = ?, max_connections = ?,
		max_messages_day = ?, webhook_url = ?, webhook_events = ?, client_event_rate = ?, updated_at = ?,
		subscription_count = ? WHERE account_id = ? AND id = ?`),
		a.Name, a.Enabled, a.MaxConnections, a.MaxMessagesPerDay, a.WebhookURL, strings.Join(a.WebhookEvents, ","),
		a.ClientEventRate, micros(a.UpdatedAt), a.SubscriptionCount, a.AccountID, a.ID)
	if err != nil {
		return fmt.Errorf("updating realtime app: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("updating realtime app: %w", err)
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RotateRealtimeSecret replaces an app's secret, keeping the old one valid
// until previousUntil.
func (s *Store) RotateRealtimeSecret(ctx context.Context, accountID, id, secret string, previousUntil time.Time) (*store.RealtimeApp, error) {
	// secret and previous_secret share their associated data, so the
	// current secret moves to previous_secret as it is stored.
	secret, err := s.seal(ctx, realtimeSecretColumn, id, secret)
	if err != nil {
		return nil, err
	}
	var out *store.RealtimeApp
	err = s.inTx(ctx, "rotating realtime secret", func(tx *sql.Tx) error {
		now := time.Now().UTC()
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE realtime_apps SET previous_secret = secret, previous_expires_at = ?,
			secret = ?, updated_at = ? WHERE account_id = ? AND id = ?`),
			micros(previousUntil), secret, micros(now), accountID, id)
		if err != nil {
			return fmt.Errorf("rotating realtime secret: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("rotating realtime secret: %w", err)
		} else if n == 0 {
			return store.ErrNotFound
		}
		out, err = scanRealtimeApp(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+realtimeAppColumns+` FROM realtime_apps WHERE id = ?`), id))
		if err != nil {
			return fmt.Errorf("rotating realtime secret: reading back: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.openRealtimeApp(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRealtimeApp removes an app, its usage counts, alerts and errors.
func (s *Store) DeleteRealtimeApp(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "deleting realtime app", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM realtime_apps WHERE account_id = ? AND id = ?`), accountID, id)
		if err != nil {
			return fmt.Errorf("deleting realtime app: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("deleting realtime app: %w", err)
		} else if n == 0 {
			return store.ErrNotFound
		}
		for _, table := range []string{"realtime_usage", "realtime_alerts", "realtime_errors"} {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM `+table+` WHERE app_id = ?`), id); err != nil {
				return fmt.Errorf("deleting realtime app's %s: %w", table, err)
			}
		}
		// The app is also a Beams instance (push.go): its devices, interests,
		// publishes and quota go with it.
		for _, table := range []string{"push_devices", "push_interests", "push_publishes", "push_quotas", "push_usage", "push_alerts",
			"push_apns_credentials", "push_fcm_credentials"} {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM `+table+` WHERE instance_id = ?`), id); err != nil {
				return fmt.Errorf("deleting realtime app's %s: %w", table, err)
			}
		}
		return nil
	})
}

// utcDay names the UTC day of t as the usage tables store it.
func utcDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// AddRealtimeMessages adds to an app's message count for a day and returns
// the new total.
func (s *Store) AddRealtimeMessages(ctx context.Context, appID string, at time.Time, n int64) (int64, error) {
	var total int64
	err := s.w.QueryRowContext(ctx, s.d.rebind(`INSERT INTO realtime_usage (app_id, day, messages) VALUES (?, ?, ?)
		ON CONFLICT (app_id, day) DO UPDATE SET messages = realtime_usage.messages + excluded.messages
		RETURNING messages`), appID, utcDay(at), n).Scan(&total)
	if err != nil {
		return 0, fmt.Errorf("adding realtime messages: %w", err)
	}
	return total, nil
}

// MarkRealtimeAlert records an alert once per app, day, limit and threshold.
func (s *Store) MarkRealtimeAlert(ctx context.Context, appID, limit string, threshold int, at time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO realtime_alerts (app_id, day, limit_name, threshold) VALUES (?, ?, ?, ?)
		ON CONFLICT (app_id, day, limit_name, threshold) DO NOTHING`), appID, utcDay(at), limit, threshold)
	if err != nil {
		return false, fmt.Errorf("marking realtime alert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("marking realtime alert: %w", err)
	}
	return n == 1, nil
}

// PurgeRealtimeUsage drops counts and alert records of days before before's.
func (s *Store) PurgeRealtimeUsage(ctx context.Context, before time.Time) (int, error) {
	total := 0
	err := s.inTx(ctx, "purging realtime usage", func(tx *sql.Tx) error {
		for _, table := range []string{"realtime_usage", "realtime_alerts"} {
			// Days are 'YYYY-MM-DD', so text order is time order.
			res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM `+table+` WHERE day < ?`), utcDay(before))
			if err != nil {
				return fmt.Errorf("purging %s: %w", table, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("purging %s: %w", table, err)
			}
			total += int(n)
		}
		return nil
	})
	return total, err
}

// AddRealtimeErrors stores errors and trims each app's log to the newest
// store.RealtimeErrorsPerApp.
func (s *Store) AddRealtimeErrors(ctx context.Context, errs []store.RealtimeError) error {
	if len(errs) == 0 {
		return nil
	}
	return s.inTx(ctx, "adding realtime errors", func(tx *sql.Tx) error {
		apps := map[string]bool{}
		for _, e := range errs {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO realtime_errors (account_id, app_id, code, message, ip, at)
				VALUES (?, ?, ?, ?, ?, ?)`), e.AccountID, e.AppID, e.Code, e.Message, e.IP, micros(e.At)); err != nil {
				return fmt.Errorf("adding realtime error: %w", err)
			}
			apps[e.AppID] = true
		}
		for app := range apps {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM realtime_errors WHERE app_id = ? AND id NOT IN
				(SELECT id FROM realtime_errors WHERE app_id = ? ORDER BY at DESC, id DESC LIMIT ?)`),
				app, app, store.RealtimeErrorsPerApp); err != nil {
				return fmt.Errorf("trimming realtime errors: %w", err)
			}
		}
		return nil
	})
}

// ListRealtimeErrors lists an app's errors, newest first.
func (s *Store) ListRealtimeErrors(ctx context.Context, accountID, appID string) ([]store.RealtimeError, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, account_id, app_id, code, message, ip, at FROM realtime_errors
		WHERE account_id = ? AND app_id = ? ORDER BY at DESC, id DESC`), accountID, appID)
	if err != nil {
		return nil, fmt.Errorf("listing realtime errors: %w", err)
	}
	defer rows.Close()
	var out []store.RealtimeError
	for rows.Next() {
		var e store.RealtimeError
		var at int64
		if err := rows.Scan(&e.ID, &e.AccountID, &e.AppID, &e.Code, &e.Message, &e.IP, &at); err != nil {
			return nil, fmt.Errorf("listing realtime errors: %w", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing realtime errors: %w", err)
	}
	return out, nil
}

// PurgeRealtimeErrors deletes errors from before the time.
func (s *Store) PurgeRealtimeErrors(ctx context.Context, before time.Time) (int, error) {
	return s.purge(ctx, "realtime errors", `DELETE FROM realtime_errors WHERE at < ?`, before)
}
