-- Channels of the Conversations API (issue 15): an account's senders on
-- each platform, named by a 32-hex id that POST /v1/send takes as "from".
-- The sender is a number or alphanumeric for sms, a phone number id for
-- whatsapp, an address for email.

CREATE TABLE conversation_channels (
	id         TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL,
	sender     TEXT NOT NULL,
	status     TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	updated_at {{INT}} NOT NULL
);
CREATE INDEX conversation_channels_account ON conversation_channels (account_id, created_at, id);
