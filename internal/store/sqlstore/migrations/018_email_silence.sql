-- Email: a recipient a server answered 250 becomes delivered when no bounce
-- came within the channel's settle window (channel.Spec.Silence). The
-- maintenance loop finds them by the time they were sent.
CREATE INDEX recipients_sent_at ON recipients (status_at)
	WHERE status = 'sent' AND connector <> '';
