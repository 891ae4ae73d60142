-- The Twilio door's credentials (docs/twilio.md). Each account may have one
-- Twilio account SID ("AC" and 32 hex) with an auth token, and API keys
-- ("SK" and 32 hex) with secrets.
--
-- auth_token: sealed with the keyring like other secrets
-- (docs/operations.md, "Secrets at rest"): the platform reads it back in
-- clear to sign status callbacks (X-Twilio-Signature). Rotating it
-- replaces it; rotated_at says when.
CREATE TABLE twilio_accounts (
	account_id TEXT PRIMARY KEY,
	sid        TEXT NOT NULL UNIQUE,
	auth_token TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	rotated_at {{INT}} NOT NULL DEFAULT 0
);
-- secret_hash: the SHA-256 of the API key's secret, which is shown once.
CREATE TABLE twilio_api_keys (
	sid         TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL,
	secret_hash {{BLOB}} NOT NULL,
	created_at  {{INT}} NOT NULL
);
CREATE INDEX twilio_api_keys_account ON twilio_api_keys (account_id);
