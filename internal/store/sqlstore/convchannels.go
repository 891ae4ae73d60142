package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/store"
)

const convChannelColumns = `id, account_id, name, kind, sender, status, created_at, updated_at`

func scanConvChannel(sc interface{ Scan(...any) error }) (*store.ConvChannel, error) {
	c := &store.ConvChannel{}
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.AccountID, &c.Name, &c.Kind, &c.Sender, &c.Status, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// CreateConvChannel stores a new Conversations channel.
func (s *Store) CreateConvChannel(ctx context.Context, c *store.ConvChannel) error {
	stamp(&c.CreatedAt, &c.UpdatedAt)
	if c.Status == "" {
		c.Status = store.ChannelActive
	}
	return s.inTx(ctx, "creating channel", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM accounts WHERE id = ?`), c.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("creating channel: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO conversation_channels (`+convChannelColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			c.ID, c.AccountID, c.Name, c.Kind, c.Sender, c.Status, micros(c.CreatedAt), micros(c.UpdatedAt)); err != nil {
			return fmt.Errorf("creating channel: %w", err)
		}
		return nil
	})
}

// GetConvChannel reads one of an account's channels.
func (s *Store) GetConvChannel(ctx context.Context, accountID, id string) (*store.ConvChannel, error) {
	// Prepared: every POST /v1/send reads its channel.
	c, err := scanConvChannel(s.rQueryRow(ctx, `SELECT `+convChannelColumns+` FROM conversation_channels WHERE account_id = ? AND id = ?`,
		accountID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading channel: %w", err)
	}
	return c, nil
}

// ListConvChannels lists channels oldest first.
func (s *Store) ListConvChannels(ctx context.Context, accountID string, limit, offset int) ([]*store.ConvChannel, int, error) {
	where, args := `1 = 1`, []any{}
	if accountID != "" {
		where, args = `account_id = ?`, []any{accountID}
	}
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM conversation_channels WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting channels: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+convChannelColumns+` FROM conversation_channels WHERE `+where+
		` ORDER BY created_at, id LIMIT ? OFFSET ?`), append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing channels: %w", err)
	}
	defer rows.Close()
	out := []*store.ConvChannel{}
	for rows.Next() {
		c, err := scanConvChannel(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing channels: %w", err)
		}
		out = append(out, c)
	}
	return out, total, rows.Err()
}
