package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

const userTokenColumns = `t.id, t.account_id, t.user_id, t.hash, t.name, t.hint, t.created_at, t.last_used_at, t.revoked_at, t.revoked_by`

func scanUserToken(sc interface{ Scan(...any) error }, extra ...any) (*store.UserToken, error) {
	var t store.UserToken
	var created, used, revoked int64
	dest := append([]any{&t.ID, &t.AccountID, &t.UserID, &t.Hash, &t.Name, &t.Hint, &created, &used, &revoked, &t.RevokedBy}, extra...)
	if err := sc.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("reading user token: %w", err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMicros(created), fromMicros(used), fromMicros(revoked)
	return &t, nil
}

// CreateUserToken implements store.UserTokens.
func (s *Store) CreateUserToken(ctx context.Context, t *store.UserToken) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO user_tokens (id, account_id, user_id, hash, name, hint, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		t.ID, t.AccountID, t.UserID, t.Hash, t.Name, t.Hint, micros(t.CreatedAt)); err != nil {
		return fmt.Errorf("creating user token: %w", err)
	}
	return nil
}

// UserTokensOf implements store.UserTokens.
func (s *Store) UserTokensOf(ctx context.Context, accountID, userID string) ([]store.UserToken, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+userTokenColumns+` FROM user_tokens t WHERE t.account_id = ? AND t.user_id = ? ORDER BY t.created_at, t.id`),
		accountID, userID)
	if err != nil {
		return nil, fmt.Errorf("listing user tokens: %w", err)
	}
	defer rows.Close()
	var out []store.UserToken
	for rows.Next() {
		t, err := scanUserToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// RevokeUserToken implements store.UserTokens.
func (s *Store) RevokeUserToken(ctx context.Context, accountID, userID, id, by string, at time.Time) error {
	return s.inTx(ctx, "revoking user token", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE user_tokens SET revoked_at = ?, revoked_by = ? WHERE account_id = ? AND user_id = ? AND id = ? AND revoked_at = 0`),
			max(micros(at), 1), by, accountID, userID, id)
		if err != nil {
			return fmt.Errorf("revoking user token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return bumpRevocations(ctx, tx)
	})
}

// UserTokenByHash implements store.UserTokens. The token's user is joined
// so that a locked or removed user's token is refused with the token's
// own lookup (no second read on the authentication path).
func (s *Store) UserTokenByHash(ctx context.Context, hash []byte) (*store.UserToken, error) {
	var role sql.NullString
	var locked sql.NullInt64
	t, err := scanUserToken(s.rQueryRow(ctx, `SELECT `+userTokenColumns+`, u.role, u.locked_at FROM user_tokens t LEFT JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id WHERE t.hash = ?`, hash),
		&role, &locked)
	if err != nil {
		return nil, err
	}
	t.Role, t.UserGone, t.UserLocked = role.String, !role.Valid, locked.Int64 != 0
	return t, nil
}

// bumpRevocations moves the key revocation generation in tx: nodes read
// their kept keys and tokens again.
func bumpRevocations(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE key_revocations SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("moving the key revocation generation: %w", err)
	}
	return nil
}

// userTokensChanged moves the revocation generation in tx when the user
// has a valid token: their role or state changed, so nodes must read the
// token again. A revokedBy other than "" revokes the tokens too (the user
// is removed or locked: a token of compromised credentials stays dead
// when the user is let in again).
func (s *Store) userTokensChanged(ctx context.Context, tx *sql.Tx, userID, revokedBy string, at time.Time) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM user_tokens WHERE user_id = ? AND revoked_at = 0`), userID).Scan(&n); err != nil {
		return fmt.Errorf("reading the user's tokens: %w", err)
	}
	if n == 0 {
		return nil
	}
	if revokedBy != "" {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE user_tokens SET revoked_at = ?, revoked_by = ? WHERE user_id = ? AND revoked_at = 0`),
			max(micros(at), 1), revokedBy, userID); err != nil {
			return fmt.Errorf("revoking the user's tokens: %w", err)
		}
	}
	return bumpRevocations(ctx, tx)
}
