-- Addresses at rest (issue 19 item 3, docs/operations.md "Data at rest"):
-- recipients' addresses and inbound messages' originators are stored
-- encrypted with the account's data key; searching by them goes through a
-- keyed hash (HMAC-SHA256 under a key derived from the account's data key,
-- hex), so that shredding the account leaves nothing that confirms a
-- number. Rows written before (or by a store without a master key) keep
-- the address in clear and an empty hash: the clear indexes below hold
-- only those, the hash indexes only the others, so a new row updates one
-- index as before.
ALTER TABLE recipients ADD COLUMN address_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN originator_hash TEXT NOT NULL DEFAULT '';

DROP INDEX recipients_account_address;
CREATE INDEX recipients_account_address ON recipients (account_id, address) WHERE address_hash = '';
CREATE INDEX recipients_account_address_hash ON recipients (account_id, address_hash) WHERE address_hash <> '';

DROP INDEX messages_inbound_originator;
CREATE INDEX messages_inbound_originator ON messages (account_id, channel, originator, created_at) WHERE direction = 'mo' AND originator_hash = '';
CREATE INDEX messages_inbound_originator_hash ON messages (account_id, channel, originator_hash, created_at) WHERE direction = 'mo' AND originator_hash <> '';
