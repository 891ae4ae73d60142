-- The roll-ups' changes for new messages and recipients are written by
-- the code that inserts them, one change per key and batch
-- (internal/store/sqlstore/counts_accept.go), instead of by a trigger per
-- row. The triggers on updates and deletions stay.
{{DROP_INSERT_COUNT_TRIGGERS}}

-- Nothing reads the Overview's changes by account and day (the fold takes
-- the oldest by id; the Overview reads the folded counts), but every
-- change wrote this index.
DROP INDEX message_count_deltas_account;
