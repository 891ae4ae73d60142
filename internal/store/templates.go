package store

import (
	"context"
	"time"
)

// Template is a stored message template with a variant per language
// (internal/templates renders it; docs/templates.md).
type Template struct {
	AccountID       string `json:"-"`
	Name            string `json:"name"`
	DefaultLanguage string `json:"defaultLanguage"`
	// Variables are the declared variables and their defaults (null: none,
	// a send must give it).
	Variables map[string]*string `json:"variables"`
	Variants  []TemplateVariant  `json:"variants"`
	CreatedAt time.Time          `json:"createdDatetime"`
	UpdatedAt time.Time          `json:"updatedDatetime"`
}

// TemplateVariant is a template's content in one language. Subject is
// optional (channels without one ignore it).
type TemplateVariant struct {
	Language string `json:"language"`
	Subject  string `json:"subject,omitempty"`
	Text     string `json:"text,omitempty"`
	HTML     string `json:"html,omitempty"`
}

// Templates stores an account's templates.
type Templates interface {
	// PutTemplate creates or replaces a template (its variants all at
	// once); a replaced one keeps its creation time. It reports whether
	// the template is new.
	PutTemplate(ctx context.Context, t *Template) (bool, error)
	// GetTemplate reads one; ErrNotFound if there is none.
	GetTemplate(ctx context.Context, accountID, name string) (*Template, error)
	// ListTemplates lists an account's templates by name; their variants
	// carry their language and subject only.
	ListTemplates(ctx context.Context, accountID string, limit, offset int) ([]Template, error)
	// DeleteTemplate deletes one; ErrNotFound if there is none.
	DeleteTemplate(ctx context.Context, accountID, name string) error
}
