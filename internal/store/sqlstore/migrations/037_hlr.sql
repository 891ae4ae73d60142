-- HLR queries (issue 17: Lookup and HLR). One row per query an account
-- asked for (POST /hlr, POST /lookup/{n}/hlr) or that the pre-send check
-- made: status 'sent' until the HLR provider answers, then active, absent,
-- unknown or failed. price is what the query was charged (refunded when it
-- failed). details is the provider's answer as JSON text ('' while sent).
CREATE TABLE hlr_queries (
	id         TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	msisdn     TEXT NOT NULL,
	country    TEXT NOT NULL DEFAULT '',
	reference  TEXT NOT NULL DEFAULT '',
	origin     TEXT NOT NULL DEFAULT 'api',
	status     TEXT NOT NULL,
	network    {{INT}} NOT NULL DEFAULT 0,
	details    TEXT NOT NULL DEFAULT '',
	price      {{INT}} NOT NULL DEFAULT 0,
	currency   TEXT NOT NULL DEFAULT '',
	created_at {{INT}} NOT NULL,
	status_at  {{INT}} NOT NULL DEFAULT 0
);
-- The latest query of a number (GET /lookup/{n}/hlr, the pre-send cache).
CREATE INDEX hlr_queries_account_msisdn ON hlr_queries (account_id, msisdn, created_at);

-- Per-account HLR settings: check_before_send makes the pipeline ask the
-- HLR about each SMS recipient (reusing a result up to max_age seconds
-- old) and fail absent and unknown numbers uncharged; report_url receives
-- the answers of the account's queries (MessageBird's HLR callback URL).
CREATE TABLE hlr_settings (
	account_id        TEXT NOT NULL PRIMARY KEY,
	check_before_send {{BOOL}} NOT NULL DEFAULT FALSE,
	max_age           {{INT}} NOT NULL DEFAULT 0,
	report_url        TEXT NOT NULL DEFAULT ''
);
