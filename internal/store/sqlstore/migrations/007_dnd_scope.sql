-- A do-not-disturb registry covers every message ('all', the default) or
-- only marketing ('marketing'; national registries such as India's NCPR
-- that let transactional messages through). Kept on each entry so the
-- screening query needs no join.
ALTER TABLE dnd ADD COLUMN scope TEXT NOT NULL DEFAULT 'all';
