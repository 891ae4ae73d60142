-- Per-account switches an operator sets (omnigate account update, PUT
-- /admin/accounts/{id}/settings).

-- strict_numbers: recipients must be numbers libphonenumber knows as valid;
-- by default every possible number (the right length for its country) is
-- accepted and the carrier decides.
ALTER TABLE accounts ADD COLUMN strict_numbers {{BOOL}} NOT NULL DEFAULT FALSE;

-- legacy_signature: how the account's receiver canonicalises the query when
-- it checks the legacy MessageBird-Signature of status reports: 'node'
-- (%20 for spaces, the default), 'go', 'php' or 'ruby' (+ for spaces, and other
-- differences), after the official SDK whose verifier it uses.
ALTER TABLE accounts ADD COLUMN legacy_signature TEXT NOT NULL DEFAULT 'node';
