package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

var _ store.Push = (*Store)(nil)

const pushDeviceColumns = `instance_id, id, account_id, platform, token, user_id, metadata, created_at, updated_at`

// PutPushDevice registers a device or replaces its token and metadata.
func (s *Store) PutPushDevice(ctx context.Context, d *store.PushDevice) error {
	return s.inTx(ctx, "registering push device", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE push_devices SET token = ?, metadata = ?, updated_at = ?
			WHERE instance_id = ? AND id = ?`), d.Token, d.Metadata, micros(d.UpdatedAt), d.InstanceID, d.ID)
		if err != nil {
			return fmt.Errorf("registering push device: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO push_devices (`+pushDeviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			d.InstanceID, d.ID, d.AccountID, d.Platform, d.Token, d.UserID, d.Metadata, micros(d.CreatedAt), micros(d.UpdatedAt)); err != nil {
			return fmt.Errorf("registering push device: %w", err)
		}
		return nil
	})
}

func scanPushDevice(row interface{ Scan(...any) error }) (*store.PushDevice, error) {
	var d store.PushDevice
	var created, updated int64
	if err := row.Scan(&d.InstanceID, &d.ID, &d.AccountID, &d.Platform, &d.Token, &d.UserID, &d.Metadata, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// GetPushDevice reads one device.
func (s *Store) GetPushDevice(ctx context.Context, instanceID, id string) (*store.PushDevice, error) {
	d, err := scanPushDevice(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+pushDeviceColumns+` FROM push_devices WHERE instance_id = ? AND id = ?`), instanceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading push device: %w", err)
	}
	return d, nil
}

// DeletePushDevice removes a device and its interests.
func (s *Store) DeletePushDevice(ctx context.Context, instanceID, id string) error {
	return s.inTx(ctx, "deleting push device", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM push_devices WHERE instance_id = ? AND id = ?`), instanceID, id)
		if err != nil {
			return fmt.Errorf("deleting push device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM push_interests WHERE instance_id = ? AND device_id = ?`), instanceID, id); err != nil {
			return fmt.Errorf("deleting push device: %w", err)
		}
		return nil
	})
}

// SetPushUser binds a device to a user.
func (s *Store) SetPushUser(ctx context.Context, instanceID, id, userID string) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE push_devices SET user_id = ?, updated_at = ? WHERE instance_id = ? AND id = ?`),
		userID, micros(time.Now()), instanceID, id)
	if err != nil {
		return fmt.Errorf("setting push user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeletePushUser removes every device of a user.
func (s *Store) DeletePushUser(ctx context.Context, instanceID, userID string) (int, error) {
	var n int64
	err := s.inTx(ctx, "deleting push user", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM push_interests WHERE instance_id = ? AND device_id IN
			(SELECT id FROM push_devices WHERE instance_id = ? AND user_id = ?)`), instanceID, instanceID, userID); err != nil {
			return fmt.Errorf("deleting push user: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM push_devices WHERE instance_id = ? AND user_id = ?`), instanceID, userID)
		if err != nil {
			return fmt.Errorf("deleting push user: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// deviceExists says whether the instance has the device, inside tx.
func (s *Store) pushDeviceExists(ctx context.Context, tx *sql.Tx, instanceID, id string) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM push_devices WHERE instance_id = ? AND id = ?`), instanceID, id).Scan(&n); err != nil {
		return fmt.Errorf("reading push device: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// SetPushInterests replaces a device's interests.
func (s *Store) SetPushInterests(ctx context.Context, instanceID, id string, interests []string) error {
	return s.inTx(ctx, "setting push interests", func(tx *sql.Tx) error {
		if err := s.pushDeviceExists(ctx, tx, instanceID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM push_interests WHERE instance_id = ? AND device_id = ?`), instanceID, id); err != nil {
			return fmt.Errorf("setting push interests: %w", err)
		}
		seen := map[string]bool{}
		for _, in := range interests {
			if seen[in] {
				continue
			}
			seen[in] = true
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO push_interests (instance_id, interest, device_id) VALUES (?, ?, ?)`), instanceID, in, id); err != nil {
				return fmt.Errorf("setting push interests: %w", err)
			}
		}
		return nil
	})
}

// AddPushInterest subscribes a device to an interest.
func (s *Store) AddPushInterest(ctx context.Context, instanceID, id, interest string) error {
	return s.inTx(ctx, "adding push interest", func(tx *sql.Tx) error {
		if err := s.pushDeviceExists(ctx, tx, instanceID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO push_interests (instance_id, interest, device_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
			instanceID, interest, id); err != nil {
			return fmt.Errorf("adding push interest: %w", err)
		}
		return nil
	})
}

// RemovePushInterest unsubscribes a device from an interest.
func (s *Store) RemovePushInterest(ctx context.Context, instanceID, id, interest string) error {
	return s.inTx(ctx, "removing push interest", func(tx *sql.Tx) error {
		if err := s.pushDeviceExists(ctx, tx, instanceID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM push_interests WHERE instance_id = ? AND device_id = ? AND interest = ?`),
			instanceID, id, interest); err != nil {
			return fmt.Errorf("removing push interest: %w", err)
		}
		return nil
	})
}

