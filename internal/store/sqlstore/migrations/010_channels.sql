-- One core for every channel. Messages keep only what every channel has;
-- what one channel alone has moves into details (JSON, by channel: an SMS's
-- data coding, class, gateway and typeDetails), and content beyond plain
-- text (media, templates, email parts) into content (JSON, '' for text).
-- Carrier message ids become provider ids (an SMSC's id, an email's
-- Message-ID, a chat app's message id), and routes name their channel.
--
-- Existing rows are all SMS: their SMS columns are carried into details.
-- SQLite cannot drop NOT NULL in place, so messages is rebuilt (this
-- upgrade rewrites the table once, in time proportional to its rows).

CREATE TABLE messages_v10 (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	channel      TEXT NOT NULL,
	direction    TEXT NOT NULL,
	type         TEXT NOT NULL,
	originator   TEXT NOT NULL,
	body         TEXT NOT NULL,
	content      TEXT NOT NULL DEFAULT '',
	details      TEXT NOT NULL DEFAULT '',
	reference    TEXT NOT NULL DEFAULT '',
	report_url   TEXT NOT NULL DEFAULT '',
	validity     {{INT}} NOT NULL DEFAULT 0,
	scheduled_at {{INT}} NOT NULL DEFAULT 0,
	created_at   {{INT}} NOT NULL,
	purpose      TEXT NOT NULL DEFAULT 'transactional',
	categories   TEXT NOT NULL DEFAULT '',
	compliance   TEXT NOT NULL DEFAULT ''
);

INSERT INTO messages_v10 (id, account_id, channel, direction, type, originator, body, content, details, reference,
	report_url, validity, scheduled_at, created_at, purpose, categories, compliance)
SELECT id, account_id, channel, direction, type, originator, body, '',
	'{"sms":{"datacoding":"' || datacoding || '","mclass":' || mclass
		|| CASE WHEN gateway = 0 THEN '' ELSE ',"gateway":' || gateway END
		|| CASE WHEN type_details IN ('', '{}') THEN '' ELSE ',"typeDetails":' || type_details END
		|| '}}',
	reference, report_url, validity, scheduled_at, created_at, purpose, categories, compliance
FROM messages;

DROP TABLE messages;
ALTER TABLE messages_v10 RENAME TO messages;
CREATE INDEX messages_account_created ON messages (account_id, created_at DESC, id DESC);
CREATE INDEX messages_created ON messages (created_at);

-- Parts and receipts are matched by the provider's id for the part.
ALTER TABLE recipient_parts RENAME COLUMN smsc_id TO provider_id;
DROP INDEX recipient_parts_smsc;
CREATE INDEX recipient_parts_provider ON recipient_parts (connector, provider_id);
ALTER TABLE pending_receipts RENAME COLUMN smsc_id TO provider_id;

-- Routes match by channel, then by destination: a number prefix or a
-- country for phone channels, a domain for email; sender, when set, limits
-- a route to messages from one originator (a chat app's channel id, an SMS
-- sender).
ALTER TABLE routes ADD COLUMN channel TEXT NOT NULL DEFAULT 'sms';
ALTER TABLE routes ADD COLUMN domain TEXT NOT NULL DEFAULT '';
ALTER TABLE routes ADD COLUMN sender TEXT NOT NULL DEFAULT '';
DROP INDEX routes_match;
CREATE UNIQUE INDEX routes_match ON routes (account_id, channel, sender, prefix, country, domain);
