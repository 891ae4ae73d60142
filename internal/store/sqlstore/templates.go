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

// PutTemplate creates or replaces a template and its variants in one
// transaction.
func (s *Store) PutTemplate(ctx context.Context, t *store.Template) (bool, error) {
	vars, err := json.Marshal(t.Variables)
	if err != nil {
		return false, fmt.Errorf("saving template: %w", err)
	}
	if t.Variables == nil {
		vars = []byte("{}")
	}
	now := time.Now().UTC()
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = now
	}
	created := false
	err = s.inTx(ctx, "saving template", func(tx *sql.Tx) error {
		var at int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT created_at FROM templates WHERE account_id = ? AND name = ?`), t.AccountID, t.Name).Scan(&at)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			if t.CreatedAt.IsZero() {
				t.CreatedAt = t.UpdatedAt
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO templates (account_id, name, default_language, variables, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`), t.AccountID, t.Name, t.DefaultLanguage, string(vars), micros(t.CreatedAt), micros(t.UpdatedAt)); err != nil {
				return fmt.Errorf("saving template: %w", err)
			}
		case err != nil:
			return fmt.Errorf("saving template: %w", err)
		default:
			created = false
			t.CreatedAt = fromMicros(at)
			if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE templates SET default_language = ?, variables = ?, updated_at = ?
				WHERE account_id = ? AND name = ?`), t.DefaultLanguage, string(vars), micros(t.UpdatedAt), t.AccountID, t.Name); err != nil {
				return fmt.Errorf("saving template: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM template_variants WHERE account_id = ? AND name = ?`), t.AccountID, t.Name); err != nil {
				return fmt.Errorf("saving template: %w", err)
			}
		}
		for _, v := range t.Variants {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO template_variants (account_id, name, language, subject, text_body, html_body)
				VALUES (?, ?, ?, ?, ?, ?)`), t.AccountID, t.Name, v.Language, v.Subject, v.Text, v.HTML); err != nil {
				return fmt.Errorf("saving template variant %s: %w", v.Language, err)
			}
		}
		return nil
	})
	return created, err
}

// GetTemplate reads a template with its variants.
func (s *Store) GetTemplate(ctx context.Context, accountID, name string) (*store.Template, error) {
	t := &store.Template{AccountID: accountID, Name: name}
	var vars string
	var created, updated int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT default_language, variables, created_at, updated_at FROM templates WHERE account_id = ? AND name = ?`),
		accountID, name).Scan(&t.DefaultLanguage, &vars, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading template: %w", err)
	}
	if err := json.Unmarshal([]byte(vars), &t.Variables); err != nil {
		return nil, fmt.Errorf("reading template %s's variables: %w", name, err)
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT language, subject, text_body, html_body FROM template_variants
		WHERE account_id = ? AND name = ? ORDER BY language`), accountID, name)
	if err != nil {
		return nil, fmt.Errorf("reading template: %w", err)
	}
	defer rows.Close()
	t.Variants = []store.TemplateVariant{}
	for rows.Next() {
		var v store.TemplateVariant
		if err := rows.Scan(&v.Language, &v.Subject, &v.Text, &v.HTML); err != nil {
			return nil, fmt.Errorf("reading template: %w", err)
		}
		t.Variants = append(t.Variants, v)
	}
	return t, rows.Err()
}

// ListTemplates lists templates by name with their variants' languages
// and subjects.
func (s *Store) ListTemplates(ctx context.Context, accountID string, limit, offset int) ([]store.Template, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT name, default_language, variables, created_at, updated_at FROM templates
		WHERE account_id = ? ORDER BY name LIMIT ? OFFSET ?`), accountID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	out := []store.Template{}
	index := map[string]int{}
	for rows.Next() {
		t := store.Template{AccountID: accountID, Variants: []store.TemplateVariant{}}
		var vars string
		var created, updated int64
		if err := rows.Scan(&t.Name, &t.DefaultLanguage, &vars, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing templates: %w", err)
		}
		json.Unmarshal([]byte(vars), &t.Variables)
		t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
		index[t.Name] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	names := make([]string, len(out))
	for i, t := range out {
		names[i] = t.Name
	}
	vrows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT name, language, subject FROM template_variants WHERE account_id = ? AND name IN (`+
		placeholders(len(names))+`) ORDER BY name, language`), append([]any{accountID}, strings2any(names)...)...)
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	defer vrows.Close()
	for vrows.Next() {
		var name string
		var v store.TemplateVariant
		if err := vrows.Scan(&name, &v.Language, &v.Subject); err != nil {
			return nil, fmt.Errorf("listing templates: %w", err)
		}
		i := index[name]
		out[i].Variants = append(out[i].Variants, v)
	}
	return out, vrows.Err()
}

// DeleteTemplate deletes a template and its variants.
func (s *Store) DeleteTemplate(ctx context.Context, accountID, name string) error {
	return s.inTx(ctx, "deleting template", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM templates WHERE account_id = ? AND name = ?`), accountID, name)
		if err != nil {
			return fmt.Errorf("deleting template: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM template_variants WHERE account_id = ? AND name = ?`), accountID, name); err != nil {
			return fmt.Errorf("deleting template: %w", err)
		}
		return nil
	})
}
