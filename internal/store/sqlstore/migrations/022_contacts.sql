-- Contacts and groups of the MessageBird door (/contacts, /groups; issue 15).
-- A contact's personal data (number, names, custom fields) lives in the
-- contacts table alone, so erasing an account's personal data is one
-- DELETE there (group memberships hold ids only). Numbers need not be
-- unique within an account, as on MessageBird.

CREATE TABLE contacts (
	id         TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	msisdn     TEXT NOT NULL,
	first_name TEXT NOT NULL DEFAULT '',
	last_name  TEXT NOT NULL DEFAULT '',
	custom1    TEXT NOT NULL DEFAULT '',
	custom2    TEXT NOT NULL DEFAULT '',
	custom3    TEXT NOT NULL DEFAULT '',
	custom4    TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL,
	updated_at {{INT}} NOT NULL
);
CREATE INDEX contacts_account_created ON contacts (account_id, created_at, id);
CREATE INDEX contacts_account_msisdn ON contacts (account_id, msisdn);

CREATE TABLE contact_groups (
	id         TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	updated_at {{INT}} NOT NULL
);
CREATE INDEX contact_groups_account_created ON contact_groups (account_id, created_at, id);

CREATE TABLE group_members (
	account_id TEXT NOT NULL,
	group_id   TEXT NOT NULL,
	contact_id TEXT NOT NULL,
	added_at   {{INT}} NOT NULL,
	PRIMARY KEY (account_id, group_id, contact_id)
);
CREATE INDEX group_members_contact ON group_members (account_id, contact_id);
