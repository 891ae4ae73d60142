-- The WhatsApp template registry (issue 15): an account's message
-- templates per Conversations channel, one row per name and language (a
-- language variant), with the provider's review. components is the Cloud
-- API's component list as JSON; provider_id the template's id at the
-- provider once submitted; waba_id the business account it was submitted
-- to, which the provider's status webhooks name.

CREATE TABLE whatsapp_templates (
	id              TEXT NOT NULL PRIMARY KEY,
	account_id      TEXT NOT NULL,
	channel_id      TEXT NOT NULL,
	connector       TEXT NOT NULL,
	waba_id         TEXT NOT NULL,
	name            TEXT NOT NULL,
	language        TEXT NOT NULL,
	category        TEXT NOT NULL,
	components      TEXT NOT NULL,
	params          {{INT}} NOT NULL,
	status          TEXT NOT NULL,
	rejected_reason TEXT NOT NULL,
	provider_id     TEXT NOT NULL,
	created_at      {{INT}} NOT NULL,
	updated_at      {{INT}} NOT NULL
);
CREATE UNIQUE INDEX whatsapp_templates_variant ON whatsapp_templates (account_id, channel_id, name, language);
CREATE INDEX whatsapp_templates_provider ON whatsapp_templates (waba_id, provider_id);
