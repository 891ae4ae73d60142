-- Realtime (Pusher Channels-compatible) apps, their daily message counts and
-- usage alerts, and the error log of refused or closed connections.

-- Apps. secret is needed in clear to sign and verify (see
-- store.RealtimeApp); previous_secret stays valid until previous_expires_at
-- after a rotation. webhook_events is a comma-separated list ('' = all).
CREATE TABLE realtime_apps (
	id                  TEXT PRIMARY KEY,
	account_id          TEXT NOT NULL REFERENCES accounts (id),
	name                TEXT NOT NULL DEFAULT '',
	app_key             TEXT NOT NULL UNIQUE,
	secret              TEXT NOT NULL,
	previous_secret     TEXT NOT NULL DEFAULT '',
	previous_expires_at {{INT}} NOT NULL DEFAULT 0,
	enabled             {{BOOL}} NOT NULL,
	max_connections     {{INT}} NOT NULL DEFAULT 0,
	max_messages_day    {{INT}} NOT NULL DEFAULT 0,
	webhook_url         TEXT NOT NULL DEFAULT '',
	webhook_events      TEXT NOT NULL DEFAULT '',
	client_event_rate   {{INT}} NOT NULL DEFAULT 0,
	created_at          {{INT}} NOT NULL,
	updated_at          {{INT}} NOT NULL
);
CREATE INDEX realtime_apps_account ON realtime_apps (account_id, created_at);

-- Messages per app and UTC day ('YYYY-MM-DD'), added to by every node.
CREATE TABLE realtime_usage (
	app_id   TEXT NOT NULL,
	day      TEXT NOT NULL,
	messages {{INT}} NOT NULL,
	PRIMARY KEY (app_id, day)
);

-- One row per usage alert sent: (app, day, limit, threshold) is sent once.
CREATE TABLE realtime_alerts (
	app_id     TEXT NOT NULL,
	day        TEXT NOT NULL,
	limit_name TEXT NOT NULL,
	threshold  {{INT}} NOT NULL,
	PRIMARY KEY (app_id, day, limit_name, threshold)
);

-- Error log. ip is personal data: at most store.RealtimeErrorsPerApp rows
-- per app, none older than store.RealtimeErrorRetention (deleted, not
-- hidden).
CREATE TABLE realtime_errors (
	id         {{ID}},
	account_id TEXT NOT NULL,
	app_id     TEXT NOT NULL,
	code       {{INT}} NOT NULL,
	message    TEXT NOT NULL,
	ip         TEXT NOT NULL,
	at         {{INT}} NOT NULL
);
CREATE INDEX realtime_errors_app ON realtime_errors (app_id, at);
CREATE INDEX realtime_errors_at ON realtime_errors (at);
