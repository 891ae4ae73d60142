-- SMPP: connectors and routes, message parts with carrier ids, receipts that
-- arrive before their part is known, inbound numbers and reassembly.

-- Connectors are configured in the database so that every node sees the
-- same set; settings are JSON in the kind's own shape.
CREATE TABLE connectors (
	name       TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	settings   TEXT NOT NULL,
	enabled    {{BOOL}} NOT NULL,
	updated_at {{INT}} NOT NULL
);

-- Routes map a destination to an ordered list of connectors (comma
-- separated). account_id '' is the default table; an account's own routes
-- come first. The longest matching prefix wins, then a country, then the
-- catch-all (prefix and country both '').
CREATE TABLE routes (
	id         {{ID}},
	account_id TEXT NOT NULL DEFAULT '',
	prefix     TEXT NOT NULL DEFAULT '',
	country    TEXT NOT NULL DEFAULT '',
	connectors TEXT NOT NULL,
	created_at {{INT}} NOT NULL
);
CREATE UNIQUE INDEX routes_match ON routes (account_id, prefix, country);

-- One row per SMS part handed to a carrier, with the carrier's id, so that
-- receipts (per part) can be matched and rolled up to the recipient.
CREATE TABLE recipient_parts (
	message_id        TEXT NOT NULL,
	seq               {{INT}} NOT NULL,
	part              {{INT}} NOT NULL,
	account_id        TEXT NOT NULL,
	connector         TEXT NOT NULL,
	smsc_id           TEXT NOT NULL,
	status            TEXT NOT NULL,
	status_error_code {{INT}} NOT NULL DEFAULT 0,
	status_at         {{INT}} NOT NULL,
	PRIMARY KEY (message_id, seq, part)
) {{WITHOUT_ROWID}};
CREATE INDEX recipient_parts_smsc ON recipient_parts (connector, smsc_id);

-- Receipts whose part is not known yet (a receipt can beat the
-- submit_sm_resp, or belong to nothing); purged after a while. A receipt is
-- kept under every form its id may take (hex, decimal), all sharing the
-- receipt_key of its exact form.
CREATE TABLE pending_receipts (
	connector   TEXT NOT NULL,
	smsc_id     TEXT NOT NULL,
	receipt_key TEXT NOT NULL,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	error_code  {{INT}} NOT NULL DEFAULT 0,
	status_at   {{INT}} NOT NULL,
	received_at {{INT}} NOT NULL,
	PRIMARY KEY (connector, smsc_id)
);
CREATE INDEX pending_receipts_received ON pending_receipts (received_at);

-- Inbound numbers: which account receives messages sent to a number.
CREATE TABLE numbers (
	number     TEXT PRIMARY KEY,
	account_id TEXT NOT NULL,
	created_at {{INT}} NOT NULL
);
CREATE INDEX numbers_account ON numbers (account_id);

-- Where an account's inbound messages are forwarded.
ALTER TABLE accounts ADD COLUMN inbound_url TEXT NOT NULL DEFAULT '';

-- Parts of concatenated inbound messages until all have arrived.
CREATE TABLE inbound_parts (
	connector   TEXT NOT NULL,
	source      TEXT NOT NULL,
	destination TEXT NOT NULL,
	ref         {{INT}} NOT NULL,
	total       {{INT}} NOT NULL,
	part        {{INT}} NOT NULL,
	body        TEXT NOT NULL,
	received_at {{INT}} NOT NULL,
	PRIMARY KEY (connector, source, destination, ref, part)
);
CREATE INDEX inbound_parts_received ON inbound_parts (received_at);
