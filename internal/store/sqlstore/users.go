package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

var totpSecretColumn = secretColumn{"users", "id", "totp_secret", "users.totp_secret"}

func init() { secretColumns = append(secretColumns, totpSecretColumn) }

const userColumns = `id, account_id, email, name, role, password_hash, totp_secret, totp_last_step, language, locked_at, locked_reason, created_at`

func (s *Store) scanUser(ctx context.Context, sc interface{ Scan(...any) error }) (*store.User, error) {
	var u store.User
	var locked, created int64
	if err := sc.Scan(&u.ID, &u.AccountID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.TOTPSecret, &u.TOTPLastStep,
		&u.Language, &locked, &u.LockedReason, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("reading user: %w", err)
	}
	u.LockedAt, u.CreatedAt = fromMicros(locked), fromMicros(created)
	if err := s.open(ctx, totpSecretColumn, u.ID, &u.TOTPSecret); err != nil {
		return nil, err
	}
	return &u, nil
}

// insertUser inserts u in tx, checking the seats of its account.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u *store.User, seats int) error {
	if seats > 0 && u.AccountID != "" {
		var n int
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM users WHERE account_id = ?`), u.AccountID).Scan(&n); err != nil {
			return fmt.Errorf("counting users: %w", err)
		}
		if n >= seats {
			return store.ErrSeats
		}
	}
	secret, err := s.seal(ctx, totpSecretColumn, u.ID, u.TOTPSecret)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		u.ID, u.AccountID, u.Email, u.Name, u.Role, u.PasswordHash, secret, u.TOTPLastStep, u.Language, micros(u.LockedAt), u.LockedReason, micros(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("creating user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrConflict
	}
	return nil
}

// CreateUser implements store.Users.
func (s *Store) CreateUser(ctx context.Context, u *store.User, seats int) error {
	return s.inTx(ctx, "creating user", func(tx *sql.Tx) error {
		if s.d.Name == "postgres" && u.AccountID != "" && seats > 0 {
			// One seat count at a time per account.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "seats/"+u.AccountID); err != nil {
				return fmt.Errorf("locking seats: %w", err)
			}
		}
		return s.insertUser(ctx, tx, u, seats)
	})
}

// GetUser implements store.Users.
func (s *Store) GetUser(ctx context.Context, accountID, id string) (*store.User, error) {
	return s.scanUser(ctx, s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+userColumns+` FROM users WHERE account_id = ? AND id = ?`), accountID, id))
}

// UserByID implements store.Users.
func (s *Store) UserByID(ctx context.Context, id string) (*store.User, error) {
	return s.scanUser(ctx, s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+userColumns+` FROM users WHERE id = ?`), id))
}

// UserByEmail implements store.Users.
func (s *Store) UserByEmail(ctx context.Context, email string) (*store.User, error) {
	return s.scanUser(ctx, s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+userColumns+` FROM users WHERE email = ?`), email))
}

// ListUsers implements store.Users.
func (s *Store) ListUsers(ctx context.Context, accountID string) ([]store.User, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+userColumns+` FROM users WHERE account_id = ? ORDER BY created_at, id`), accountID)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	var us []store.User
	for rows.Next() {
		u, err := s.scanUser(ctx, rows)
		if err != nil {
			return nil, err
		}
		us = append(us, *u)
	}
	return us, rows.Err()
}

// CountUsers implements store.Users.
func (s *Store) CountUsers(ctx context.Context, accountID string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM users WHERE account_id = ?`), accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}

// UpdateUser implements store.Users.
func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	return s.inTx(ctx, "updating user", func(tx *sql.Tx) error {
		var other string
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT id FROM users WHERE email = ? AND id <> ?`), u.Email, u.ID).Scan(&other)
		if err == nil {
			return store.ErrConflict
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("updating user: %w", err)
		}
		secret, err := s.seal(ctx, totpSecretColumn, u.ID, u.TOTPSecret)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE users SET email = ?, name = ?, role = ?, password_hash = ?, totp_secret = ?, language = ?, locked_at = ?, locked_reason = ?
			WHERE id = ? AND account_id = ?`),
			u.Email, u.Name, u.Role, u.PasswordHash, secret, u.Language, micros(u.LockedAt), u.LockedReason, u.ID, u.AccountID)
		if err != nil {
			return fmt.Errorf("updating user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return s.userTokensChanged(ctx, tx, u.ID, "", time.Time{}) // the role or lock may have changed
	})
}

// AcceptTOTPStep implements store.Users.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`), step, userID, step)
	if err != nil {
		return false, fmt.Errorf("recording the TOTP step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteUser implements store.Users.
func (s *Store) DeleteUser(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "removing user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM users WHERE account_id = ? AND id = ?`), accountID, id)
		if err != nil {
			return fmt.Errorf("removing user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM user_sessions WHERE user_id = ?`), id); err != nil {
			return fmt.Errorf("ending sessions: %w", err)
		}
		return s.userTokensChanged(ctx, tx, id, "user removed", time.Now())
	})
}

// LockUser implements store.Users.
func (s *Store) LockUser(ctx context.Context, id, reason string, at time.Time) error {
	return s.inTx(ctx, "locking user", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE users SET locked_at = ?, locked_reason = ? WHERE id = ?`), micros(at), reason, id)
		if err != nil {
			return fmt.Errorf("locking user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM user_sessions WHERE user_id = ?`), id); err != nil {
			return fmt.Errorf("ending sessions: %w", err)
		}
		return s.userTokensChanged(ctx, tx, id, "user locked", at)
	})
}

