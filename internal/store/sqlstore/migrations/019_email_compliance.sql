-- Email compliance (issue 14, EMAIL-3 and EMAIL-5), in the account's
-- compliance policy beside the other rules' settings.

-- postal_address: the sender's physical postal address; marketing email is
-- refused without one, and compose prints it in the footer.
ALTER TABLE accounts ADD COLUMN postal_address TEXT NOT NULL DEFAULT '';

-- role_addresses: role local parts (info, sales …) an operator lets this
-- account send marketing to, separated by ",": "" for none.
ALTER TABLE accounts ADD COLUMN role_addresses TEXT NOT NULL DEFAULT '';
