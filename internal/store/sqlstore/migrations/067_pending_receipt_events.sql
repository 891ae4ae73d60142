-- A receipt that comes before the send's outcome recorded its part is kept
-- in pending_receipts until it can be matched. WhatsApp's "read" is such a
-- receipt with an event: delivered, and the read event. The event was not
-- kept, so a read that overtook its send's outcome (the Cloud API answers
-- the send and posts its statuses at once) left the recipient delivered and
-- never read. event keeps it (empty for a receipt without one).
ALTER TABLE pending_receipts ADD COLUMN event TEXT NOT NULL DEFAULT '';
