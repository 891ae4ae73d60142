-- Sending domains and their DKIM keys (docs/email.md, "Sending domains and
-- DKIM"). An account sends email only from a domain of its own whose DNS
-- records were verified, that no operator suspended, within its daily cap.
--
-- id: the row's key, which the encrypted private key is bound to.
-- private_key: the PKCS#8 PEM of the DKIM key, sealed with the keyring like
-- the other secrets at rest (012_secrets.sql).
-- Times are microseconds since the epoch; 0: not set (not verified, never
-- checked, not suspended). last_check: the last verification's result as
-- JSON ('' before the first). daily_cap: emails per UTC day, 0 for none.
CREATE TABLE email_domains (
	id               TEXT PRIMARY KEY,
	account_id       TEXT NOT NULL REFERENCES accounts (id),
	domain           TEXT NOT NULL,
	selector         TEXT NOT NULL,
	algorithm        TEXT NOT NULL,
	private_key      TEXT NOT NULL,
	created_at       {{INT}} NOT NULL,
	verified_at      {{INT}} NOT NULL DEFAULT 0,
	checked_at       {{INT}} NOT NULL DEFAULT 0,
	last_check       TEXT NOT NULL DEFAULT '',
	suspended_at     {{INT}} NOT NULL DEFAULT 0,
	suspended_reason TEXT NOT NULL DEFAULT '',
	suspended_by     TEXT NOT NULL DEFAULT '',
	daily_cap        {{INT}} NOT NULL DEFAULT 0,
	UNIQUE (account_id, domain)
);
CREATE INDEX email_domains_domain ON email_domains (domain);

-- Emails counted against daily caps: one row per capped domain and UTC day
-- ('2026-12-07', as the realtime usage tables), raised by one conditional upsert as a message is
-- accepted. Domains without a cap are not counted.
CREATE TABLE email_domain_volume (
	account_id TEXT NOT NULL,
	domain     TEXT NOT NULL,
	day        TEXT NOT NULL,
	sent       {{INT}} NOT NULL,
	PRIMARY KEY (account_id, domain, day)
) {{WITHOUT_ROWID}};
