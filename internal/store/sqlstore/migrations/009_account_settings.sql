-- Per-account switches an operator sets (omnigate account update, PUT
-- /admin/accounts/{id}/settings).

-- strict_numbers: recipients must be numbers libphonenumber knows as valid;
-- by default every possible number (the right length for its country) is
-- accepted and the carrier decides.
ALTER TABLE accounts ADD COLUMN strict_numbers {{BOOL}} NOT NULL DEFAULT FALSE;
