-- Push credentials per Beams instance (docs/push.md): an instance's own
-- APNs token key and FCM service account, used instead of the process's
-- --apns-* and --fcm-* defaults. The private keys are sealed with the
-- keyring (secrets.go); the rest is shown to the account.
CREATE TABLE push_apns_credentials (
	instance_id TEXT NOT NULL PRIMARY KEY,
	account_id  TEXT NOT NULL,
	key_id      TEXT NOT NULL,
	team_id     TEXT NOT NULL,
	topic       TEXT NOT NULL,
	sandbox     {{BOOL}} NOT NULL,
	private_key TEXT NOT NULL,
	updated_at  {{INT}} NOT NULL
);
CREATE TABLE push_fcm_credentials (
	instance_id  TEXT NOT NULL PRIMARY KEY,
	account_id   TEXT NOT NULL,
	project_id   TEXT NOT NULL,
	client_email TEXT NOT NULL,
	private_key  TEXT NOT NULL,
	updated_at   {{INT}} NOT NULL
);

-- A publish to an interest with more devices than one transaction should
-- hold queues its delivery jobs in batches: fanout_after is the last
-- device id queued so far ('' when every device is queued). Each batch
-- moves it in the same commit as its jobs, so a crash resumes after the
-- last committed batch, and two workers cannot queue one batch twice.
ALTER TABLE push_publishes ADD COLUMN fanout_after TEXT NOT NULL DEFAULT '';
