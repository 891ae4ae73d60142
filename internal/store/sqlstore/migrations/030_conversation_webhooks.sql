-- Webhooks of the Conversations API (issue 15) and their deliveries. A
-- delivery row is written in the same commit as the change it reports
-- (a conversation opened or updated, a message stored, a status report);
-- the deliverer sends a conversation's deliveries to one webhook in id
-- order, the next only once the one before succeeded or was given up.
-- state: pending, or held (a conversation.created waiting for the
-- conversation's first message to be stored).

CREATE TABLE conversation_webhooks (
	id         TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	channel_id TEXT NOT NULL DEFAULT '',
	url        TEXT NOT NULL,
	events     TEXT NOT NULL,
	settings   TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	updated_at {{INT}} NOT NULL
);
CREATE INDEX conversation_webhooks_account ON conversation_webhooks (account_id, created_at, id);

CREATE TABLE webhook_deliveries (
	id              {{ID}},
	account_id      TEXT NOT NULL,
	webhook_id      TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	message_id      TEXT NOT NULL DEFAULT '',
	event           TEXT NOT NULL,
	payload         TEXT NOT NULL DEFAULT '',
	state           TEXT NOT NULL,
	attempts        {{INT}} NOT NULL DEFAULT 0,
	next_at         {{INT}} NOT NULL,
	leased_until    {{INT}} NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      {{INT}} NOT NULL
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (state, next_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, conversation_id, state, id);
CREATE INDEX webhook_deliveries_conversation ON webhook_deliveries (conversation_id, state);
