-- Realtime apps: subscription_count, when true, sends each channel's
-- subscribers pusher_internal:subscription_count when the channel's
-- subscription count changes, and the subscription_count webhook event
-- (Pusher's "subscription count" app setting; off by default, as there).
ALTER TABLE realtime_apps ADD COLUMN subscription_count {{BOOL}} NOT NULL DEFAULT FALSE;
