-- The Statements page's roll-up: outgoing recipients per account, UTC day
-- (from recipients.created_at, the message's creation), channel, country
-- and currency, with the messages among them, their parts and their
-- price; and, under the country '*' (never a country code), the number of
-- outgoing messages per day and channel, the statement's total. Reading a
-- month costs a few rows per day and country however many messages an
-- account sends.
--
-- A message is counted once per country: the recipient that makes a
-- (message, country) pair exist adds 1 to messages, the one whose deletion
-- ends it takes 1 away (on PostgreSQL the triggers run once per statement
-- and look at what is left). Like message_counts (056), triggers append
-- signed changes to statement_count_deltas and the fold moves them into
-- statement_counts; unlike the Overview, a statement also reads the
-- changes not folded yet, so it is exact to the last accepted message.
CREATE TABLE statement_counts (
	account_id TEXT NOT NULL,
	day        {{INT}} NOT NULL,
	channel    TEXT NOT NULL,
	country    TEXT NOT NULL,
	currency   TEXT NOT NULL,
	messages   {{INT}} NOT NULL,
	recipients {{INT}} NOT NULL,
	parts      {{INT}} NOT NULL,
	amount     {{INT}} NOT NULL,
	PRIMARY KEY (account_id, day, channel, country, currency)
) {{WITHOUT_ROWID}};

CREATE TABLE statement_count_deltas (
	id         {{ID}},
	account_id TEXT NOT NULL,
	day        {{INT}} NOT NULL,
	channel    TEXT NOT NULL,
	country    TEXT NOT NULL,
	currency   TEXT NOT NULL,
	messages   {{INT}} NOT NULL,
	recipients {{INT}} NOT NULL,
	parts      {{INT}} NOT NULL,
	amount     {{INT}} NOT NULL
);
CREATE INDEX statement_count_deltas_account ON statement_count_deltas (account_id, day);

-- What is stored already, counted once; the triggers count from here on
-- (both in this migration's transaction).
INSERT INTO statement_counts (account_id, day, channel, country, currency, messages, recipients, parts, amount)
	SELECT account_id, day, channel, country, currency, SUM(messages), SUM(recipients), SUM(parts), SUM(amount) FROM (
		SELECT r.account_id, r.created_at / 86400000000 AS day, m.channel, r.country, r.price_currency AS currency,
			0 AS messages, COUNT(*) AS recipients, SUM(r.part_count) AS parts, SUM(r.price) AS amount
		FROM recipients r JOIN messages m ON m.id = r.message_id
		WHERE m.direction = 'mt'
		GROUP BY r.account_id, r.created_at / 86400000000, m.channel, r.country, r.price_currency
		UNION ALL
		SELECT r.account_id, r.created_at / 86400000000, m.channel, r.country, '', COUNT(DISTINCT r.message_id), 0, 0, 0
		FROM recipients r JOIN messages m ON m.id = r.message_id
		WHERE m.direction = 'mt'
		GROUP BY r.account_id, r.created_at / 86400000000, m.channel, r.country
		UNION ALL
		SELECT account_id, created_at / 86400000000, channel, '*', '', COUNT(*), 0, 0, 0
		FROM messages WHERE direction = 'mt'
		GROUP BY account_id, created_at / 86400000000, channel
	) s
	GROUP BY account_id, day, channel, country, currency;

{{STATEMENT_COUNT_TRIGGERS}}

-- When each part was handed to its connector: status_at moves with the
-- receipts, and the message page's timeline shows both. Parts stored
-- before this migration have 0 (their sending time is not known).
ALTER TABLE recipient_parts ADD COLUMN sent_at {{INT}} NOT NULL DEFAULT 0;
