-- Suppressions become one list for every channel, keyed by (account,
-- channel, address), and removing one is recorded (who, when, why): a
-- suppression removed is not forgotten. Stored templates with a variant
-- per language (issue 14).
--
-- Existing rows came from the SMS channel (phone numbers, kept as they
-- are); an address with '@' can only have been an email address opted out
-- through the consent ledger, so it moves to the email channel, lowercased
-- as email addresses are matched.

CREATE TABLE suppressions_v15 (
	account_id TEXT NOT NULL,
	channel    TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	reason     TEXT NOT NULL,
	actor      TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL,
	PRIMARY KEY (account_id, channel, recipient)
);

INSERT INTO suppressions_v15 (account_id, channel, recipient, reason, actor, created_at)
SELECT account_id, CASE WHEN recipient LIKE '%@%' THEN 'email' ELSE 'sms' END,
	CASE WHEN recipient LIKE '%@%' THEN LOWER(recipient) ELSE recipient END, reason, '', created_at
FROM suppressions WHERE TRUE -- (SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT)
ON CONFLICT DO NOTHING;

DROP TABLE suppressions;
ALTER TABLE suppressions_v15 RENAME TO suppressions;
CREATE INDEX suppressions_account_created ON suppressions (account_id, created_at);

-- Suppressions removed: what was removed and why it had been added, who
-- removed it, when and why.
CREATE TABLE suppression_removals (
	id             {{ID}},
	account_id     TEXT NOT NULL,
	channel        TEXT NOT NULL,
	recipient      TEXT NOT NULL,
	reason         TEXT NOT NULL,
	actor          TEXT NOT NULL DEFAULT '',
	created_at     {{INT}} NOT NULL,
	removed_by     TEXT NOT NULL,
	removal_reason TEXT NOT NULL,
	removed_at     {{INT}} NOT NULL
);
CREATE INDEX suppression_removals_recipient ON suppression_removals (account_id, channel, recipient, id);

-- Templates: one row per template, one per language variant. variables is
-- a JSON object of the declared variables and their defaults ("" for none).
CREATE TABLE templates (
	account_id       TEXT NOT NULL,
	name             TEXT NOT NULL,
	default_language TEXT NOT NULL,
	variables        TEXT NOT NULL DEFAULT '{}',
	created_at       {{INT}} NOT NULL,
	updated_at       {{INT}} NOT NULL,
	PRIMARY KEY (account_id, name)
);

CREATE TABLE template_variants (
	account_id TEXT NOT NULL,
	name       TEXT NOT NULL,
	language   TEXT NOT NULL,
	subject    TEXT NOT NULL DEFAULT '',
	text_body  TEXT NOT NULL DEFAULT '',
	html_body  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (account_id, name, language)
);
