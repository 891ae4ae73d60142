package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/store"
)

const twilioNumberColumns = `number, account_id, sid, friendly_name, sms_url, sms_method, status_callback, created_at, updated_at`

func scanTwilioNumber(sc interface{ Scan(...any) error }) (*store.TwilioNumber, error) {
	var n store.TwilioNumber
	var created, updated int64
	if err := sc.Scan(&n.Number, &n.AccountID, &n.SID, &n.FriendlyName, &n.SMSURL, &n.SMSMethod, &n.StatusCallback, &created, &updated); err != nil {
		return nil, err
	}
	n.CreatedAt, n.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &n, nil
}

// PutTwilioNumber creates or replaces the Twilio settings of a number.
func (s *Store) PutTwilioNumber(ctx context.Context, n *store.TwilioNumber) error {
	return s.inTx(ctx, "storing Twilio number", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM twilio_numbers WHERE number = ?`), n.Number); err != nil {
			return fmt.Errorf("storing Twilio number: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO twilio_numbers (`+twilioNumberColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			n.Number, n.AccountID, n.SID, n.FriendlyName, n.SMSURL, n.SMSMethod, n.StatusCallback, micros(n.CreatedAt), micros(n.UpdatedAt))
		if err != nil {
			return fmt.Errorf("storing Twilio number: %w", err)
		}
		return nil
	})
}

// TwilioNumber reads a number's Twilio settings.
func (s *Store) TwilioNumber(ctx context.Context, number string) (*store.TwilioNumber, error) {
	n, err := scanTwilioNumber(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+twilioNumberColumns+` FROM twilio_numbers WHERE number = ?`), number))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading Twilio number: %w", err)
	}
	return n, nil
}

// ListTwilioNumbers lists the Twilio settings of an account's numbers.
func (s *Store) ListTwilioNumbers(ctx context.Context, accountID string) ([]store.TwilioNumber, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+twilioNumberColumns+` FROM twilio_numbers WHERE account_id = ? ORDER BY number`), accountID)
	if err != nil {
		return nil, fmt.Errorf("listing Twilio numbers: %w", err)
	}
	defer rows.Close()
	var out []store.TwilioNumber
	for rows.Next() {
		n, err := scanTwilioNumber(rows)
		if err != nil {
			return nil, fmt.Errorf("listing Twilio numbers: %w", err)
		}
		out = append(out, *n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing Twilio numbers: %w", err)
	}
	return out, nil
}

const twilioServiceColumns = `sid, account_id, friendly_name, inbound_url, inbound_method, status_callback, sticky_sender, created_at, updated_at`

func scanTwilioService(sc interface{ Scan(...any) error }) (*store.TwilioService, error) {
	var v store.TwilioService
	var created, updated int64
	if err := sc.Scan(&v.SID, &v.AccountID, &v.FriendlyName, &v.InboundURL, &v.InboundMethod, &v.StatusCallback, &v.StickySender, &created, &updated); err != nil {
		return nil, err
	}
	v.CreatedAt, v.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &v, nil
}

// PutTwilioService creates or replaces a Messaging Service.
func (s *Store) PutTwilioService(ctx context.Context, v *store.TwilioService) error {
	return s.inTx(ctx, "storing Messaging Service", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), v.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("storing Messaging Service: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM twilio_services WHERE sid = ? AND account_id = ?`), v.SID, v.AccountID); err != nil {
			return fmt.Errorf("storing Messaging Service: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO twilio_services (`+twilioServiceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			v.SID, v.AccountID, v.FriendlyName, v.InboundURL, v.InboundMethod, v.StatusCallback, v.StickySender, micros(v.CreatedAt), micros(v.UpdatedAt))
		if err != nil {
			return fmt.Errorf("storing Messaging Service: %w", err)
		}
		return nil
	})
}

// TwilioService reads an account's Messaging Service.
func (s *Store) TwilioService(ctx context.Context, accountID, sid string) (*store.TwilioService, error) {
	v, err := scanTwilioService(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+twilioServiceColumns+` FROM twilio_services WHERE sid = ? AND account_id = ?`), sid, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading Messaging Service: %w", err)
	}
	return v, nil
}

// ListTwilioServices lists an account's Messaging Services.
func (s *Store) ListTwilioServices(ctx context.Context, accountID string) ([]store.TwilioService, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+twilioServiceColumns+` FROM twilio_services WHERE account_id = ? ORDER BY created_at, sid`), accountID)
	if err != nil {
		return nil, fmt.Errorf("listing Messaging Services: %w", err)
	}
	defer rows.Close()
	var out []store.TwilioService
	for rows.Next() {
		v, err := scanTwilioService(rows)
		if err != nil {
			return nil, fmt.Errorf("listing Messaging Services: %w", err)
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing Messaging Services: %w", err)
	}
	return out, nil
}

// DeleteTwilioService deletes a Messaging Service and its sender pool.
func (s *Store) DeleteTwilioService(ctx context.Context, accountID, sid string) error {
	return s.inTx(ctx, "deleting Messaging Service", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM twilio_services WHERE sid = ? AND account_id = ?`), sid, accountID)
		if err != nil {
			return fmt.Errorf("deleting Messaging Service: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM twilio_service_senders WHERE service_sid = ?`), sid); err != nil {
			return fmt.Errorf("deleting Messaging Service: %w", err)
		}
		return nil
	})
}

// AddTwilioSender adds a sender to a Messaging Service's pool.
func (s *Store) AddTwilioSender(ctx context.Context, v *store.TwilioSender) error {
	return s.inTx(ctx, "adding sender", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM twilio_services WHERE sid = ? AND account_id = ?`), v.ServiceSID, v.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("adding sender: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM twilio_service_senders WHERE service_sid = ? AND (sid = ? OR sender = ?)`),
			v.ServiceSID, v.SID, v.Sender).Scan(&n); err != nil {
			return fmt.Errorf("adding sender: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO twilio_service_senders (service_sid, sid, account_id, kind, sender, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			v.ServiceSID, v.SID, v.AccountID, v.Kind, v.Sender, micros(v.CreatedAt))
		if err != nil {
			return fmt.Errorf("adding sender: %w", err)
		}
		return nil
	})
}

// RemoveTwilioSender removes a sender from a Messaging Service's pool.
func (s *Store) RemoveTwilioSender(ctx context.Context, accountID, serviceSID, sid string) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM twilio_service_senders WHERE service_sid = ? AND sid = ? AND account_id = ?`), serviceSID, sid, accountID)
	if err != nil {
		return fmt.Errorf("removing sender: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListTwilioSenders lists a Messaging Service's senders.
func (s *Store) ListTwilioSenders(ctx context.Context, accountID, serviceSID, kind string) ([]store.TwilioSender, error) {
	q := `SELECT service_sid, sid, account_id, kind, sender, created_at FROM twilio_service_senders WHERE service_sid = ? AND account_id = ?`
	args := []any{serviceSID, accountID}
	if kind != "" {
		q += ` AND kind = ?`
		args = append(args, kind)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q+` ORDER BY created_at, sid`), args...)
	if err != nil {
		return nil, fmt.Errorf("listing senders: %w", err)
	}
	defer rows.Close()
	var out []store.TwilioSender
	for rows.Next() {
		var v store.TwilioSender
		var created int64
		if err := rows.Scan(&v.ServiceSID, &v.SID, &v.AccountID, &v.Kind, &v.Sender, &created); err != nil {
			return nil, fmt.Errorf("listing senders: %w", err)
		}
		v.CreatedAt = fromMicros(created)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing senders: %w", err)
	}
	return out, nil
}
