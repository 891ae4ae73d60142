-- Data-subject requests (issue 19 item 1, docs/privacy.md).
--
-- privacy_requests: one request about one person's identifier (international
-- digits of a phone number, a lower-cased email address, or a chat id).
-- account_id '' is an operator's request covering every account. kind is
-- access, erasure, restriction or rectification; status open, in_progress,
-- completed, refused or closed. due_at is 30 days after created_at, moved
-- once by 60 days (extended_at, extension_reason). outcome says in words
-- what was done, kept (and why) or could not be; export holds an access
-- request's zip. reminded_at / overdue_at: when the owner was told the
-- deadline is near / past.
CREATE TABLE privacy_requests (
	id               TEXT PRIMARY KEY,
	account_id       TEXT NOT NULL DEFAULT '',
	identifier       TEXT NOT NULL,
	id_kind          TEXT NOT NULL,
	kind             TEXT NOT NULL,
	status           TEXT NOT NULL,
	opened_by        TEXT NOT NULL,
	note             TEXT NOT NULL DEFAULT '',
	changes          TEXT NOT NULL DEFAULT '',
	outcome          TEXT NOT NULL DEFAULT '',
	export           {{BLOB}},
	created_at       {{INT}} NOT NULL,
	due_at           {{INT}} NOT NULL,
	extended_at      {{INT}} NOT NULL DEFAULT 0,
	extension_reason TEXT NOT NULL DEFAULT '',
	completed_at     {{INT}} NOT NULL DEFAULT 0,
	reminded_at      {{INT}} NOT NULL DEFAULT 0,
	overdue_at       {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX privacy_requests_account ON privacy_requests (account_id, created_at);
CREATE INDEX privacy_requests_due ON privacy_requests (status, due_at);

-- privacy_request_events: each request's history (opened, started,
-- extended, completed, refused, closed, reminded, overdue).
CREATE TABLE privacy_request_events (
	id         {{ID}},
	request_id TEXT NOT NULL,
	status     TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT '',
	actor      TEXT NOT NULL DEFAULT '',
	at         {{INT}} NOT NULL
);
CREATE INDEX privacy_request_events_request ON privacy_request_events (request_id, id);

-- privacy_restrictions: identifiers no message may go to while a
-- restriction request is open (rule privacy.restricted, every channel).
-- account_id '' restricts the identifier for every account.
CREATE TABLE privacy_restrictions (
	account_id TEXT NOT NULL,
	identifier TEXT NOT NULL,
	request_id TEXT NOT NULL,
	created_at {{INT}} NOT NULL,
	PRIMARY KEY (account_id, identifier, request_id)
);
CREATE INDEX privacy_restrictions_identifier ON privacy_restrictions (identifier);

-- Looking a person up in every account and table.
CREATE INDEX hlr_queries_msisdn ON hlr_queries (msisdn);
CREATE INDEX verifications_recipient_any ON verifications (recipient);
CREATE INDEX compliance_decisions_recipient ON compliance_decisions (account_id, recipient);
CREATE INDEX complaints_recipient ON complaints (account_id, recipient);
CREATE INDEX suppressions_recipient ON suppressions (recipient);
CREATE INDEX consents_recipient_any ON consents (recipient);
