-- Bulk imports as jobs (docs/operations.md "Imports"): one row per import,
-- its state and progress, readable through the admin and customer APIs.
-- account_id is '' for an operator's import (do-not-disturb registries,
-- prices, numbers); test is set for an import made with a test key.
CREATE TABLE imports (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL DEFAULT '',
	test        {{BOOL}} NOT NULL DEFAULT FALSE,
	kind        TEXT NOT NULL,
	params      TEXT NOT NULL DEFAULT '{}',
	origin      TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL,
	size        {{INT}} NOT NULL DEFAULT 0,
	bytes_read  {{INT}} NOT NULL DEFAULT 0,
	rows_read   {{INT}} NOT NULL DEFAULT 0,
	imported    {{INT}} NOT NULL DEFAULT 0,
	error_count {{INT}} NOT NULL DEFAULT 0,
	errors      TEXT NOT NULL DEFAULT '',
	created_at  {{INT}} NOT NULL,
	updated_at  {{INT}} NOT NULL,
	finished_at {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX imports_account ON imports (account_id, created_at);

-- A registry file's rows while it is read, before they are merged into dnd
-- in one transaction (all or nothing); dropped when the import ends.
CREATE TABLE dnd_staging (
	import_id TEXT NOT NULL,
	prefix    TEXT NOT NULL,
	listed_at {{INT}} NOT NULL,
	PRIMARY KEY (import_id, prefix)
){{WITHOUT_ROWID}};
