-- Fallback of a Conversations send to another channel (issue 15, POST
-- /v1/send fallback{from, after}): one row per message that asked for one,
-- written in the message's accept commit. A runner claims a due row with a
-- conditional update (waiting, or claimed with an expired claim → claimed
-- by it), and the fallback message is written in the same commit that
-- marks the row sent, so it is sent once however many runners and nodes
-- look. spec is the fallback message as the door built it (JSON).

CREATE TABLE message_fallbacks (
	message_id    TEXT NOT NULL PRIMARY KEY,
	account_id    TEXT NOT NULL,
	fallback_id   TEXT NOT NULL,
	channel_id    TEXT NOT NULL,
	spec          TEXT NOT NULL,
	due_at        {{INT}} NOT NULL,
	state         TEXT NOT NULL,
	reason        TEXT NOT NULL DEFAULT '',
	claimed_by    TEXT NOT NULL DEFAULT '',
	claimed_until {{INT}} NOT NULL DEFAULT 0,
	updated_at    {{INT}} NOT NULL
);
CREATE INDEX message_fallbacks_due ON message_fallbacks (due_at) WHERE state IN ('waiting', 'claimed');
