-- Hardening (issue 13): receipts that never come, and readiness.
--
-- A recipient handed to a carrier waits for its receipt until expires_at
-- (microseconds: its send time plus its validity, or plus the default 48
-- hours without one) plus a grace; then the housekeeping loop makes it
-- expired ("DLR not received"). The partial index holds only recipients a
-- connector took whose status is not final yet, so it stays small while
-- receipts come back, and accepting a message does not touch it.
ALTER TABLE recipients ADD COLUMN expires_at {{INT}} NOT NULL DEFAULT 0;

-- Recipients waiting for a receipt already: their deadline from their
-- message (a validity beyond 30 days counts as 30 days, as it does when
-- sending). This reads the recipients table once.
UPDATE recipients SET expires_at = (
	SELECT CASE WHEN m.scheduled_at > 0 THEN m.scheduled_at ELSE m.created_at END
		+ CASE WHEN m.validity > 0 AND m.validity <= 2592000 THEN m.validity
			WHEN m.validity > 2592000 THEN 2592000 ELSE 172800 END * 1000000
	FROM messages m WHERE m.id = recipients.message_id)
WHERE status IN ('sent', 'buffered') AND connector <> ''
	AND EXISTS (SELECT 1 FROM messages m WHERE m.id = recipients.message_id);

CREATE INDEX recipients_awaiting_receipt ON recipients (expires_at)
	WHERE status IN ('sent', 'buffered') AND connector <> '';

-- Readiness: each node writes its row every few seconds; /readyz answers
-- 503 when that write has not succeeded recently (a full disk, a lost
-- database, a lock nobody releases).
CREATE TABLE node_heartbeats (
	node       TEXT PRIMARY KEY,
	written_at {{INT}} NOT NULL
);
