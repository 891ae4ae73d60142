package sqlstore

// The triggers of migration 059 that keep statement_count_deltas. SQLite
// runs a trigger for each row as it is written, so a recipient's trigger
// sees whether another recipient of its message and country is stored.
// PostgreSQL runs AFTER ROW triggers at the end of the statement, when every
// row of a multi-row insert or delete is already there or gone; its triggers
// therefore run once per statement over the rows it changed (transition
// tables), which also writes one change per key instead of one per row.

const sqliteStatementTriggers = `CREATE TRIGGER statement_counts_insert AFTER INSERT ON recipients
BEGIN
	INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
		SELECT NEW.account_id, NEW.created_at / 86400000000, m.channel, NEW.country, NEW.price_currency,
			CASE WHEN EXISTS (SELECT 1 FROM recipients o WHERE o.message_id = NEW.message_id AND o.country = NEW.country AND o.seq <> NEW.seq) THEN 0 ELSE 1 END,
			1, NEW.part_count, NEW.price
		FROM messages m WHERE m.id = NEW.message_id AND m.direction = 'mt';
END;
CREATE TRIGGER statement_counts_price AFTER UPDATE OF price ON recipients
	WHEN OLD.price <> NEW.price
BEGIN
	INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
		SELECT NEW.account_id, NEW.created_at / 86400000000, m.channel, NEW.country, NEW.price_currency, 0, 0, 0, NEW.price - OLD.price
		FROM messages m WHERE m.id = NEW.message_id AND m.direction = 'mt';
END;
CREATE TRIGGER statement_counts_delete AFTER DELETE ON recipients
BEGIN
	INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
		SELECT OLD.account_id, OLD.created_at / 86400000000, m.channel, OLD.country, OLD.price_currency,
			CASE WHEN EXISTS (SELECT 1 FROM recipients o WHERE o.message_id = OLD.message_id AND o.country = OLD.country) THEN 0 ELSE -1 END,
			-1, -OLD.part_count, -OLD.price
		FROM messages m WHERE m.id = OLD.message_id AND m.direction = 'mt';
END;
CREATE TRIGGER statement_counts_message_insert AFTER INSERT ON messages
	WHEN NEW.direction = 'mt'
BEGIN
	INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
		VALUES (NEW.account_id, NEW.created_at / 86400000000, NEW.channel, '*', '', 1, 0, 0, 0);
END;
CREATE TRIGGER statement_counts_message_delete AFTER DELETE ON messages
	WHEN OLD.direction = 'mt'
BEGIN
	INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
		VALUES (OLD.account_id, OLD.created_at / 86400000000, OLD.channel, '*', '', -1, 0, 0, 0);
END;`

const postgresStatementTriggers = `CREATE FUNCTION statement_counts_recipients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
			SELECT n.account_id, n.created_at / 86400000000, m.channel, n.country, n.price_currency, 0, COUNT(*), SUM(n.part_count), SUM(n.price)
			FROM new_rows n JOIN messages m ON m.id = n.message_id AND m.direction = 'mt'
			GROUP BY 1, 2, 3, 4, 5;
		-- A (message, country) pair is new when all its recipients are this statement's.
		INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
			SELECT g.account_id, g.day, g.channel, g.country, '', COUNT(*), 0, 0, 0
			FROM (SELECT n.message_id, n.account_id, n.created_at / 86400000000 AS day, m.channel, n.country, COUNT(*) AS c
				FROM new_rows n JOIN messages m ON m.id = n.message_id AND m.direction = 'mt'
				GROUP BY 1, 2, 3, 4, 5) g
			WHERE (SELECT COUNT(*) FROM recipients r WHERE r.message_id = g.message_id AND r.country = g.country) = g.c
			GROUP BY 1, 2, 3, 4;
	ELSE
		INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
			SELECT o.account_id, o.created_at / 86400000000, m.channel, o.country, o.price_currency, 0, -COUNT(*), -SUM(o.part_count), -SUM(o.price)
			FROM old_rows o JOIN messages m ON m.id = o.message_id AND m.direction = 'mt'
			GROUP BY 1, 2, 3, 4, 5;
		-- A (message, country) pair ends when none of its recipients is left.
		INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
			SELECT g.account_id, g.day, g.channel, g.country, '', -COUNT(*), 0, 0, 0
			FROM (SELECT DISTINCT o.message_id, o.account_id, o.created_at / 86400000000 AS day, m.channel, o.country
				FROM old_rows o JOIN messages m ON m.id = o.message_id AND m.direction = 'mt') g
			WHERE NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = g.message_id AND r.country = g.country)
			GROUP BY 1, 2, 3, 4;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER statement_counts_insert AFTER INSERT ON recipients REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION statement_counts_recipients();
CREATE TRIGGER statement_counts_delete AFTER DELETE ON recipients REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION statement_counts_recipients();
CREATE FUNCTION statement_counts_price() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
		SELECT NEW.account_id, NEW.created_at / 86400000000, m.channel, NEW.country, NEW.price_currency, 0, 0, 0, NEW.price - OLD.price
		FROM messages m WHERE m.id = NEW.message_id AND m.direction = 'mt';
	RETURN NULL;
END $$;
CREATE TRIGGER statement_counts_price AFTER UPDATE OF price ON recipients
	FOR EACH ROW WHEN (OLD.price IS DISTINCT FROM NEW.price) EXECUTE FUNCTION statement_counts_price();
CREATE FUNCTION statement_counts_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
			SELECT account_id, created_at / 86400000000, channel, '*', '', COUNT(*), 0, 0, 0
			FROM new_rows WHERE direction = 'mt' GROUP BY 1, 2, 3;
	ELSE
		INSERT INTO statement_count_deltas (account_id, day, channel, country, currency, messages, recipients, parts, amount)
			SELECT account_id, created_at / 86400000000, channel, '*', '', -COUNT(*), 0, 0, 0
			FROM old_rows WHERE direction = 'mt' GROUP BY 1, 2, 3;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER statement_counts_message_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION statement_counts_messages();
CREATE TRIGGER statement_counts_message_delete AFTER DELETE ON messages REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION statement_counts_messages();
ALTER TABLE statement_count_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
	autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);`
