-- The originators of each account's marketing to each recipient, with the
-- last time each was used: the rotating-senders check reads a few rows
-- here instead of the recipient's whole message history. Written in the
-- accept transaction; rows older than a day are purged by maintenance.
CREATE TABLE marketing_senders (
	account_id TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	originator TEXT NOT NULL,
	last_at    {{INT}} NOT NULL,
	PRIMARY KEY (account_id, recipient, originator)
) {{WITHOUT_ROWID}};
CREATE INDEX marketing_senders_last ON marketing_senders (last_at);
