-- The log of webhook attempts (issue 18, the console's Webhooks page,
-- docs/console.md): one row per call made for a status report or a
-- Conversations webhook delivery, with the answer's HTTP code, the time
-- and the error. It holds no address: url is the target without its
-- query, payload the status report (recipient by index, never its
-- address) that a re-send queues again. Purged by the webhooks retention
-- kind (docs/privacy.md).
CREATE TABLE webhook_attempts (
	id          {{ID}},
	account_id  TEXT NOT NULL,
	kind        TEXT NOT NULL,
	message_id  TEXT NOT NULL DEFAULT '',
	webhook_id  TEXT NOT NULL DEFAULT '',
	event       TEXT NOT NULL DEFAULT '',
	payload     TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',
	code        {{INT}} NOT NULL DEFAULT 0,
	outcome     TEXT NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	attempt     {{INT}} NOT NULL DEFAULT 0,
	duration_ms {{INT}} NOT NULL DEFAULT 0,
	at          {{INT}} NOT NULL
);
CREATE INDEX webhook_attempts_account ON webhook_attempts (account_id, at);
CREATE INDEX webhook_attempts_message ON webhook_attempts (account_id, message_id, at);
CREATE INDEX webhook_attempts_at ON webhook_attempts (at);

-- The console lists an account's newest suppressions (ORDER BY created_at
-- DESC, channel, recipient): an import gives thousands the same time, and
-- without this index each page sorted all of them.
CREATE INDEX suppressions_account_listed ON suppressions (account_id, created_at DESC, channel, recipient);
