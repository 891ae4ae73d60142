package realtime

import (
	"sync"
	"time"
)

// hub holds this node's connections by app, channel and signed-in user,
// and delivers frames to them. Delivery takes the read lock only and never
// blocks: a frame is queued on each connection (see outbox).
//
// Lock order: cluster.mu, then hub.mu.
type hub struct {
	mu    sync.RWMutex
	apps  map[string]*appConns
	cache *eventCache // cache channels' last events
}

type appConns struct {
	conns    map[*conn]struct{}
	channels map[string]map[*conn]struct{}
	users    map[string]map[*conn]struct{}
	watchers map[string]map[*conn]struct{} // watched user → connections watching
	ext      map[string]*extChannel        // channel → subscribers using protocol extensions
}

func newHub(cacheTTL time.Duration) *hub {
	return &hub{apps: map[string]*appConns{}, cache: newEventCache(cacheTTL)}
}

func (h *hub) app(id string) *appConns {
	a := h.apps[id]
	if a == nil {
		a = &appConns{conns: map[*conn]struct{}{}, channels: map[string]map[*conn]struct{}{}, users: map[string]map[*conn]struct{}{},
			watchers: map[string]map[*conn]struct{}{}, ext: map[string]*extChannel{}}
		h.apps[id] = a
	}
	return a
}

// add registers a connection and returns how many its app now has here.
func (h *hub) add(c *conn) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.app(c.appID)
	a.conns[c] = struct{}{}
	return len(a.conns)
}

// remove forgets a connection (its channels must be left first).
func (h *hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.apps[c.appID]
	if a == nil {
		return
	}
	delete(a.conns, c)
	if c.userID != "" {
		removeFrom(a.users, c.userID, c)
	}
	for _, w := range c.watchlist {
		removeFrom(a.watchers, w, c)
	}
	if len(a.conns) == 0 {
		delete(h.apps, c.appID)
	}
}

func removeFrom(m map[string]map[*conn]struct{}, key string, c *conn) {
	if set := m[key]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(m, key)
		}
	}
}

// join adds c to a channel and queues first (the subscription's success)
// to it before any event of the channel can reach it. On a cache channel
// the channel's last event follows (cached reports it), or
// pusher:cache_miss (missed reports it). Events are cached under the read lock (deliverEvent),
// so a subscriber gets the cached event or the live one, never both and
// never an older one after a newer.
// A subscriber that uses a protocol extension (x) joins the channel's
// extChannel instead of its plain set.
func (h *hub) join(c *conn, channel string, first []byte, x subscribeExt) (cached, missed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.app(c.appID)
	if x.used() {
		e := a.ext[channel]
		if e == nil {
			e = &extChannel{subs: map[*conn]*extSub{}, groups: map[string]*extGroup{}}
			a.ext[channel] = e
		}
		e.add(c, x)
	} else {
		set := a.channels[channel]
		if set == nil {
			set = map[*conn]struct{}{}
			a.channels[channel] = set
		}
		set[c] = struct{}{}
	}
	c.send(first)
	if !isCacheChannel(channel) {
		return false, false
	}
	// A subscriber with a tag filter gets the last event only if it
	// matches; for it, another one is a miss.
	if last, tags := h.cache.getTagged(chanKey{c.appID, channel}, time.Now()); last != nil && (x.filter == nil || x.filter.Match(tags)) {
		return c.send(last), false
	}
	c.send(encodeFrame("pusher:cache_miss", channel, nil, ""))
	return false, true
}

// leave removes c from a channel.
func (h *hub) leave(c *conn, channel string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.apps[c.appID]; a != nil {
		removeFrom(a.channels, channel, c)
		if e := a.ext[channel]; e != nil && e.remove(c) {
			delete(a.ext, channel)
		}
	}
}

// signIn records c as user's connection, watching watchlist (c must be
// signed out).
func (h *hub) signIn(c *conn, user string, watchlist []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.app(c.appID)
	c.userID, c.watchlist = user, watchlist
	addTo(a.users, user, c)
	for _, w := range watchlist {
		addTo(a.watchers, w, c)
	}
}

// signOut forgets c's user and watchlist.
func (h *hub) signOut(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a := h.apps[c.appID]; a != nil {
		removeFrom(a.users, c.userID, c)
		for _, w := range c.watchlist {
			removeFrom(a.watchers, w, c)
		}
	}
	c.userID, c.watchlist = "", nil
}

func addTo(m map[string]map[*conn]struct{}, key string, c *conn) {
	set := m[key]
	if set == nil {
		set = map[*conn]struct{}{}
		m[key] = set
	}
	set[c] = struct{}{}
}

// deliverWatchers queues frame to the connections watching user.
func (h *hub) deliverWatchers(app, user string, frame []byte) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	a := h.apps[app]
	if a == nil {
		return 0
	}
	n := 0
	for c := range a.watchers[user] {
		if c.send(frame) {
			n++
		}
	}
	return n
}

// deliver queues frame to the channel's connections here, except the one
// with socket id exclude, and returns how many it reached.
func (h *hub) deliver(app, channel string, frame []byte, exclude string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	a := h.apps[app]
	if a == nil {
		return 0
	}
	n := 0
	for c := range a.channels[channel] {
		if c.socketID != exclude && c.send(frame) {
			n++
		}
	}
	if e := a.ext[channel]; e != nil {
		for c := range e.subs {
			if c.socketID != exclude && c.send(frame) {
				n++
			}
		}
	}
	return n
}

// deliverEvent delivers a published event (through the API or by a client,
// here or on another node): to the plain subscribers as it is, to those
// using extensions filtered and delta-encoded. When keep is set (an event
// published here) on a cache channel, it is also kept as the channel's
// last event, and cached reports it.
func (h *hub) deliverEvent(app, channel string, ev *published, exclude string, keep bool, now time.Time) (n int, cached bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if keep && isCacheChannel(channel) {
		h.cache.putTagged(chanKey{app, channel}, ev.frame, ev.tags, now)
		cached = true
	}
	a := h.apps[app]
	if a == nil {
		return 0, cached
	}
	for c := range a.channels[channel] {
		if c.socketID != exclude && c.send(ev.frame) {
			n++
		}
	}
	if e := a.ext[channel]; e != nil {
		n += e.deliver(channel, ev, exclude)
	}
	return n, cached
}

// appConns lists an app's connections here.
func (h *hub) appConnList(app string) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	a := h.apps[app]
	if a == nil {
		return nil
	}
	out := make([]*conn, 0, len(a.conns))
	for c := range a.conns {
		out = append(out, c)
	}
	return out
}

// userConns lists a signed-in user's connections here.
func (h *hub) userConns(app, user string) []*conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	a := h.apps[app]
	if a == nil {
		return nil
	}
	out := []*conn{}
	for c := range a.users[user] {
		out = append(out, c)
	}
	return out
}

// appIDs lists the apps with connections here.
func (h *hub) appIDs() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.apps))
	for id := range h.apps {
		out = append(out, id)
	}
	return out
}

// each calls f for every connection here, with the read lock held: f must
// not block.
func (h *hub) each(f func(*conn)) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, a := range h.apps {
		for c := range a.conns {
			f(c)
		}
	}
}

// count is the number of connections here.
func (h *hub) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, a := range h.apps {
		n += len(a.conns)
	}
	return n
}