// PushInterests lists a device's interests.
func (s *Store) PushInterests(ctx context.Context, instanceID, id string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT interest FROM push_interests WHERE instance_id = ? AND device_id = ? ORDER BY interest`), instanceID, id)
	if err != nil {
		return nil, fmt.Errorf("listing push interests: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var in string
		if err := rows.Scan(&in); err != nil {
			return nil, fmt.Errorf("listing push interests: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// pushMonth is the usage period of a time: its UTC month.
func pushMonth(t time.Time) string { return t.UTC().Format("2006-01") }

// pushFanoutBatch is the default bound of delivery jobs per transaction.
const pushFanoutBatch = 1000

// pushDevicesAfter reads, inside tx, up to limit devices a publish to
// target (interests or users) reaches with ids after the cursor, in id
// order, with their users. For interests the batch is read from the
// interests' primary key (instance, interest, device id) alone, so a
// batch of a large interest is an index range of limit rows, whatever
// the cursor; its devices are then looked up by key (a device whose
// interest row outlived it is not live and gets no job, but still moves
// the cursor).
func (s *Store) pushDevicesAfter(ctx context.Context, tx *sql.Tx, instanceID, target string, targets []string, after string, limit int) (ids, users []string, live []bool, err error) {
	q := `SELECT id, user_id, 1 FROM push_devices WHERE instance_id = ? AND user_id IN (` + placeholders(len(targets)) + `) AND id > ? ORDER BY id LIMIT ?`
	if target == "interests" {
		q = `SELECT x.device_id, COALESCE(d.user_id, ''), CASE WHEN d.id IS NULL THEN 0 ELSE 1 END FROM (SELECT DISTINCT device_id FROM push_interests
			WHERE instance_id = ? AND interest IN (` + placeholders(len(targets)) + `) AND device_id > ? ORDER BY device_id LIMIT ?) x
			LEFT JOIN push_devices d ON d.instance_id = ? AND d.id = x.device_id ORDER BY x.device_id`
	}
	args := make([]any, 0, len(targets)+4)
	args = append(args, instanceID)
	for _, t := range targets {
		args = append(args, t)
	}
	args = append(args, after, limit)
	if target == "interests" {
		args = append(args, instanceID)
	}
	rows, err := tx.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the publish's devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, user string
		var found int
		if err := rows.Scan(&id, &user, &found); err != nil {
			return nil, nil, nil, fmt.Errorf("reading the publish's devices: %w", err)
		}
		ids, users, live = append(ids, id), append(users, user), append(live, found == 1)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("reading the publish's devices: %w", err)
	}
	return ids, users, live, nil
}

// queuePushBatch reads the next batch of a publish's devices after the
// cursor and queues a delivery job for each one not suppressed, inside
// tx. It returns how many it queued and the new cursor ("" when no device
// is left).
func (s *Store) queuePushBatch(ctx context.Context, tx *sql.Tx, p *store.PushPublish, after string, batch int) (int, string, error) {
	if batch <= 0 {
		batch = pushFanoutBatch
	}
	ids, users, live, err := s.pushDevicesAfter(ctx, tx, p.InstanceID, p.Target, p.Targets, after, batch+1)
	if err != nil {
		return 0, "", err
	}
	next := ""
	if len(ids) > batch {
		ids, users = ids[:batch], users[:batch]
		next = ids[batch-1]
	}
	jobs := make([]*store.Job, 0, len(ids))
	for i, d := range ids {
		if !live[i] || p.Suppressed[d] || (users[i] != "" && p.Suppressed[users[i]]) {
			continue // gone, or suppressed
		}
		payload, _ := json.Marshal(store.PushJob{Instance: p.InstanceID, Publish: p.ID, Device: d})
		jobs = append(jobs, &store.Job{Kind: store.JobPush, AccountID: p.AccountID, Payload: payload, RunAt: p.CreatedAt, CreatedAt: p.CreatedAt})
	}
	if err := s.addJobs(ctx, tx, jobs); err != nil {
		return 0, "", err
	}
	return len(jobs), next, nil
}

// PublishPush stores a publish with its delivery jobs: all of them, or
// the first batch and a fan-out job for the rest.
func (s *Store) PublishPush(ctx context.Context, p *store.PushPublish, alert store.PushAlertJob) error {
	targets, err := json.Marshal(p.Targets)
	if err != nil {
		return fmt.Errorf("publishing push: %w", err)
	}
	month := pushMonth(p.CreatedAt)
	refused := false
	err = s.inTx(ctx, "publishing push", func(tx *sql.Tx) error {
		var max int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT max_publishes_month FROM push_quotas WHERE instance_id = ?`), p.InstanceID).Scan(&max)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("publishing push: quota: %w", err)
		}
		var used int64
		err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT publishes FROM push_usage WHERE instance_id = ? AND month = ?`), p.InstanceID, month).Scan(&used)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("publishing push: usage: %w", err)
		}
		if max > 0 && used >= max {
			// Refused. A quota lowered below the month's use has not
			// sent its notices yet: they go now, and only they are
			// committed.
			refused = true
			return s.pushAlerts(ctx, tx, p.InstanceID, month, used, max, alert)
		}
		n, next, err := s.queuePushBatch(ctx, tx, p, "", p.Batch)
		if err != nil {
			return fmt.Errorf("publishing push: %w", err)
		}
		p.Deliveries, p.FanOut = n, next != ""
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO push_publishes (instance_id, id, account_id, target, targets, body, deliveries, created_at, fanout_after)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), p.InstanceID, p.ID, p.AccountID, p.Target, string(targets), string(p.Body), n, micros(p.CreatedAt), next); err != nil {
			return fmt.Errorf("publishing push: %w", err)
		}
		if p.FanOut {
			payload, _ := json.Marshal(store.PushJob{Instance: p.InstanceID, Publish: p.ID})
			if err := s.addJobs(ctx, tx, []*store.Job{{Kind: store.JobPushFanout, AccountID: p.AccountID, Payload: payload, RunAt: p.CreatedAt, CreatedAt: p.CreatedAt}}); err != nil {
				return fmt.Errorf("publishing push: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO push_usage (instance_id, month, publishes) VALUES (?, ?, 1)
			ON CONFLICT (instance_id, month) DO UPDATE SET publishes = push_usage.publishes + 1`), p.InstanceID, month); err != nil {
			return fmt.Errorf("publishing push: usage: %w", err)
		}
		return s.pushAlerts(ctx, tx, p.InstanceID, month, used+1, max, alert)
	})
	if err == nil && refused {
		return store.ErrPushQuota
	}
	return err
}

