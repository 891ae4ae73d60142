-- Data keys deleted by crypto-shredding (docs/operations.md, "Data at
-- rest"): a tombstone per key, written with the deletion. A backup made
-- while an account is shredded reads its keys after the copy; it leaves
-- out every key named here, so that its keys file cannot bring a shredded
-- key back (internal/backup). Ids and scopes only: nothing that opens.
CREATE TABLE shredded_keys (
	id          TEXT NOT NULL PRIMARY KEY,
	scope       TEXT NOT NULL,
	shredded_at {{INT}} NOT NULL
);
