-- Billing: a ledger of money movements per account (the balance column is
-- its running sum, kept in the same transaction as every entry), price
-- lists, usage limits and counters with one alert per threshold and period,
-- and top-up requests.

ALTER TABLE accounts ADD COLUMN payment TEXT NOT NULL DEFAULT 'prepaid';
ALTER TABLE accounts ADD COLUMN credit_limit {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN alert_url TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN alert_emails TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN topup_enabled {{BOOL}} NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN topup_threshold {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN topup_amount {{INT}} NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN topup_consent TEXT NOT NULL DEFAULT '';

-- Money movements. amount is signed micro-units: charges are negative.
CREATE TABLE ledger (
	id              {{ID}},
	account_id      TEXT NOT NULL,
	kind            TEXT NOT NULL,
	amount          {{INT}} NOT NULL,
	currency        TEXT NOT NULL,
	balance_after   {{INT}} NOT NULL,
	reference       TEXT NOT NULL DEFAULT '',
	reason          TEXT NOT NULL DEFAULT '',
	actor           TEXT NOT NULL DEFAULT '',
	idempotency_key TEXT NOT NULL DEFAULT '',
	created_at      {{INT}} NOT NULL
);
CREATE INDEX ledger_account ON ledger (account_id, created_at);
CREATE UNIQUE INDEX ledger_idempotency ON ledger (account_id, idempotency_key) WHERE idempotency_key <> '';

-- Prices per segment. account_id '' is the default list; country '' and
-- prefix '' match any destination.
CREATE TABLE prices (
	account_id TEXT NOT NULL DEFAULT '',
	channel    TEXT NOT NULL,
	country    TEXT NOT NULL DEFAULT '',
	prefix     TEXT NOT NULL DEFAULT '',
	currency   TEXT NOT NULL,
	price      {{INT}} NOT NULL,
	updated_at {{INT}} NOT NULL,
	PRIMARY KEY (account_id, channel, country, prefix, currency)
);

-- Usage limits: metric "messages" (per channel) or "spend"; period "day"
-- or "month"; policy "block" or "allow" at 100 %.
CREATE TABLE usage_limits (
	account_id  TEXT NOT NULL,
	metric      TEXT NOT NULL,
	channel     TEXT NOT NULL DEFAULT '',
	period      TEXT NOT NULL,
	limit_value {{INT}} NOT NULL,
	policy      TEXT NOT NULL,
	PRIMARY KEY (account_id, metric, channel, period)
);

CREATE TABLE usage_counters (
	account_id   TEXT NOT NULL,
	metric       TEXT NOT NULL,
	channel      TEXT NOT NULL DEFAULT '',
	period       TEXT NOT NULL,
	period_start {{INT}} NOT NULL,
	used         {{INT}} NOT NULL,
	PRIMARY KEY (account_id, metric, channel, period, period_start)
);

-- One row per alert sent: at most one per threshold and period.
CREATE TABLE usage_alerts (
	account_id   TEXT NOT NULL,
	metric       TEXT NOT NULL,
	channel      TEXT NOT NULL DEFAULT '',
	period       TEXT NOT NULL,
	period_start {{INT}} NOT NULL,
	threshold    {{INT}} NOT NULL,
	created_at   {{INT}} NOT NULL,
	PRIMARY KEY (account_id, metric, channel, period, period_start, threshold)
);

-- Top-up requests (automatic or not) until a provider or operator settles them.
CREATE TABLE topups (
	id              TEXT PRIMARY KEY,
	account_id      TEXT NOT NULL,
	amount          {{INT}} NOT NULL,
	currency        TEXT NOT NULL,
	status          TEXT NOT NULL,
	provider        TEXT NOT NULL,
	automatic       {{BOOL}} NOT NULL,
	idempotency_key TEXT NOT NULL DEFAULT '',
	requested_by    TEXT NOT NULL DEFAULT '',
	created_at      {{INT}} NOT NULL,
	settled_at      {{INT}} NOT NULL DEFAULT 0
);
CREATE INDEX topups_account ON topups (account_id, created_at);
-- At most one automatic top-up waits per account.
CREATE UNIQUE INDEX topups_one_pending ON topups (account_id) WHERE status = 'pending' AND automatic;

-- Existing balances become the opening entry of each account's ledger.
INSERT INTO ledger (account_id, kind, amount, currency, balance_after, reason, actor, created_at)
	SELECT id, 'adjustment', balance, currency, balance, 'opening balance', 'migration', created_at FROM accounts WHERE balance <> 0;
