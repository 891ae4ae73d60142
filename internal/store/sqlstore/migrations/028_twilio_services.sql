-- The Twilio door's inbound numbers and Messaging Services (issue 16,
-- docs/twilio.md).
--
-- twilio_numbers: the Twilio settings of an inbound number (numbers), as
-- IncomingPhoneNumbers sets them. sid is "PN" and 32 hex, derived from the
-- account and the number: a row of another account than the number's
-- (it was released and assigned to another) is stale and ignored.
CREATE TABLE twilio_numbers (
	number          TEXT PRIMARY KEY,
	account_id      TEXT NOT NULL,
	sid             TEXT NOT NULL,
	friendly_name   TEXT NOT NULL DEFAULT '',
	sms_url         TEXT NOT NULL DEFAULT '',
	sms_method      TEXT NOT NULL DEFAULT 'POST',
	status_callback TEXT NOT NULL DEFAULT '',
	created_at      {{INT}} NOT NULL,
	updated_at      {{INT}} NOT NULL
);
CREATE INDEX twilio_numbers_account ON twilio_numbers (account_id);

-- twilio_services: Messaging Services ("MG" and 32 hex).
CREATE TABLE twilio_services (
	sid             TEXT PRIMARY KEY,
	account_id      TEXT NOT NULL,
	friendly_name   TEXT NOT NULL DEFAULT '',
	inbound_url     TEXT NOT NULL DEFAULT '',
	inbound_method  TEXT NOT NULL DEFAULT 'POST',
	status_callback TEXT NOT NULL DEFAULT '',
	sticky_sender   {{BOOL}} NOT NULL DEFAULT TRUE,
	created_at      {{INT}} NOT NULL,
	updated_at      {{INT}} NOT NULL
);
CREATE INDEX twilio_services_account ON twilio_services (account_id);

-- twilio_service_senders: a service's sender pool. kind 'number' (sid is
-- the number's "PN" sid, sender its digits) or 'alpha' (sid "AI" and 32
-- hex, sender the alphanumeric sender).
CREATE TABLE twilio_service_senders (
	service_sid TEXT NOT NULL,
	sid         TEXT NOT NULL,
	account_id  TEXT NOT NULL,
	kind        TEXT NOT NULL,
	sender      TEXT NOT NULL,
	created_at  {{INT}} NOT NULL,
	PRIMARY KEY (service_sid, sid)
);
CREATE UNIQUE INDEX twilio_service_senders_sender ON twilio_service_senders (service_sid, sender);
