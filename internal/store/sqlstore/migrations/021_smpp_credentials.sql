-- SMPP server for customers (issue 16): each account's SMPP credentials.
-- system_id is what the customer binds with; password_hash is a salted,
-- slow hash of the password (PBKDF2-SHA256, parameters in the value);
-- allowed_ips is a comma-separated list of addresses or CIDR prefixes
-- ('' allows every address); max_rate is submits per second across the
-- account's binds (0: the server's default); window_size bounds requests
-- in flight per bind (0: the server's default).
CREATE TABLE smpp_credentials (
	account_id    TEXT PRIMARY KEY,
	system_id     TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	allowed_ips   TEXT NOT NULL DEFAULT '',
	max_rate      {{INT}} NOT NULL DEFAULT 0,
	window_size   {{INT}} NOT NULL DEFAULT 0,
	created_at    {{INT}} NOT NULL
);
