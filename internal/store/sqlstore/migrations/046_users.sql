-- People at the controls (issue 18, docs/console.md): users, their
-- sessions, invitations and an account's seats.
--
-- users: account_id '' is the operator scope (role operator). email is
-- unique across the platform: it names the user at sign-in. password_hash
-- is an argon2id PHC string; totp_secret the base32 TOTP key, sealed with
-- the keyring ('' when two factors are off); totp_last_step the last RFC
-- 6238 time step accepted, so a code is never accepted twice. locked_at:
-- when the user was locked (reported compromised), 0 when not.
CREATE TABLE users (
	id             TEXT PRIMARY KEY,
	account_id     TEXT NOT NULL DEFAULT '',
	email          TEXT NOT NULL,
	name           TEXT NOT NULL DEFAULT '',
	role           TEXT NOT NULL,
	password_hash  TEXT NOT NULL DEFAULT '',
	totp_secret    TEXT NOT NULL DEFAULT '',
	totp_last_step {{INT}} NOT NULL DEFAULT 0,
	language       TEXT NOT NULL DEFAULT '',
	locked_at      {{INT}} NOT NULL DEFAULT 0,
	locked_reason  TEXT NOT NULL DEFAULT '',
	created_at     {{INT}} NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_account ON users (account_id, created_at);

-- user_sessions: a signed-in browser. The cookie holds the session token;
-- only its SHA-256 is stored. csrf is the synchronizer token of its forms.
-- verified is false until the second factor was given (when the user has
-- one). A session ends at expires_at, or when it is deleted.
CREATE TABLE user_sessions (
	token_hash {{BLOB}} PRIMARY KEY,
	user_id    TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	verified   {{BOOL}} NOT NULL DEFAULT FALSE,
	created_at {{INT}} NOT NULL,
	expires_at {{INT}} NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expiry ON user_sessions (expires_at);

-- user_invitations: a single-use link sent by email. Only the token's
-- SHA-256 is stored; used_at is set when it was accepted.
CREATE TABLE user_invitations (
	token_hash {{BLOB}} PRIMARY KEY,
	id         TEXT NOT NULL,
	account_id TEXT NOT NULL,
	email      TEXT NOT NULL,
	role       TEXT NOT NULL,
	invited_by TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL,
	expires_at {{INT}} NOT NULL,
	used_at    {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX user_invitations_account ON user_invitations (account_id, created_at);

-- account_seats (ACCT-1): how many named users an account's plan allows,
-- the end of its current term and the price of a seat for a full term
-- (micro-units of the account's currency; a seat added mid-term is charged
-- pro rata to term_end). An account without a row has the default seats.
CREATE TABLE account_seats (
	account_id TEXT PRIMARY KEY,
	seats      {{INT}} NOT NULL,
	term_start {{INT}} NOT NULL DEFAULT 0,
	term_end   {{INT}} NOT NULL DEFAULT 0,
	seat_price {{INT}} NOT NULL DEFAULT 0
);
