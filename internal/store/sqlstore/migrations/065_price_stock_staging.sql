-- Price lists and the numbers inventory stream like the other imports
-- (048, 064): their rows are staged with their line while the file is
-- read, and merged in one transaction at the end. A destination or a
-- number the file lists twice is found among the staged rows (the index
-- by key), so reading the file keeps no set of the keys seen.
CREATE TABLE price_staging (
	import_id  TEXT NOT NULL,
	line       {{INT}} NOT NULL,
	account_id TEXT NOT NULL,
	channel    TEXT NOT NULL,
	unit       TEXT NOT NULL,
	country    TEXT NOT NULL,
	prefix     TEXT NOT NULL,
	currency   TEXT NOT NULL,
	price      {{INT}} NOT NULL,
	updated_at {{INT}} NOT NULL,
	PRIMARY KEY (import_id, line)
){{WITHOUT_ROWID}};
CREATE INDEX price_staging_key ON price_staging (import_id, channel, unit, country, prefix, currency, line);

CREATE TABLE stock_staging (
	import_id     TEXT NOT NULL,
	line          {{INT}} NOT NULL,
	number        TEXT NOT NULL,
	country       TEXT NOT NULL,
	region        TEXT NOT NULL,
	locality      TEXT NOT NULL,
	type          TEXT NOT NULL,
	features      TEXT NOT NULL,
	monthly_price {{INT}} NOT NULL,
	created_at    {{INT}} NOT NULL,
	PRIMARY KEY (import_id, line)
){{WITHOUT_ROWID}};
CREATE INDEX stock_staging_number ON stock_staging (import_id, number, line);
