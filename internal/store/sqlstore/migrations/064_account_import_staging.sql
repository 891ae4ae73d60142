-- An account's suppression and consent files stream like a do-not-disturb
-- registry (048): their rows are staged while the file is read, then
-- merged in one transaction at the end (all or nothing), so an import's
-- memory does not grow with its file. Dropped when the import ends.

-- A suppression file's rows; an address listed twice keeps its first row,
-- as adding them one by one would.
CREATE TABLE suppression_staging (
	import_id  TEXT NOT NULL,
	channel    TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	reason     TEXT NOT NULL,
	actor      TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	PRIMARY KEY (import_id, channel, recipient)
){{WITHOUT_ROWID}};

-- A consent file's entries in the file's order (seq), evidence sealed as
-- the ledger keeps it; supp_channel and supp_address are the suppression
-- an opt-out adds and an opt-in lifts.
CREATE TABLE consent_staging (
	import_id    TEXT NOT NULL,
	seq          {{INT}} NOT NULL,
	recipient    TEXT NOT NULL,
	purpose      TEXT NOT NULL,
	action       TEXT NOT NULL,
	legal_age    {{BOOL}} NOT NULL,
	categories   TEXT NOT NULL,
	source       TEXT NOT NULL,
	evidence     TEXT NOT NULL,
	actor        TEXT NOT NULL,
	created_at   {{INT}} NOT NULL,
	channel      TEXT NOT NULL,
	supp_channel TEXT NOT NULL,
	supp_address TEXT NOT NULL,
	supp_actor   TEXT NOT NULL,
	PRIMARY KEY (import_id, seq)
){{WITHOUT_ROWID}};
CREATE INDEX consent_staging_address ON consent_staging (import_id, supp_channel, supp_address, action, seq);
