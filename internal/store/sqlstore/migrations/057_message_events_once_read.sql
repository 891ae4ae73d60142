-- A recipient's read and fallback events are once-only (store.OnceEvent)
-- like bounced, complained and unsubscribed, but the unique index of 016
-- did not name them: a read webhook delivered twice (the Cloud API retries
-- one not acknowledged) was stored and reported twice. Repeats already
-- stored are removed (the first is kept), then the index takes both.
DELETE FROM message_events WHERE event IN ('read', 'fallback') AND id NOT IN (
	SELECT MIN(id) FROM message_events WHERE event IN ('read', 'fallback') GROUP BY message_id, seq, event);

DROP INDEX message_events_once;

CREATE UNIQUE INDEX message_events_once ON message_events (message_id, seq, event)
	WHERE event IN ('bounced', 'complained', 'unsubscribed', 'read', 'fallback');
