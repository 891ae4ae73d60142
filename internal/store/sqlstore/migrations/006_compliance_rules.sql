-- Compliance settings per country and per rule.

-- Quiet hours that differ by country: "FR=08:00-20:00;IN=09:00-21:00"
-- (empty: the account's window everywhere).
ALTER TABLE accounts ADD COLUMN country_windows TEXT NOT NULL DEFAULT '';
-- A number the account owns that replaces an alphanumeric sender in
-- countries that do not carry them (empty: such messages are rejected).
ALTER TABLE accounts ADD COLUMN sender_fallback TEXT NOT NULL DEFAULT '';
-- Content rule overrides: "content.iban=reject;content.link_shortener=off"
-- (empty: the defaults).
ALTER TABLE accounts ADD COLUMN content_rules TEXT NOT NULL DEFAULT '';
