-- Email events (issue 14): what happened to a recipient besides its
-- status — bounced, complained, unsubscribed, opened, clicked — each
-- recorded as it came, with its detail (JSON: a bounce's category, a
-- click's URL, a user agent). Once-only events (bounced, complained,
-- unsubscribed) are kept once per recipient by the partial unique index;
-- opens and clicks are kept every time.
CREATE TABLE message_events (
	id         {{ID}},
	account_id TEXT NOT NULL,
	message_id TEXT NOT NULL,
	seq        {{INT}} NOT NULL,
	event      TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT '',
	at         {{INT}} NOT NULL
);

CREATE INDEX message_events_recipient ON message_events (message_id, seq, event);

CREATE UNIQUE INDEX message_events_once ON message_events (message_id, seq, event)
	WHERE event IN ('bounced', 'complained', 'unsubscribed');
