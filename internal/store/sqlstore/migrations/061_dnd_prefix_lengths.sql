-- The lengths of the prefixes the do-not-disturb registries hold, so that
-- screening looks a number up at those lengths only (one lookup for a
-- registry of whole numbers) rather than at every length of the number.
-- It may hold a length no entry has any more (an entry removed, an import
-- that failed after staging): that costs a lookup that finds nothing,
-- never a miss. Every code path that adds entries adds their lengths in
-- the same transaction (internal/store/sqlstore/compliance.go, imports.go).
CREATE TABLE dnd_prefix_lengths (
	digits INTEGER PRIMARY KEY
);
INSERT INTO dnd_prefix_lengths (digits) SELECT DISTINCT length(prefix) FROM dnd;
-- A table this small is never analyzed by the row-count rules, and
-- PostgreSQL guesses thousands of rows for a table never analyzed: enough
-- to cost screening as a big join and compile it (JIT, ~300 ms a run).
ANALYZE dnd_prefix_lengths;
