-- GET /hlr lists an account's HLR queries, newest first.
CREATE INDEX hlr_queries_account_created ON hlr_queries (account_id, created_at);
