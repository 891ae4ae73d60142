-- The parts of a long message submitted to the SMPP server (UDH or SAR
-- concatenation) wait here until the last one arrives, so that each part
-- is answered as soon as it is stored and a set survives a restart (or
-- completes on another node). Every part of a set holds the set's message
-- id, fixed by its first part and answered to each part; the joined
-- message is accepted under it. expires_at is the first part's time plus
-- the server's parts wait: a set still incomplete then is swept (and
-- recorded as refused under its id).
CREATE TABLE smpp_parts (
	account_id   TEXT NOT NULL,
	source       TEXT NOT NULL,
	dest         TEXT NOT NULL,
	ref          {{INT}} NOT NULL,
	total        {{INT}} NOT NULL,
	seq          {{INT}} NOT NULL,
	message_id   TEXT NOT NULL,
	body         TEXT NOT NULL,
	is_unicode   {{BOOL}} NOT NULL,
	is_binary    {{BOOL}} NOT NULL,
	receipts     {{INT}} NOT NULL,
	udh          TEXT NOT NULL,
	scheduled_at {{INT}} NOT NULL,
	validity     {{INT}} NOT NULL,
	created_at   {{INT}} NOT NULL,
	expires_at   {{INT}} NOT NULL,
	PRIMARY KEY (account_id, source, dest, ref, total, seq)
){{WITHOUT_ROWID}};
CREATE INDEX smpp_parts_expiry ON smpp_parts (expires_at);
CREATE INDEX smpp_parts_message ON smpp_parts (account_id, message_id);
