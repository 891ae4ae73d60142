package realtime

import (
	"context"
	"sync"
	"time"
)

// Subscription counts.
//
// An app with SubscriptionCount on sends a channel's subscribers
// pusher_internal:subscription_count {"subscription_count": n} when the
// channel's count across the cluster changes (pusher-js emits it as
// pusher:subscription_count and keeps channel.subscriptionCount), and the
// leader sends the subscription_count webhook event. Changes are gathered
// and sent every SubscriptionCountInterval: at most one event per channel
// per interval, carrying the count at that moment. Presence channels have
// them too (pusher-js handles them there as well); the count is of
// subscriptions, not members. Each node tells its own subscribers, from its view of the cluster.

// subCounts gathers the channels whose counts changed since the last send.
type subCounts struct {
	mu    sync.Mutex
	dirty map[chanKey]struct{}
}

func (s *subCounts) mark(k chanKey) {
	s.mu.Lock()
	if s.dirty == nil {
		s.dirty = map[chanKey]struct{}{}
	}
	s.dirty[k] = struct{}{}
	s.mu.Unlock()
}

func (s *subCounts) take() map[chanKey]struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirty
	s.dirty = nil
	return d
}

// subscriptionCountData is the data of pusher_internal:subscription_count.
type subscriptionCountData struct {
	Count int `json:"subscription_count"`
}

// sendSubscriptionCounts tells the subscribers of each changed channel its
// count, for the apps that asked for it.
func (s *Server) sendSubscriptionCounts(now time.Time) {
	dirty := s.subCounts.take()
	if len(dirty) == 0 {
		return
	}
	s.cluster.mu.Lock()
	leader := s.cluster.leader(now)
	s.cluster.mu.Unlock()
	for k := range dirty {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		app, err := s.apps.byID(ctx, k.app)
		cancel()
		if err != nil || app == nil || !app.SubscriptionCount {
			continue
		}
		n := s.cluster.channel(k).Subscriptions
		if n == 0 {
			continue // vacated: nobody to tell; channel_vacated says it
		}
		frame := encodeFrame("pusher_internal:subscription_count", k.channel, stringData(subscriptionCountData{n}), "")
		if d := s.hub.deliver(k.app, k.channel, frame, ""); d > 0 {
			s.usage.add(k.app, int64(d))
		}
		if leader {
			s.webhooks.add(k.app, webhookEvent{Name: "subscription_count", Channel: k.channel, SubscriptionCount: &n})
		}
	}
}
