package sqlstore

// The triggers of migration 056 that keep message_count_deltas: one signed
// row per change of an outgoing recipient's count or price. SQLite and
// PostgreSQL write triggers differently, so each dialect has its own text.
// On PostgreSQL the changes table is a queue (rows added, then deleted by
// the fold): it is vacuumed after every 10,000 changes rather than after a
// fifth of the table, so that the fold does not wade through dead rows.

const sqliteCountTriggers = `CREATE TRIGGER message_counts_insert AFTER INSERT ON recipients
BEGIN
	INSERT INTO message_count_deltas (account_id, day, channel, status, n, charged)
		SELECT NEW.account_id, NEW.created_at / 86400000000, m.channel, NEW.status, 1, NEW.price
		FROM messages m WHERE m.id = NEW.message_id AND m.direction = 'mt';
END;
CREATE TRIGGER message_counts_update AFTER UPDATE OF status, price ON recipients
	WHEN OLD.status <> NEW.status OR OLD.price <> NEW.price
BEGIN
	INSERT INTO message_count_deltas (account_id, day, channel, status, n, charged)
		SELECT OLD.account_id, OLD.created_at / 86400000000, m.channel, OLD.status, -1, -OLD.price
		FROM messages m WHERE m.id = OLD.message_id AND m.direction = 'mt';
	INSERT INTO message_count_deltas (account_id, day, channel, status, n, charged)
		SELECT NEW.account_id, NEW.created_at / 86400000000, m.channel, NEW.status, 1, NEW.price
		FROM messages m WHERE m.id = NEW.message_id AND m.direction = 'mt';
END;
CREATE TRIGGER message_counts_delete AFTER DELETE ON recipients
BEGIN
	INSERT INTO message_count_deltas (account_id, day, channel, status, n, charged)
		SELECT OLD.account_id, OLD.created_at / 86400000000, m.channel, OLD.status, -1, -OLD.price
		FROM messages m WHERE m.id = OLD.message_id AND m.direction = 'mt';
END;`

const postgresCountTriggers = `CREATE FUNCTION message_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ch TEXT;
BEGIN
	IF TG_OP <> 'INSERT' THEN
		SELECT channel INTO ch FROM messages WHERE id = OLD.message_id AND direction = 'mt';
		IF FOUND THEN
			INSERT INTO message_count_deltas (account_id, day, channel, status, n, charged)
				VALUES (OLD.account_id, OLD.created_at / 86400000000, ch, OLD.status, -1, -OLD.price);
		END IF;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		SELECT channel INTO ch FROM messages WHERE id = NEW.message_id AND direction = 'mt';
		IF FOUND THEN
			INSERT INTO message_count_deltas (account_id, day, channel, status, n, charged)
				VALUES (NEW.account_id, NEW.created_at / 86400000000, ch, NEW.status, 1, NEW.price);
		END IF;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER message_counts_insert_delete AFTER INSERT OR DELETE ON recipients
	FOR EACH ROW EXECUTE FUNCTION message_counts_track();
CREATE TRIGGER message_counts_update AFTER UPDATE OF status, price ON recipients
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.price IS DISTINCT FROM NEW.price)
	EXECUTE FUNCTION message_counts_track();
ALTER TABLE message_count_deltas SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
	autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);`
