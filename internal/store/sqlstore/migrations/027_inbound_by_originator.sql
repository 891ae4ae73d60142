-- The WhatsApp 24-hour window (issue 15): when did an address last write to
-- an account on a channel (Store.LastInbound). Inbound messages only.

CREATE INDEX messages_inbound_originator ON messages (account_id, channel, originator, created_at) WHERE direction = 'mo';
