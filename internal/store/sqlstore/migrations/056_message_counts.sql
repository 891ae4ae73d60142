-- The Overview's roll-up: outgoing recipients per account, UTC day (days
-- since 1970-01-01, from recipients.created_at, the message's creation),
-- channel and status, with the sum of their prices. Reading it costs a few
-- rows per day however many messages an account sends.
--
-- Triggers on recipients append signed changes to message_count_deltas
-- (+1 on insert, -1/+1 when the status or price changes, -1 on delete):
-- an append never waits on another writer's lock, where updating a shared
-- counter row in every transaction would serialize an account's status
-- updates (and deadlock on PostgreSQL). FoldMessageCounts moves the deltas
-- into message_counts every few seconds; DailyCounts reads message_counts
-- alone, so the Overview is as of the last fold.
CREATE TABLE message_counts (
	account_id TEXT NOT NULL,
	day        {{INT}} NOT NULL,
	channel    TEXT NOT NULL,
	status     TEXT NOT NULL,
	n          {{INT}} NOT NULL,
	charged    {{INT}} NOT NULL,
	PRIMARY KEY (account_id, day, channel, status)
) {{WITHOUT_ROWID}};

CREATE TABLE message_count_deltas (
	id         {{ID}},
	account_id TEXT NOT NULL,
	day        {{INT}} NOT NULL,
	channel    TEXT NOT NULL,
	status     TEXT NOT NULL,
	n          {{INT}} NOT NULL,
	charged    {{INT}} NOT NULL
);
CREATE INDEX message_count_deltas_account ON message_count_deltas (account_id, day);

-- What is stored already, counted once; the triggers count from here on
-- (both in this migration's transaction).
INSERT INTO message_counts (account_id, day, channel, status, n, charged)
	SELECT r.account_id, r.created_at / 86400000000, m.channel, r.status, COUNT(*), COALESCE(SUM(r.price), 0)
	FROM recipients r JOIN messages m ON m.id = r.message_id
	WHERE m.direction = 'mt'
	GROUP BY r.account_id, r.created_at / 86400000000, m.channel, r.status;

{{MESSAGE_COUNT_TRIGGERS}}

-- The Messages page's search by reference (in the page's order, so that
-- SQLite prefers it to walking the account's messages), and by a status
-- few recipients have (the roll-up says which are few).
CREATE INDEX messages_account_reference ON messages (account_id, reference, created_at DESC, id DESC);
CREATE INDEX recipients_account_status ON recipients (account_id, status);
