-- Migrations are written once for both engines. Type tokens are replaced by
-- each dialect: {{INT}} 64-bit integer, {{BOOL}} boolean, {{BLOB}} bytes,
-- {{ID}} auto-increment primary key, {{WITHOUT_ROWID}} SQLite's clustered
-- table option (nothing on PostgreSQL).

-- Accounts are tenants. Money is integer micro-units of the currency.
CREATE TABLE accounts (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	currency    TEXT NOT NULL,
	balance     {{INT}} NOT NULL DEFAULT 0,
	report_url  TEXT NOT NULL DEFAULT '',
	signing_key TEXT NOT NULL,
	created_at  {{INT}} NOT NULL
);

-- API keys: only the SHA-256 of the key is kept.
CREATE TABLE access_keys (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	hash       {{BLOB}} NOT NULL UNIQUE,
	test       {{BOOL}} NOT NULL,
	hint       TEXT NOT NULL,
	created_at {{INT}} NOT NULL
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
	validity     {{INT}} NOT NULL DEFAULT 0,
	gateway      {{INT}} NOT NULL DEFAULT 0,
	type_details TEXT NOT NULL DEFAULT '{}',
	datacoding   TEXT NOT NULL,
	mclass       {{INT}} NOT NULL,
	scheduled_at {{INT}} NOT NULL DEFAULT 0,
	created_at   {{INT}} NOT NULL
);
CREATE INDEX messages_account_created ON messages (account_id, created_at DESC, id DESC);
-- Purging by age walks this index.
CREATE INDEX messages_created ON messages (created_at);

-- One row per recipient. address is personal data and indexed so that one
-- person's rows can be found and erased without touching billing history.
CREATE TABLE recipients (
	message_id        TEXT NOT NULL,
	seq               {{INT}} NOT NULL,
	account_id        TEXT NOT NULL,
	address           TEXT NOT NULL,
	country           TEXT NOT NULL,
	country_prefix    {{INT}} NOT NULL,
	status            TEXT NOT NULL,
	status_at         {{INT}} NOT NULL DEFAULT 0,
	status_reason     TEXT NOT NULL DEFAULT '',
	status_error_code {{INT}} NOT NULL DEFAULT 0,
	part_count        {{INT}} NOT NULL,
	length            {{INT}} NOT NULL,
	price             {{INT}} NOT NULL DEFAULT 0,
	price_currency    TEXT NOT NULL DEFAULT '',
	connector         TEXT NOT NULL DEFAULT '',
	created_at        {{INT}} NOT NULL,
	PRIMARY KEY (message_id, seq)
) {{WITHOUT_ROWID}};
CREATE INDEX recipients_account_address ON recipients (account_id, address);

-- The durable work queue. run_at is when the job is next due; leasing a job
-- moves run_at to the end of the lease and records the node that holds it.
CREATE TABLE jobs (
	id         {{ID}},
	kind       TEXT NOT NULL,
	account_id TEXT NOT NULL,
	message_id TEXT NOT NULL DEFAULT '',
	payload    {{BLOB}},
	attempts   {{INT}} NOT NULL DEFAULT 0,
	run_at     {{INT}} NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	lease_owner TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL
);
CREATE INDEX jobs_due ON jobs (kind, run_at);
CREATE INDEX jobs_message ON jobs (message_id);
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner <> '';
