-- Conversations of the Conversations API (issue 15): an account's exchange
-- with one contact, across the channels it used. At most one active
-- conversation per contact is kept by the store (under a lock on the
-- account and number), not by an index: archived ones stay beside it.
-- Messages of a conversation carry its id (NULL for the others).

CREATE TABLE conversations (
	id               TEXT NOT NULL PRIMARY KEY,
	account_id       TEXT NOT NULL,
	contact_id       TEXT NOT NULL,
	msisdn           TEXT NOT NULL,
	status           TEXT NOT NULL,
	last_channel_id  TEXT NOT NULL DEFAULT '',
	last_message_id  TEXT NOT NULL DEFAULT '',
	messages         {{INT}} NOT NULL DEFAULT 0,
	created_at       {{INT}} NOT NULL,
	updated_at       {{INT}} NOT NULL,
	last_received_at {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX conversations_account_updated ON conversations (account_id, updated_at, id);
CREATE INDEX conversations_account_msisdn ON conversations (account_id, msisdn, status);

CREATE TABLE conversation_channel_links (
	conversation_id TEXT NOT NULL,
	channel_id      TEXT NOT NULL,
	added_at        {{INT}} NOT NULL,
	PRIMARY KEY (conversation_id, channel_id)
);

ALTER TABLE messages ADD COLUMN conversation_id TEXT;
CREATE INDEX messages_conversation ON messages (conversation_id, created_at) WHERE conversation_id IS NOT NULL;
