-- Retention schedule (issue 19 item 2, docs/privacy.md).
--
-- retention_settings: the operator's period per kind of data, in days
-- (0: keep forever), overriding the configured defaults.
CREATE TABLE retention_settings (
	kind       TEXT PRIMARY KEY,
	days       {{INT}} NOT NULL,
	updated_by TEXT NOT NULL DEFAULT '',
	updated_at {{INT}} NOT NULL
);

-- retention_runs: one row per pass: when, on which node, and what went
-- per kind (counts as JSON: {"traffic": 120, "receipts": 0, …}).
CREATE TABLE retention_runs (
	id          {{ID}},
	node        TEXT NOT NULL,
	started_at  {{INT}} NOT NULL,
	finished_at {{INT}} NOT NULL,
	counts      TEXT NOT NULL,
	error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX retention_runs_started ON retention_runs (started_at);

-- maintenance_leases: a pass that one node at a time runs (retention on
-- several PostgreSQL nodes) claims its row until a time.
CREATE TABLE maintenance_leases (
	name        TEXT PRIMARY KEY,
	owner       TEXT NOT NULL,
	held_until  {{INT}} NOT NULL
);

-- The columns retention purges by.
CREATE INDEX recipients_created ON recipients (created_at);
CREATE INDEX compliance_decisions_created ON compliance_decisions (created_at);
CREATE INDEX consents_created ON consents (created_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
CREATE INDEX message_events_at ON message_events (at);
CREATE INDEX ledger_created ON ledger (created_at);
CREATE INDEX hlr_queries_created ON hlr_queries (created_at);
CREATE INDEX verifications_created ON verifications (created_at);
CREATE INDEX complaints_created ON complaints (created_at);
CREATE INDEX privacy_requests_completed ON privacy_requests (completed_at);
