package users

import (
	"context"
	"errors"
	"log/slog"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/store"
)

// MaxTokens bounds a user's valid personal API tokens.
const MaxTokens = 20

// ErrNoTokens means the user may not have personal API tokens: operators
// act through the admin API, not the account's.
var ErrNoTokens = errors.New("operators have no personal API tokens: use the admin API")

// ErrTooManyTokens means the user has MaxTokens valid tokens already.
var ErrTooManyTokens = errors.New("a user has at most 20 valid personal API tokens: revoke one first")

// CreateToken makes a personal API token for u, scoped by u's role at
// each request (the role now, not the role when it was made). It returns
// the token's text, shown once.
func (s *Service) CreateToken(ctx context.Context, u *store.User, name string) (string, *store.UserToken, error) {
	if u.AccountID == "" {
		return "", nil, ErrNoTokens
	}
	name, err := checkName(name)
	if err != nil {
		return "", nil, err
	}
	if len(name) > 100 {
		return "", nil, errors.New("a token's name is at most 100 characters")
	}
	ts, err := s.st.UserTokensOf(ctx, u.AccountID, u.ID)
	if err != nil {
		return "", nil, err
	}
	valid := 0
	for _, t := range ts {
		if t.RevokedAt.IsZero() {
			valid++
		}
	}
	if valid >= MaxTokens {
		return "", nil, ErrTooManyTokens
	}
	text, t := auth.NewUserToken(u.AccountID, u.ID, name)
	if err := s.st.CreateUserToken(ctx, t); err != nil {
		return "", nil, err
	}
	s.record(slog.LevelInfo, "token.created", slog.String("user", u.ID), slog.String("account", u.AccountID), slog.String("token_id", t.ID))
	s.stored(ctx, audit.User(u.ID), u.AccountID, "", "token.created", "/console/tokens/"+t.ID,
		map[string]any{"token_id": t.ID, "name": t.Name})
	return text, t, nil
}

// Tokens lists u's personal API tokens, revoked ones included.
func (s *Service) Tokens(ctx context.Context, u *store.User) ([]store.UserToken, error) {
	if u.AccountID == "" {
		return nil, nil
	}
	return s.st.UserTokensOf(ctx, u.AccountID, u.ID)
}

// RevokeToken revokes one of u's tokens; ErrNotFound for a token that is
// not u's or is revoked already.
func (s *Service) RevokeToken(ctx context.Context, u *store.User, id string) error {
	if err := s.st.RevokeUserToken(ctx, u.AccountID, u.ID, id, "user "+u.ID, s.now()); err != nil {
		return err
	}
	s.record(slog.LevelInfo, "token.revoked", slog.String("user", u.ID), slog.String("account", u.AccountID), slog.String("token_id", id))
	s.stored(ctx, audit.User(u.ID), u.AccountID, "", "token.revoked", "/console/tokens/"+id, map[string]any{"token_id": id})
	return nil
}