// pushAlerts stores, inside tx, the notice of each threshold (80 and 100
// %) that used publishes of max reach and that the month has not had.
func (s *Store) pushAlerts(ctx context.Context, tx *sql.Tx, instanceID, month string, used, max int64, alert store.PushAlertJob) error {
	if max <= 0 || alert == nil {
		return nil
	}
	for _, th := range []int{80, 100} {
		if used*100 < int64(th)*max {
			continue
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO push_alerts (instance_id, month, threshold) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
			instanceID, month, th)
		if err != nil {
			return fmt.Errorf("publishing push: alert: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if err := s.addJobs(ctx, tx, []*store.Job{alert(th, used, max)}); err != nil {
			return fmt.Errorf("publishing push: alert: %w", err)
		}
	}
	return nil
}

// FanOutPush queues the next batch of a publish's delivery jobs. The
// cursor moves only if it still holds what this transaction read, so a
// second worker running the same fan-out (its lease expired) queues
// nothing twice: its transaction is rolled back.
func (s *Store) FanOutPush(ctx context.Context, instanceID, id string, suppressed map[string]bool, batch int) (int, bool, error) {
	var n int
	done := false
	err := s.inTx(ctx, "fanning out push", func(tx *sql.Tx) error {
		p := store.PushPublish{InstanceID: instanceID, ID: id, Suppressed: suppressed}
		var targets, after string
		var created int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT account_id, target, targets, created_at, fanout_after FROM push_publishes
			WHERE instance_id = ? AND id = ?`), instanceID, id).Scan(&p.AccountID, &p.Target, &targets, &created, &after)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && after == "") {
			done = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("fanning out push: %w", err)
		}
		if err := json.Unmarshal([]byte(targets), &p.Targets); err != nil {
			return fmt.Errorf("fanning out push: %w", err)
		}
		p.CreatedAt = fromMicros(created)
		queued, next, err := s.queuePushBatch(ctx, tx, &p, after, batch)
		if err != nil {
			return fmt.Errorf("fanning out push: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE push_publishes SET fanout_after = ?, deliveries = deliveries + ?
			WHERE instance_id = ? AND id = ? AND fanout_after = ?`), next, queued, instanceID, id, after)
		if err != nil {
			return fmt.Errorf("fanning out push: %w", err)
		}
		if moved, _ := res.RowsAffected(); moved == 0 {
			return errFanOutMoved
		}
		n, done = queued, next == ""
		return nil
	})
	if errors.Is(err, errFanOutMoved) {
		return 0, false, nil // another worker queued this batch: look again
	}
	return n, done, err
}

