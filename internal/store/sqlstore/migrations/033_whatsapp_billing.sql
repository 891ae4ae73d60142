-- WhatsApp billing, suspension and opt-out (issue 15, items 4 and 7).
--
-- Prices gain a unit beside their channel: '' is the channel's own unit
-- (an SMS segment, an email); WhatsApp prices a 24-hour conversation per
-- category, so its rows name the category (marketing, utility,
-- authentication, service). The primary key takes the unit, so the table
-- is rebuilt (SQLite cannot change a primary key in place).
CREATE TABLE prices_v33 (
	account_id TEXT NOT NULL DEFAULT '',
	channel    TEXT NOT NULL,
	unit       TEXT NOT NULL DEFAULT '',
	country    TEXT NOT NULL DEFAULT '',
	prefix     TEXT NOT NULL DEFAULT '',
	currency   TEXT NOT NULL,
	price      {{INT}} NOT NULL,
	updated_at {{INT}} NOT NULL,
	PRIMARY KEY (account_id, channel, unit, country, prefix, currency)
);
INSERT INTO prices_v33 (account_id, channel, unit, country, prefix, currency, price, updated_at)
	SELECT account_id, channel, '', country, prefix, currency, price, updated_at FROM prices;
DROP TABLE prices;
ALTER TABLE prices_v33 RENAME TO prices;

-- Billed conversations: one row per (account, channel, sender, recipient,
-- category), the one open now or the last one. The message that finds no
-- open row (or an expired one) opens a conversation and is charged its
-- price; messages until expires_at are not charged again. The key makes
-- two concurrent sends open one conversation (INSERT … ON CONFLICT DO
-- UPDATE … WHERE expired).
CREATE TABLE billing_conversations (
	id         TEXT NOT NULL,
	account_id TEXT NOT NULL,
	channel    TEXT NOT NULL,
	sender     TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	category   TEXT NOT NULL,
	country    TEXT NOT NULL DEFAULT '',
	message_id TEXT NOT NULL,
	price      {{INT}} NOT NULL,
	currency   TEXT NOT NULL DEFAULT '',
	opened_at  {{INT}} NOT NULL,
	expires_at {{INT}} NOT NULL,
	PRIMARY KEY (account_id, channel, sender, recipient, category)
);
CREATE INDEX billing_conversations_message ON billing_conversations (account_id, message_id);

-- A connector whose account the provider says is gone (a WhatsApp business
-- account locked, a number no longer registered) is suspended: the reason,
-- the provider's code and when; '' is active. An operator reactivates it.
ALTER TABLE connectors ADD COLUMN suspended TEXT NOT NULL DEFAULT '';
ALTER TABLE connectors ADD COLUMN suspended_code {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE connectors ADD COLUMN suspended_at {{INT}} NOT NULL DEFAULT 0;

-- A consent entry may be for one channel only ('' = every channel): a STOP
-- over WhatsApp opts the number out of WhatsApp, and SMS still goes.
ALTER TABLE consents ADD COLUMN channel TEXT NOT NULL DEFAULT '';
