-- Fraud protection of verifications (issue 17): each account's settings
-- (JSON of store.VerifySettings; no row: the defaults) and the prefixes
-- and countries blocked by the conversion watch until an operator lifts
-- them (lifted_at 0: active).

CREATE TABLE verify_settings (
	account_id TEXT NOT NULL PRIMARY KEY,
	settings   TEXT NOT NULL,
	updated_at {{INT}} NOT NULL
);

CREATE TABLE verify_blocks (
	id         TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	kind       TEXT NOT NULL,
	value      TEXT NOT NULL,
	rule       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	lifted_by  TEXT NOT NULL DEFAULT '',
	lifted_at  {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX verify_blocks_account ON verify_blocks (account_id, lifted_at);
