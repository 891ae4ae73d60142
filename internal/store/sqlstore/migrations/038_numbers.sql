-- Numbers (issue 17, docs/numbers.md): the operator's inventory, what an
-- account bought, and each number's history.
--
-- number_inventory: numbers an operator imported (omnigate numbers
-- import). A number is available when it is in the inventory and has no
-- row in numbers (the assignments, 002). features is a comma list of sms,
-- voice, whatsapp; monthly_price is in micro-units of the buying account's
-- currency.
CREATE TABLE number_inventory (
	number        TEXT PRIMARY KEY,
	country       TEXT NOT NULL,
	region        TEXT NOT NULL DEFAULT '',
	locality      TEXT NOT NULL DEFAULT '',
	type          TEXT NOT NULL DEFAULT 'mobile',
	features      TEXT NOT NULL DEFAULT '',
	monthly_price {{INT}} NOT NULL DEFAULT 0,
	created_at    {{INT}} NOT NULL
);
CREATE INDEX number_inventory_country ON number_inventory (country, number);

-- An assignment's customer side: tags and inbound URL (PATCH
-- /v1/phone-numbers/{n}); interval_months 0 for numbers an operator
-- assigned (not billed), else the billing interval of a purchase, charged
-- again at renewal_at; unpaid_at when a renewal could not be charged;
-- last_traffic_at the last inbound to the number seen (outbound is read
-- from messages); idle_notice_at when the reclamation notice went out.
ALTER TABLE numbers ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE numbers ADD COLUMN inbound_url TEXT NOT NULL DEFAULT '';
ALTER TABLE numbers ADD COLUMN interval_months {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE numbers ADD COLUMN renewal_at {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE numbers ADD COLUMN unpaid_at {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE numbers ADD COLUMN last_traffic_at {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE numbers ADD COLUMN idle_notice_at {{INT}} NOT NULL DEFAULT 0;

-- number_history: what happened to a number (NUM-1: who used it when):
-- assigned, purchased, renewed, renewal_failed, idle_notice, reclaimed,
-- released, cancelled, inbound_refused.
CREATE TABLE number_history (
	id         {{ID}},
	number     TEXT NOT NULL,
	account_id TEXT NOT NULL,
	event      TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT '',
	actor      TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL
);
CREATE INDEX number_history_number ON number_history (number, id);
