package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

var _ store.WATemplates = (*Store)(nil)

const waTemplateColumns = `id, account_id, channel_id, connector, waba_id, name, language, category, components, params, status,
	rejected_reason, provider_id, created_at, updated_at`

func scanWATemplate(sc interface{ Scan(...any) error }) (*store.WATemplate, error) {
	t := &store.WATemplate{}
	var created, updated int64
	if err := sc.Scan(&t.ID, &t.AccountID, &t.ChannelID, &t.Connector, &t.WABAID, &t.Name, &t.Language, &t.Category,
		&t.Components, &t.Params, &t.Status, &t.RejectedReason, &t.ProviderID, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return t, nil
}

// CreateWATemplate stores a template variant.
func (s *Store) CreateWATemplate(ctx context.Context, t *store.WATemplate) error {
	stamp(&t.CreatedAt, &t.UpdatedAt)
	return s.inTx(ctx, "creating whatsapp template", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM whatsapp_templates WHERE account_id = ? AND channel_id = ? AND name = ? AND language = ?`),
			t.AccountID, t.ChannelID, t.Name, t.Language).Scan(&n); err != nil {
			return fmt.Errorf("creating whatsapp template: %w", err)
		}
		if n > 0 {
			return store.ErrConflict
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO whatsapp_templates (`+waTemplateColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, t.AccountID, t.ChannelID, t.Connector, t.WABAID, t.Name, t.Language, t.Category, t.Components, t.Params, t.Status,
			t.RejectedReason, t.ProviderID, micros(t.CreatedAt), micros(t.UpdatedAt)); err != nil {
			return fmt.Errorf("creating whatsapp template: %w", err)
		}
		return nil
	})
}

// GetWATemplate reads one variant.
func (s *Store) GetWATemplate(ctx context.Context, accountID, channelID, name, language string) (*store.WATemplate, error) {
	t, err := scanWATemplate(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+waTemplateColumns+` FROM whatsapp_templates
		WHERE account_id = ? AND channel_id = ? AND name = ? AND language = ?`), accountID, channelID, name, language))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading whatsapp template: %w", err)
	}
	return t, nil
}

// ListWATemplates lists variants by name, language and channel.
func (s *Store) ListWATemplates(ctx context.Context, accountID, channelID, name string, limit, offset int) ([]*store.WATemplate, int, error) {
	where, args := `account_id = ?`, []any{accountID}
	if channelID != "" {
		where, args = where+` AND channel_id = ?`, append(args, channelID)
	}
	if name != "" {
		where, args = where+` AND name = ?`, append(args, name)
	}
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM whatsapp_templates WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting whatsapp templates: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+waTemplateColumns+` FROM whatsapp_templates WHERE `+where+
		` ORDER BY name, language, channel_id LIMIT ? OFFSET ?`), append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing whatsapp templates: %w", err)
	}
	defer rows.Close()
	out := []*store.WATemplate{}
	for rows.Next() {
		t, err := scanWATemplate(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("listing whatsapp templates: %w", err)
		}
		out = append(out, t)
	}
	return out, total, rows.Err()
}

// ReviewWATemplates applies the provider's review to the variants it is
// about (by provider id, else by name and language, of the business
// account) whose status or reason it changes.
func (s *Store) ReviewWATemplates(ctx context.Context, r store.TemplateReview) (int, error) {
	if r.WABAID == "" || (r.ProviderID == "" && (r.Name == "" || r.Language == "")) {
		return 0, nil
	}
	var n int64
	err := s.inTx(ctx, "reviewing whatsapp template", func(tx *sql.Tx) error {
		q, args := `provider_id = ?`, []any{r.ProviderID}
		if r.ProviderID == "" {
			q, args = `name = ? AND language = ?`, []any{r.Name, r.Language}
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE whatsapp_templates SET status = ?, rejected_reason = ?, updated_at = ?
			WHERE waba_id = ? AND (status <> ? OR rejected_reason <> ?) AND `+q), append([]any{r.Status, r.Reason, micros(time.Now()), r.WABAID, r.Status, r.Reason}, args...)...)
		if err != nil {
			return fmt.Errorf("reviewing whatsapp template: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// DeleteWATemplates deletes a template's variants.
func (s *Store) DeleteWATemplates(ctx context.Context, accountID, channelID, name, language string) (int, error) {
	q, args := `account_id = ? AND name = ?`, []any{accountID, name}
	if channelID != "" {
		q, args = q+` AND channel_id = ?`, append(args, channelID)
	}
	if language != "" {
		q, args = q+` AND language = ?`, append(args, language)
	}
	var n int64
	err := s.inTx(ctx, "deleting whatsapp templates", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM whatsapp_templates WHERE `+q), args...)
		if err != nil {
			return fmt.Errorf("deleting whatsapp templates: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	if err == nil && n == 0 {
		return 0, store.ErrNotFound
	}
	return int(n), err
}

// PartProviderIDs reads a message's parts' provider ids.
func (s *Store) PartProviderIDs(ctx context.Context, accountID, messageID string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT provider_id FROM recipient_parts WHERE message_id = ? AND account_id = ? AND provider_id <> ''
		ORDER BY seq, part`), messageID, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading provider ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("reading provider ids: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
