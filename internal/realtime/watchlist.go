package realtime

import (
	"encoding/json"
	"errors"
)

// Watchlists.
//
// A sign-in's user_data may carry "watchlist": the ids of users whose
// online state the signed-in user follows. A user is online while at
// least one connection anywhere in the cluster is signed in as them. The
// watcher's connection receives pusher_internal:watchlist_events
// {"events":[{"name":"online"|"offline","user_ids":[…]}]}: right after
// pusher:signin_success with the watched users online then (when there
// are any), and then on each change. pusher-js emits each event on
// pusher.user.watchlist.
//
// Who is online is kept in the cluster view as the members of an internal
// channel, onlineChannel, per app, so nodes learn of sign-ins and
// sign-outs on the others as they learn of presence members, and each node
// tells its own watchers.

// onlineChannel is the internal channel whose members are an app's
// signed-in users. Its name is not a valid channel name, so no client can
// subscribe to it, and as it has no subscriptions the HTTP API does not
// list it.
const onlineChannel = "#online"

// MaxWatchlist bounds the user ids of one watchlist.
const MaxWatchlist = 100

// watchlistEvent is one event of pusher_internal:watchlist_events.
type watchlistEvent struct {
	Name    string   `json:"name"`
	UserIDs []string `json:"user_ids"`
}

type watchlistData struct {
	Events []watchlistEvent `json:"events"`
}

func watchlistFrame(name string, users []string) []byte {
	return encodeFrame("pusher_internal:watchlist_events", "", stringData(watchlistData{[]watchlistEvent{{name, users}}}), "")
}

// ParseUserData reads a sign-in's user_data: a JSON object with a string
// id (1–200 bytes) and an optional watchlist, an array of at most
// MaxWatchlist such ids (repeats are dropped). It never panics (fuzzed).
func ParseUserData(s string) (id string, watchlist []string, err error) {
	var u struct {
		ID        json.RawMessage `json:"id"`
		Watchlist json.RawMessage `json:"watchlist"`
	}
	if json.Unmarshal([]byte(s), &u) != nil || json.Unmarshal(u.ID, &id) != nil || id == "" || len(id) > 200 {
		return "", nil, errors.New("user_data must be a JSON object with a non-empty string id")
	}
	if len(u.Watchlist) == 0 || string(u.Watchlist) == "null" {
		return id, nil, nil
	}
	var list []string
	if json.Unmarshal(u.Watchlist, &list) != nil {
		return "", nil, errors.New("user_data watchlist must be an array of user id strings")
	}
	if len(list) > MaxWatchlist {
		return "", nil, errors.New("user_data watchlist has more than 100 user ids")
	}
	seen := map[string]bool{}
	for _, w := range list {
		if w == "" || len(w) > 200 {
			return "", nil, errors.New("user_data watchlist ids must be strings of 1 to 200 bytes")
		}
		if !seen[w] {
			seen[w] = true
			watchlist = append(watchlist, w)
		}
	}
	return id, watchlist, nil
}

// signInLocked records c as signed in as user, watching watchlist, and
// returns the watched users online now; cluster.mu is held.
func (c *conn) signInLocked(user string, watchlist []string) (online []string) {
	cl := c.srv.cluster
	c.signOutLocked()
	k := chanKey{c.appID, onlineChannel}
	c.srv.hub.signIn(c, user, watchlist)
	cl.joinLocked(k, user, nil)
	for _, w := range watchlist {
		if cl.hasMemberLocked(k, w) {
			online = append(online, w)
		}
	}
	return online
}

// signOutLocked undoes signInLocked (when the connection ends or signs in
// again); cluster.mu is held.
func (c *conn) signOutLocked() {
	if c.userID == "" {
		return
	}
	c.srv.cluster.leaveLocked(chanKey{c.appID, onlineChannel}, c.userID)
	c.srv.hub.signOut(c)
}

// watched tells the app's connections here that watch user that it came
// online or went offline.
func (s *Server) watched(app, user, name string) {
	if n := s.hub.deliverWatchers(app, user, watchlistFrame(name, []string{user})); n > 0 {
		s.usage.add(app, int64(n))
	}
}
