-- Where an account is in its life (ACCT-3, ACCT-4): suspended for an
-- unpaid invoice or an ended trial, due for deletion, deleted (its rows
-- gone, its data key shredded) with an archive kept until archive_until.
-- last_active_at is when it last sent or was changed (inactivity of free
-- accounts); notified lists the notices already given, so that each is
-- given once.
CREATE TABLE account_lifecycle (
	account_id     TEXT PRIMARY KEY,
	state          TEXT NOT NULL,
	reason         TEXT NOT NULL DEFAULT '',
	suspended_at   {{INT}} NOT NULL DEFAULT 0,
	delete_at      {{INT}} NOT NULL DEFAULT 0,
	deleted_at     {{INT}} NOT NULL DEFAULT 0,
	archive_until  {{INT}} NOT NULL DEFAULT 0,
	notified       TEXT NOT NULL DEFAULT '',
	updated_at     {{INT}} NOT NULL
);
CREATE INDEX account_lifecycle_state ON account_lifecycle (state, delete_at);

-- The archive of a deleted account: its export (a zip of every table),
-- sealed with a key of its own scope, until purge_at.
CREATE TABLE account_archives (
	account_id TEXT PRIMARY KEY,
	created_at {{INT}} NOT NULL,
	purge_at   {{INT}} NOT NULL,
	size       {{INT}} NOT NULL,
	archive    TEXT NOT NULL
);
