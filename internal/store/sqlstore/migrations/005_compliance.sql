-- Compliance: per-account policy settings, the consent ledger, suppression
-- lists, national do-not-disturb registries, sender identities, the review
-- queue, proof-of-consent cases, complaints and the decisions taken.

ALTER TABLE accounts ADD COLUMN default_purpose TEXT NOT NULL DEFAULT 'transactional';
ALTER TABLE accounts ADD COLUMN transactional_to_opted_out {{BOOL}} NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN help_text TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN optout_instruction {{BOOL}} NOT NULL DEFAULT FALSE;
-- Quiet hours for marketing and restricted categories, minutes after local
-- midnight: allowed from quiet_end to quiet_start (default 08:00-21:00).
ALTER TABLE accounts ADD COLUMN window_start {{INT}} NOT NULL DEFAULT 480;
ALTER TABLE accounts ADD COLUMN window_end {{INT}} NOT NULL DEFAULT 1260;
-- Sender rules relaxed by an operator: who, when and why (empty: strict).
ALTER TABLE accounts ADD COLUMN sender_relaxed TEXT NOT NULL DEFAULT '';
-- Why the account is suspended (empty: it is not).
ALTER TABLE accounts ADD COLUMN suspended TEXT NOT NULL DEFAULT '';

-- The consent ledger: append-only.
CREATE TABLE consents (
	id         {{ID}},
	account_id TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	action     TEXT NOT NULL,
	legal_age  {{BOOL}} NOT NULL DEFAULT FALSE,
	categories TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL,
	evidence   TEXT NOT NULL DEFAULT '{}',
	actor      TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL
);
CREATE INDEX consents_recipient ON consents (account_id, recipient, purpose, id);

-- Recipients an account must not message (opted out, or added by hand).
CREATE TABLE suppressions (
	account_id TEXT NOT NULL,
	recipient  TEXT NOT NULL,
	reason     TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	PRIMARY KEY (account_id, recipient)
);

-- National do-not-disturb registries: numbers or prefixes.
CREATE TABLE dnd (
	registry    TEXT NOT NULL,
	prefix      TEXT NOT NULL,
	listed_at   {{INT}} NOT NULL,
	imported_at {{INT}} NOT NULL,
	PRIMARY KEY (registry, prefix)
);
CREATE INDEX dnd_prefix ON dnd (prefix);

-- Sender identities an account may use.
CREATE TABLE senders (
	account_id   TEXT NOT NULL,
	originator   TEXT NOT NULL,
	status       TEXT NOT NULL,
	requested_by TEXT NOT NULL DEFAULT '',
	decided_by   TEXT NOT NULL DEFAULT '',
	note         TEXT NOT NULL DEFAULT '',
	created_at   {{INT}} NOT NULL,
	decided_at   {{INT}} NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, originator)
);

-- Messages held for an operator's review.
CREATE TABLE reviews (
	message_id TEXT PRIMARY KEY,
	account_id TEXT NOT NULL,
	rule       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	status     TEXT NOT NULL,
	decided_by TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL,
	decided_at {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX reviews_status ON reviews (status, created_at);

-- Decisions that stopped or changed a message (allowed ones are recorded on
-- the message itself).
CREATE TABLE compliance_decisions (
	id         {{ID}},
	account_id TEXT NOT NULL,
	message_id TEXT NOT NULL DEFAULT '',
	recipient  TEXT NOT NULL DEFAULT '',
	rule       TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	reason     TEXT NOT NULL,
	created_at {{INT}} NOT NULL
);
CREATE INDEX compliance_decisions_account ON compliance_decisions (account_id, created_at);
ALTER TABLE messages ADD COLUMN purpose TEXT NOT NULL DEFAULT 'transactional';
ALTER TABLE messages ADD COLUMN categories TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN compliance TEXT NOT NULL DEFAULT '';

-- Proof-of-consent cases an operator opens; unanswered by due_at, the
-- account is suspended.
CREATE TABLE proof_cases (
	id          TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL,
	recipient   TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL,
	opened_by   TEXT NOT NULL,
	status      TEXT NOT NULL,
	due_at      {{INT}} NOT NULL,
	proof       TEXT NOT NULL DEFAULT '',
	created_at  {{INT}} NOT NULL,
	answered_at {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX proof_cases_open ON proof_cases (status, due_at);

CREATE TABLE complaints (
	id         {{ID}},
	account_id TEXT NOT NULL,
	recipient  TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL
);
CREATE INDEX complaints_account ON complaints (account_id, created_at);
