-- Plans, subscriptions and invoices (ACCT-2): a plan has a monthly fee,
-- included seats, a price per extra seat and add-ons; an account has at
-- most one subscription (a trial, or a paid plan renewed monthly in
-- advance); every period is invoiced, numbered per account, and charged
-- through the ledger.
CREATE TABLE plans (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	currency       TEXT NOT NULL,
	monthly_fee    {{INT}} NOT NULL,
	included_seats {{INT}} NOT NULL,
	seat_price     {{INT}} NOT NULL,
	addons         TEXT NOT NULL,
	created_at     {{INT}} NOT NULL,
	updated_at     {{INT}} NOT NULL
);

CREATE TABLE subscriptions (
	account_id    TEXT PRIMARY KEY,
	plan_id       TEXT NOT NULL,
	status        TEXT NOT NULL,
	addons        TEXT NOT NULL,
	trial_credit  {{INT}} NOT NULL DEFAULT 0,
	trial_ends_at {{INT}} NOT NULL DEFAULT 0,
	period_start  {{INT}} NOT NULL DEFAULT 0,
	period_end    {{INT}} NOT NULL DEFAULT 0,
	created_at    {{INT}} NOT NULL,
	updated_at    {{INT}} NOT NULL
);
CREATE INDEX subscriptions_due ON subscriptions (status, period_end);

CREATE TABLE invoices (
	id           TEXT PRIMARY KEY,
	account_id   TEXT NOT NULL,
	seq          {{INT}} NOT NULL,
	number       TEXT NOT NULL,
	plan_id      TEXT NOT NULL,
	period_start {{INT}} NOT NULL,
	period_end   {{INT}} NOT NULL,
	currency     TEXT NOT NULL,
	total        {{INT}} NOT NULL,
	lines        TEXT NOT NULL,
	status       TEXT NOT NULL,
	issued_at    {{INT}} NOT NULL,
	due_at       {{INT}} NOT NULL,
	paid_at      {{INT}} NOT NULL DEFAULT 0,
	failed_at    {{INT}} NOT NULL DEFAULT 0,
	disputed_at  {{INT}} NOT NULL DEFAULT 0,
	attempts     {{INT}} NOT NULL DEFAULT 0,
	retry_at     {{INT}} NOT NULL DEFAULT 0,
	notified     TEXT NOT NULL DEFAULT '',
	ledger_id    {{INT}} NOT NULL DEFAULT 0,
	note         TEXT NOT NULL DEFAULT '',
	UNIQUE (account_id, seq)
);
CREATE INDEX invoices_status ON invoices (status, retry_at);
