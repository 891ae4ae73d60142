-- Carrier binds shared out between the nodes of one database: a connector
-- states how many binds it may open in total (its settings' binds), and
-- each slot 0..binds-1 is one lease row. The node holding a slot renews
-- its lease (expires_at, Unix microseconds) while the bind is wanted; a
-- node takes a slot with no row or whose lease ran out. A node that stops
-- gracefully frees its slots (holder '', expires_at now) so others take
-- them at once; a node that dies loses them when the lease runs out.
CREATE TABLE connector_binds (
	connector  TEXT NOT NULL,
	slot       {{INT}} NOT NULL,
	holder     TEXT NOT NULL DEFAULT '',
	expires_at {{INT}} NOT NULL,
	PRIMARY KEY (connector, slot)
);
