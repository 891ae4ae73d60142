-- Accounts are tenants. Money is integer micro-units of the currency.
CREATE TABLE accounts (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	currency    TEXT NOT NULL,
	balance     INTEGER NOT NULL DEFAULT 0,
	report_url  TEXT NOT NULL DEFAULT '',
	signing_key TEXT NOT NULL,
	created_at  INTEGER NOT NULL
);

-- API keys: only the SHA-256 of the key is kept.
CREATE TABLE access_keys (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	hash       BLOB NOT NULL UNIQUE,
	test       INTEGER NOT NULL,
	hint       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- Messages. body is personal data: erasure overwrites it in place.
CREATE TABLE messages (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	channel      TEXT NOT NULL,
	direction    TEXT NOT NULL,
	type         TEXT NOT NULL,
	originator   TEXT NOT NULL,
	body         TEXT NOT NULL,
	reference    TEXT NOT NULL DEFAULT '',
	report_url   TEXT NOT NULL DEFAULT '',
	validity     INTEGER NOT NULL DEFAULT 0,
	gateway      INTEGER NOT NULL DEFAULT 0,
	type_details TEXT NOT NULL DEFAULT '{}',
	datacoding   TEXT NOT NULL,
	mclass       INTEGER NOT NULL,
	scheduled_at INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL
);
CREATE INDEX messages_account_created ON messages (account_id, created_at DESC, id DESC);
-- Purging by age walks this index.
CREATE INDEX messages_created ON messages (created_at);

-- One row per recipient. address is personal data and indexed so that one
-- person's rows can be found and erased without touching billing history.
CREATE TABLE recipients (
	message_id        TEXT NOT NULL,
	seq               INTEGER NOT NULL,
	account_id        TEXT NOT NULL,
	address           TEXT NOT NULL,
	country           TEXT NOT NULL,
	country_prefix    INTEGER NOT NULL,
	status            TEXT NOT NULL,
	status_at         INTEGER NOT NULL DEFAULT 0,
	status_reason     TEXT NOT NULL DEFAULT '',
	status_error_code INTEGER NOT NULL DEFAULT 0,
	part_count        INTEGER NOT NULL,
	length            INTEGER NOT NULL,
	price             INTEGER NOT NULL DEFAULT 0,
	price_currency    TEXT NOT NULL DEFAULT '',
	connector         TEXT NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;
CREATE INDEX recipients_account_address ON recipients (account_id, address);

-- The durable work queue. run_at is when the job is next due; leasing a job
-- moves run_at to the end of the lease and records the node that holds it.
CREATE TABLE jobs (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	kind       TEXT NOT NULL,
	account_id TEXT NOT NULL,
	message_id TEXT NOT NULL DEFAULT '',
	payload    BLOB,
	attempts   INTEGER NOT NULL DEFAULT 0,
	run_at     INTEGER NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	lease_owner TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (kind, run_at);
CREATE INDEX jobs_message ON jobs (message_id);
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner <> '';
