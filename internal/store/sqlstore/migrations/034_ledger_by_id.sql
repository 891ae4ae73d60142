-- An account's ledger newest first (the Balance page, the API's ledger,
-- a month's statement read page by page) is ordered by id: with only
-- (account_id, created_at) the engine sorted every entry of the account
-- for each page (22 ms at 20,000 charges on SQLite, seconds at a million).
CREATE INDEX ledger_account_id ON ledger (account_id, id);
