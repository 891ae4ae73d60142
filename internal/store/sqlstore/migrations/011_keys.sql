-- Access keys can be listed and revoked (omnigate key list|revoke, GET
-- /keys, DELETE /keys/{id}).

-- revoked_at: when the key was revoked (0: it is valid); revoked_by: who
-- did it ("api key KEYID", "cli"). A revoked key stays, for the record.
ALTER TABLE access_keys ADD COLUMN revoked_at {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE access_keys ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
-- last_used_at: about when the key last authenticated a request (each node
-- writes it at most every few minutes per key; 0: not used since this
-- migration).
ALTER TABLE access_keys ADD COLUMN last_used_at {{INT}} NOT NULL DEFAULT 0;
CREATE INDEX access_keys_account ON access_keys (account_id, created_at);

-- One row whose generation every revocation increments, in the revoking
-- transaction. Each node caches authenticated keys and reads this single
-- row to learn, cheaply, that a cached key may have been revoked — by
-- another node or by the CLI — and must be looked up again.
CREATE TABLE key_revocations (
	id         {{INT}} PRIMARY KEY,
	generation {{INT}} NOT NULL
);
INSERT INTO key_revocations (id, generation) VALUES (1, 0);