// CreateSession implements store.Users.
func (s *Store) CreateSession(ctx context.Context, ss *store.Session) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO user_sessions (token_hash, user_id, csrf, verified, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		ss.TokenHash, ss.UserID, ss.CSRF, ss.Verified, micros(ss.CreatedAt), micros(ss.ExpiresAt)); err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// GetSession implements store.Users.
func (s *Store) GetSession(ctx context.Context, tokenHash []byte, now time.Time) (*store.Session, error) {
	var ss store.Session
	var created, expires int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT token_hash, user_id, csrf, verified, created_at, expires_at FROM user_sessions WHERE token_hash = ? AND expires_at > ?`),
		tokenHash, micros(now)).Scan(&ss.TokenHash, &ss.UserID, &ss.CSRF, &ss.Verified, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading session: %w", err)
	}
	ss.CreatedAt, ss.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &ss, nil
}

// MarkSessionVerified implements store.Users.
func (s *Store) MarkSessionVerified(ctx context.Context, tokenHash []byte) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE user_sessions SET verified = ? WHERE token_hash = ?`), true, tokenHash)
	if err != nil {
		return fmt.Errorf("verifying session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteSession implements store.Users.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM user_sessions WHERE token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("ending session: %w", err)
	}
	return nil
}

// DeleteUserSessions implements store.Users.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`DELETE FROM user_sessions WHERE user_id = ?`), userID)
	if err != nil {
		return 0, fmt.Errorf("ending sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PurgeSessions implements store.Users.
func (s *Store) PurgeSessions(ctx context.Context, before time.Time) (int, error) {
	return s.purge(ctx, "sessions", `DELETE FROM user_sessions WHERE expires_at < ?`, before)
}

const invitationColumns = `id, token_hash, account_id, email, role, invited_by, created_at, expires_at, used_at`

func scanInvitation(sc interface{ Scan(...any) error }) (*store.Invitation, error) {
	var inv store.Invitation
	var created, expires, used int64
	if err := sc.Scan(&inv.ID, &inv.TokenHash, &inv.AccountID, &inv.Email, &inv.Role, &inv.InvitedBy, &created, &expires, &used); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("reading invitation: %w", err)
	}
	inv.CreatedAt, inv.ExpiresAt, inv.UsedAt = fromMicros(created), fromMicros(expires), fromMicros(used)
	return &inv, nil
}

// CreateInvitation implements store.Users.
func (s *Store) CreateInvitation(ctx context.Context, inv *store.Invitation) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO user_invitations (`+invitationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		inv.ID, inv.TokenHash, inv.AccountID, inv.Email, inv.Role, inv.InvitedBy, micros(inv.CreatedAt), micros(inv.ExpiresAt), micros(inv.UsedAt)); err != nil {
		return fmt.Errorf("creating invitation: %w", err)
	}
	return nil
}

// UseInvitation implements store.Users.
func (s *Store) UseInvitation(ctx context.Context, tokenHash []byte, u *store.User, defaultSeats int, now time.Time) (*store.Invitation, error) {
	var inv *store.Invitation
	err := s.inTx(ctx, "accepting invitation", func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvitation(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+invitationColumns+` FROM user_invitations WHERE token_hash = ?`), tokenHash))
		if err != nil {
			return err
		}
		if !inv.UsedAt.IsZero() || !now.Before(inv.ExpiresAt) {
			return store.ErrGone
		}
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE user_invitations SET used_at = ? WHERE token_hash = ? AND used_at = 0`), micros(now), tokenHash)
		if err != nil {
			return fmt.Errorf("accepting invitation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrGone
		}
		if s.d.Name == "postgres" {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "seats/"+inv.AccountID); err != nil {
				return fmt.Errorf("locking seats: %w", err)
			}
		}
		seats := defaultSeats
		err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT seats FROM account_seats WHERE account_id = ?`), inv.AccountID).Scan(&seats)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading seats: %w", err)
		}
		u.AccountID, u.Email, u.Role = inv.AccountID, inv.Email, inv.Role
		return s.insertUser(ctx, tx, u, seats)
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// GetInvitation implements store.Users.
func (s *Store) GetInvitation(ctx context.Context, tokenHash []byte) (*store.Invitation, error) {
	return scanInvitation(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+invitationColumns+` FROM user_invitations WHERE token_hash = ?`), tokenHash))
}

// ListInvitations implements store.Users.
func (s *Store) ListInvitations(ctx context.Context, accountID string) ([]store.Invitation, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+invitationColumns+` FROM user_invitations WHERE account_id = ? ORDER BY created_at, id`), accountID)
	if err != nil {
		return nil, fmt.Errorf("listing invitations: %w", err)
	}
	defer rows.Close()
	var out []store.Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *inv)
	}
	return out, rows.Err()
}

// GetSeats implements store.Users.
func (s *Store) GetSeats(ctx context.Context, accountID string) (*store.Seats, error) {
	var st store.Seats
	var start, end int64
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT account_id, seats, term_start, term_end, seat_price FROM account_seats WHERE account_id = ?`), accountID).
		Scan(&st.AccountID, &st.Seats, &start, &end, &st.SeatPrice)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading seats: %w", err)
	}
	st.TermStart, st.TermEnd = fromMicros(start), fromMicros(end)
	return &st, nil
}

// PutSeats implements store.Users.
func (s *Store) PutSeats(ctx context.Context, st *store.Seats) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO account_seats (account_id, seats, term_start, term_end, seat_price) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET seats = excluded.seats, term_start = excluded.term_start, term_end = excluded.term_end, seat_price = excluded.seat_price`),
		st.AccountID, st.Seats, micros(st.TermStart), micros(st.TermEnd), st.SeatPrice); err != nil {
		return fmt.Errorf("writing seats: %w", err)
	}
	return nil
}
