-- WhatsApp's statuses echo the message id its send gave (the Cloud API's
-- biz_opaque_callback_data), so its parts are found through the message's
-- primary key and need no entry in the index of carrier ids. Wamids are
-- random: each new one in that index is a page write of its own (14 % of
-- the pages a WhatsApp message wrote). The index keeps the parts whose
-- receipts carry the carrier's id alone (SMPP, email).
ALTER TABLE recipient_parts ADD COLUMN echoed {{INT}} NOT NULL DEFAULT 0;
DROP INDEX recipient_parts_provider;
CREATE INDEX recipient_parts_provider ON recipient_parts (connector, provider_id) WHERE echoed = 0;
