-- Push notifications (Pusher Beams-compatible, docs/push.md). A Beams
-- instance is a realtime app: its id is the instance id, its secret the
-- secret key. Devices registered by the client SDKs, with the interests
-- they subscribed to and the user they were bound to (a Beams token).
-- platform is web, apns or fcm; token is the APNs device token, the FCM
-- registration token or the Web Push subscription as JSON.
CREATE TABLE push_devices (
	instance_id TEXT NOT NULL,
	id          TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	platform    TEXT NOT NULL,
	token       TEXT NOT NULL,
	user_id     TEXT NOT NULL DEFAULT '',
	metadata    TEXT NOT NULL DEFAULT '',
	created_at  {{INT}} NOT NULL,
	updated_at  {{INT}} NOT NULL,
	PRIMARY KEY (instance_id, id)
);
CREATE INDEX push_devices_user ON push_devices (instance_id, user_id);

CREATE TABLE push_interests (
	instance_id TEXT NOT NULL,
	interest    TEXT NOT NULL,
	device_id   TEXT NOT NULL,
	PRIMARY KEY (instance_id, interest, device_id)
);
CREATE INDEX push_interests_device ON push_interests (instance_id, device_id);

-- Publishes: what was asked (targets and body as JSON) and how many
-- deliveries it made; one push job per delivery, written in the same commit.
CREATE TABLE push_publishes (
	instance_id TEXT NOT NULL,
	id          TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	target      TEXT NOT NULL,
	targets     TEXT NOT NULL,
	body        TEXT NOT NULL,
	deliveries  {{INT}} NOT NULL,
	created_at  {{INT}} NOT NULL,
	PRIMARY KEY (instance_id, id)
);
CREATE INDEX push_publishes_at ON push_publishes (created_at);

-- Quota per instance: publishes per UTC month (0: unlimited), counted per
-- month, with the 80 % and 100 % alerts recorded once per month.
CREATE TABLE push_quotas (
	instance_id         TEXT NOT NULL PRIMARY KEY,
	max_publishes_month {{INT}} NOT NULL DEFAULT 0
);
CREATE TABLE push_usage (
	instance_id TEXT NOT NULL,
	month       TEXT NOT NULL,
	publishes   {{INT}} NOT NULL,
	PRIMARY KEY (instance_id, month)
);
CREATE TABLE push_alerts (
	instance_id TEXT NOT NULL,
	month       TEXT NOT NULL,
	threshold   {{INT}} NOT NULL,
	PRIMARY KEY (instance_id, month, threshold)
);
