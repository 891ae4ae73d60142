-- The audit log (issue 19, docs/audit.md): every change an operator, a
-- user or an access key made, hash-chained. seq is given by the writer
-- (audit_head.seq + 1, in the transaction that moves the head), so rows are
-- numbered without gaps in the order of the chain; prev_hash is the hash
-- of row seq-1 (64 zeros for the first) and hash is
-- SHA-256(prev_hash || canonical row) in hex (internal/audit.Seal).
-- before_json and after_json hold JSON with secrets masked ('' when
-- unknown). at is in microseconds (UTC), as every time column.
CREATE TABLE audit_log (
	seq         {{INT}} NOT NULL PRIMARY KEY,
	at          {{INT}} NOT NULL,
	actor_kind  TEXT NOT NULL,
	actor_id    TEXT NOT NULL DEFAULT '',
	account_id  TEXT NOT NULL DEFAULT '',
	ip          TEXT NOT NULL DEFAULT '',
	action      TEXT NOT NULL,
	object      TEXT NOT NULL DEFAULT '',
	before_json TEXT NOT NULL DEFAULT '',
	after_json  TEXT NOT NULL DEFAULT '',
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL
);
CREATE INDEX audit_log_account ON audit_log (account_id, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- audit_head is the chain's one head row: every append updates it in its
-- transaction, which serialises appends across nodes (PostgreSQL's row
-- lock; SQLite's single writer) so the chain stays linear.
CREATE TABLE audit_head (
	id   {{INT}} NOT NULL PRIMARY KEY CHECK (id = 1),
	seq  {{INT}} NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The log is append-only: the store has no update or delete path, and a
-- trigger refuses UPDATE and DELETE (and on PostgreSQL TRUNCATE).
{{AUDIT_APPEND_ONLY}}

-- backup_runs: the scheduled backups (omnigate serve --backup-dir). The
-- node that inserts a period's row ('daily 2026-12-04') makes that
-- period's backup; the others see the row and skip it. file is the backup
-- made ('' until done), error why it failed.
CREATE TABLE backup_runs (
	period      TEXT NOT NULL PRIMARY KEY,
	node        TEXT NOT NULL,
	started_at  {{INT}} NOT NULL,
	finished_at {{INT}} NOT NULL DEFAULT 0,
	file        TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT ''
);
