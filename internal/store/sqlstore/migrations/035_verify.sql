-- One-time-code verifications (MessageBird's /verify; issue 17). The code
-- is never stored: code_hash is SHA-256(salt || id || code). prefix,
-- country and ip are what velocity limits and the conversion watch count
-- by (internal/verify); the indexes serve those counts over the last hour.

CREATE TABLE verifications (
	id          TEXT NOT NULL PRIMARY KEY,
	account_id  TEXT NOT NULL,
	recipient   TEXT NOT NULL,
	type        TEXT NOT NULL,
	reference   TEXT NOT NULL DEFAULT '',
	message_id  TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	code_hash   {{BLOB}} NOT NULL,
	salt        {{BLOB}} NOT NULL,
	attempts    {{INT}} NOT NULL DEFAULT 0,
	prefix      TEXT NOT NULL DEFAULT '',
	country     TEXT NOT NULL DEFAULT '',
	ip          TEXT NOT NULL DEFAULT '',
	created_at  {{INT}} NOT NULL,
	valid_until {{INT}} NOT NULL,
	verified_at {{INT}} NOT NULL DEFAULT 0,
	-- the Twilio Verify service it belongs to ('' for MessageBird's)
	service     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX verifications_account_created ON verifications (account_id, created_at);
CREATE INDEX verifications_recipient ON verifications (account_id, recipient, created_at);
CREATE INDEX verifications_prefix ON verifications (account_id, prefix, created_at);
CREATE INDEX verifications_country ON verifications (account_id, country, created_at);
CREATE INDEX verifications_ip ON verifications (account_id, ip, created_at);
CREATE INDEX verifications_service ON verifications (account_id, service, recipient, created_at);

-- Twilio Verify v2 services (the Twilio door's /v2/Services).
CREATE TABLE verify_services (
	id            TEXT NOT NULL PRIMARY KEY,
	account_id    TEXT NOT NULL,
	friendly_name TEXT NOT NULL,
	code_length   {{INT}} NOT NULL,
	created_at    {{INT}} NOT NULL,
	updated_at    {{INT}} NOT NULL
);
CREATE INDEX verify_services_account ON verify_services (account_id, created_at);