// errFanOutMoved rolls back a fan-out batch whose cursor another worker
// moved meanwhile.
var errFanOutMoved = errors.New("the publish's fan-out cursor moved")

// GetPushPublish reads a publish.
func (s *Store) GetPushPublish(ctx context.Context, instanceID, id string) (*store.PushPublish, error) {
	var p store.PushPublish
	var targets, body string
	var created int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT instance_id, id, account_id, target, targets, body, deliveries, created_at
		FROM push_publishes WHERE instance_id = ? AND id = ?`), instanceID, id).
		Scan(&p.InstanceID, &p.ID, &p.AccountID, &p.Target, &targets, &body, &p.Deliveries, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading push publish: %w", err)
	}
	if err := json.Unmarshal([]byte(targets), &p.Targets); err != nil {
		return nil, fmt.Errorf("reading push publish: %w", err)
	}
	p.Body, p.CreatedAt = []byte(body), fromMicros(created)
	return &p, nil
}

// SetPushQuota sets an instance's monthly publishes.
func (s *Store) SetPushQuota(ctx context.Context, instanceID string, maxPerMonth int64) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO push_quotas (instance_id, max_publishes_month) VALUES (?, ?)
		ON CONFLICT (instance_id) DO UPDATE SET max_publishes_month = excluded.max_publishes_month`), instanceID, maxPerMonth); err != nil {
		return fmt.Errorf("setting push quota: %w", err)
	}
	return nil
}

// PushQuota reads an instance's quota and the month's use.
func (s *Store) PushQuota(ctx context.Context, instanceID string, at time.Time) (max, used int64, err error) {
	err = s.r.QueryRowContext(ctx, s.d.rebind(`SELECT max_publishes_month FROM push_quotas WHERE instance_id = ?`), instanceID).Scan(&max)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("reading push quota: %w", err)
	}
	err = s.r.QueryRowContext(ctx, s.d.rebind(`SELECT publishes FROM push_usage WHERE instance_id = ? AND month = ?`), instanceID, pushMonth(at)).Scan(&used)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("reading push usage: %w", err)
	}
	return max, used, nil
}

// PurgePushPublishes deletes old publishes and old months' usage.
func (s *Store) PurgePushPublishes(ctx context.Context, before time.Time) (int, error) {
	n, err := s.purge(ctx, "push publishes", `DELETE FROM push_publishes WHERE created_at < ?`, before)
	if err != nil {
		return 0, err
	}
	month := pushMonth(before)
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM push_usage WHERE month < ?`), month); err != nil {
		return n, fmt.Errorf("purging push usage: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM push_alerts WHERE month < ?`), month); err != nil {
		return n, fmt.Errorf("purging push alerts: %w", err)
	}
	return n, nil
}
