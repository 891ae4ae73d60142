-- Personal API tokens (issue 18, docs/api.md "Personal API tokens"): a
-- console user's token for the REST API, accepted like an access key but
-- scoped by the user's role (users.Can, checked per route). Only the
-- token's SHA-256 is stored; hint is its last characters. A token is
-- refused once revoked_at is set, or when its user is locked or removed
-- (the lookup joins users; removing or locking a user moves the key
-- revocation generation so that every node forgets the token at once).
CREATE TABLE user_tokens (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	hash         {{BLOB}} NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	hint         TEXT NOT NULL DEFAULT '',
	created_at   {{INT}} NOT NULL,
	last_used_at {{INT}} NOT NULL DEFAULT 0,
	revoked_at   {{INT}} NOT NULL DEFAULT 0,
	revoked_by   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX user_tokens_hash ON user_tokens (hash);
CREATE INDEX user_tokens_user ON user_tokens (user_id, created_at);
