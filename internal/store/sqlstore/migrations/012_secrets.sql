-- Secrets at rest (docs/operations.md, "Secrets at rest"): the data keys
-- that encrypt accounts' signing keys, realtime apps' secrets and
-- connectors' settings, each wrapped (AES-256-GCM) by a master key the
-- operator holds outside the database. A data key wrapped by two master
-- keys, during a master key rotation, has a row for each. The newest data
-- key of a scope encrypts; every one decrypts what it encrypted.
--
-- scope: whose data the key encrypts: '' for the platform's secrets.
-- master_id: the id (not the key) of the master key that wrapped it.
-- Values are stored as 'enc:v1:<id>:<nonce, ciphertext and tag in
-- base64url>' in their own columns; a value without the prefix was written
-- in clear by an earlier release and is encrypted at the next start.
CREATE TABLE data_keys (
	id         TEXT NOT NULL,
	master_id  TEXT NOT NULL,
	scope      TEXT NOT NULL DEFAULT '',
	wrapped    {{BLOB}} NOT NULL,
	created_at {{INT}} NOT NULL,
	PRIMARY KEY (id, master_id)
);
