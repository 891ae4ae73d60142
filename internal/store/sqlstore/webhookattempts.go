package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/store"
)

const attemptColumns = `account_id, kind, message_id, webhook_id, event, payload, url, code, outcome, error, attempt, duration_ms, at`

// maxAttemptText bounds the error and URL an attempt keeps: a customer's
// server may answer at length; the log needs the gist.
const maxAttemptText = 1000

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// RecordWebhookAttempts logs attempts in their own transaction.
func (s *Store) RecordWebhookAttempts(ctx context.Context, as []*store.WebhookAttempt) error {
	if len(as) == 0 {
		return nil
	}
	return s.inTx(ctx, "logging webhook attempts", func(tx *sql.Tx) error { return s.insertAttempts(ctx, tx, as) })
}

// insertAttempts writes attempts in tx, as few statements as the
// placeholders allow.
func (s *Store) insertAttempts(ctx context.Context, tx *sql.Tx, as []*store.WebhookAttempt) error {
	if len(as) == 0 {
		return nil
	}
	args := make([]any, 0, len(as)*s.insertAttempt.cols)
	for _, a := range as {
		args = append(args, a.AccountID, a.Kind, a.MessageID, a.WebhookID, a.Event, a.Payload, clip(a.URL, maxAttemptText),
			a.Code, a.Outcome, clip(a.Error, maxAttemptText), a.Attempt, a.Duration.Milliseconds(), micros(a.At))
	}
	if err := s.insertAttempt.exec(ctx, tx, &s.d, args); err != nil {
		return fmt.Errorf("logging webhook attempts: %w", err)
	}
	return nil
}

// WebhookAttempts lists an account's attempts, newest first.
func (s *Store) WebhookAttempts(ctx context.Context, accountID string, f store.WebhookAttemptFilter) ([]*store.WebhookAttempt, error) {
	where, args := []string{"account_id = ?"}, []any{accountID}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.MessageID != "" {
		add("message_id = ?", f.MessageID)
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if f.Failed {
		add("outcome <> ?", store.AttemptOK)
	}
	if !f.From.IsZero() {
		add("at >= ?", micros(f.From))
	}
	if !f.Until.IsZero() {
		add("at < ?", micros(f.Until))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT id, `+attemptColumns+` FROM webhook_attempts WHERE `+
		strings.Join(where, " AND ")+` ORDER BY at DESC, id DESC LIMIT `+strconv.Itoa(limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("listing webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []*store.WebhookAttempt
	for rows.Next() {
		a, err := scanAttempt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetWebhookAttempt reads one of the account's attempts.
func (s *Store) GetWebhookAttempt(ctx context.Context, accountID string, id int64) (*store.WebhookAttempt, error) {
	a, err := scanAttempt(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT id, `+attemptColumns+` FROM webhook_attempts WHERE account_id = ? AND id = ?`), accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	return a, err
}

func scanAttempt(r interface{ Scan(...any) error }) (*store.WebhookAttempt, error) {
	var a store.WebhookAttempt
	var ms, at int64
	if err := r.Scan(&a.ID, &a.AccountID, &a.Kind, &a.MessageID, &a.WebhookID, &a.Event, &a.Payload, &a.URL, &a.Code, &a.Outcome,
		&a.Error, &a.Attempt, &ms, &at); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("reading a webhook attempt: %w", err)
	}
	a.Duration = time.Duration(ms) * time.Millisecond
	a.At = fromMicros(at)
	return &a, nil
}
