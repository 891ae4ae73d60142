package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// subscribeData is the data of pusher:subscribe.
type subscribeData struct {
	Channel     string `json:"channel"`
	Auth        string `json:"auth"`
	ChannelData string `json:"channel_data"`
	// Protocol extensions (extensions.go): a tag filter (Sockudo sends
	// either name) and the subscription's delta setting.
	Filter     json.RawMessage `json:"filter"`
	TagsFilter json.RawMessage `json:"tags_filter"`
	Delta      json.RawMessage `json:"delta"`
}

// channelData is a presence subscription's channel_data.
type channelData struct {
	UserID   json.RawMessage `json:"user_id"`
	UserInfo json.RawMessage `json:"user_info"`
}

// presenceData is the data of a presence channel's subscription_succeeded.
type presenceData struct {
	Presence presenceHash `json:"presence"`
}

type presenceHash struct {
	IDs   []string                   `json:"ids"`
	Hash  map[string]json.RawMessage `json:"hash"`
	Count int                        `json:"count"`
}

// memberData is the data of member_added and member_removed.
type memberData struct {
	UserID   string          `json:"user_id"`
	UserInfo json.RawMessage `json:"user_info,omitempty"`
}

// app reads the connection's app (cached; a read of the store is bounded
// by appLoader) for signatures and settings.
func (c *conn) app() (*store.RealtimeApp, bool) {
	a, err := c.srv.apps.byID(context.Background(), c.appID)
	if err != nil {
		return nil, false
	}
	return a, true
}

func (c *conn) subscribe(f Frame) {
	var d subscribeData
	if err := decodeSubscribeData(f.Data, &d); err != nil || !validChannel(d.Channel) {
		c.send(errorFrame(0, "Invalid subscription: a valid channel name is required"))
		return
	}
	if _, ok := c.subs[d.Channel]; ok {
		return // already subscribed; the first success stands
	}
	ext, code, msg := parseSubscribeExt(&d, c.deltaOn)
	if code != 0 {
		c.send(errorFrame(code, msg))
		return
	}
	if len(c.subs) >= c.srv.cfg.MaxSubscriptions {
		c.send(subscriptionError(d.Channel, "LimitReached", "Too many subscriptions on this connection", 400))
		return
	}
	kind := kindOf(d.Channel)
	app, ok := c.app()
	if !ok {
		c.send(subscriptionError(d.Channel, "ServerError", "The app could not be read; try again", 500))
		return
	}
	now := time.Now()
	var user string
	var info json.RawMessage
	switch kind {
	case userChannel:
		if c.userID == "" || d.Channel != prefixUser+c.userID {
			c.send(subscriptionError(d.Channel, "AuthError", "Only the signed-in user may subscribe to its own channel", 403))
			return
		}
	case privateChannel, encryptedChannel:
		if !verifyAuth(app, now, d.Auth, c.socketID+":"+d.Channel) {
			c.authFailed(d.Channel)
			return
		}
	case presenceChannel:
		if !verifyAuth(app, now, d.Auth, c.socketID+":"+d.Channel+":"+d.ChannelData) {
			c.authFailed(d.Channel)
			return
		}
		var err string
		user, info, err = parseChannelData(d.ChannelData, c.srv.cfg.MaxUserInfoBytes)
		if err != "" {
			c.send(subscriptionError(d.Channel, "InvalidChannelData", err, 400))
			return
		}
	}
	k := chanKey{c.appID, d.Channel}
	cl := c.srv.cluster
	cl.mu.Lock()
	var first []byte
	if kind == presenceChannel {
		if !cl.hasMemberLocked(k, user) && cl.memberCountLocked(k) >= c.srv.cfg.MaxPresenceMembers {
			cl.mu.Unlock()
			c.send(subscriptionError(d.Channel, "LimitReached", "The presence channel is full", 400))
			return
		}
		cl.joinLocked(k, user, info)
		ids, infos := cl.membersLocked(k)
		first = encodeFrame("pusher_internal:subscription_succeeded", d.Channel, presenceSucceededData(ids, infos), "")
	} else {
		first = encodeFrame("pusher_internal:subscription_succeeded", d.Channel, jsonString("{}"), "")
	}
	cached, missed := c.srv.hub.join(c, d.Channel, first, ext)
	cl.subscribeLocked(k)
	cl.mu.Unlock()
	c.subs[d.Channel] = &subscription{kind: kind, userID: user}
	if cached {
		c.srv.usage.add(c.appID, 1) // a delivery, as the live event was
	}
	if missed && c.srv.hub.cache.missWebhook(k, now) {
		c.srv.webhooks.add(c.appID, webhookEvent{Name: "cache_miss", Channel: d.Channel})
	}
}

// authFailed answers a subscription whose signature does not verify.
func (c *conn) authFailed(channel string) {
	msg := "Invalid signature for channel " + channel + ": expected HMAC SHA256 hex digest of socket_id:channel[:channel_data] with the app's secret"
	c.srv.logError(c, CodeUnauthorized, "Subscription to "+channel+" refused: invalid signature")
	c.send(subscriptionError(channel, "AuthError", msg, 401))
}

// parseChannelData reads a presence member: user_id (a string, or a number
// written as one) and user_info (any JSON, bounded).
func parseChannelData(s string, maxInfo int) (string, json.RawMessage, string) {
	if user, info, ok := parseChannelDataQuick(s); ok {
		return checkMember(user, info, maxInfo)
	}
	return parseChannelDataCareful(s, maxInfo)
}

// parseChannelDataCareful is parseChannelData through encoding/json.
func parseChannelDataCareful(s string, maxInfo int) (string, json.RawMessage, string) {
	var cd channelData
	if err := json.Unmarshal([]byte(s), &cd); err != nil {
		return "", nil, "channel_data must be a JSON object with user_id"
	}
	var user string
	switch {
	case len(cd.UserID) > 0 && cd.UserID[0] == '"':
		json.Unmarshal(cd.UserID, &user)
	case len(cd.UserID) > 0 && (cd.UserID[0] == '-' || '0' <= cd.UserID[0] && cd.UserID[0] <= '9'):
		user = string(cd.UserID)
	}
	return checkMember(user, cd.UserInfo, maxInfo)
}

// checkMember bounds a presence member's id and info and normalizes the
// info.
func checkMember(user string, info json.RawMessage, maxInfo int) (string, json.RawMessage, string) {
	if user == "" || len(user) > 200 {
		return "", nil, "channel_data must have a user_id (a non-empty string of at most 200 bytes)"
	}
	if len(info) > maxInfo {
		return "", nil, "user_info is too large"
	}
	if len(info) == 0 || bytes.Equal(info, []byte("null")) {
		return user, nil, ""
	}
	return user, normalizeJSON(info), ""
}

// normalizeJSON is valid JSON as encoding/json writes a RawMessage: compact,
// with HTML characters and U+2028/U+2029 escaped. A member's user_info is
// kept so once, and copied as is into every frame that carries it.
func normalizeJSON(v json.RawMessage) json.RawMessage {
	var compact, out bytes.Buffer
	compact.Grow(len(v))
	json.Compact(&compact, v)
	out.Grow(compact.Len())
	json.HTMLEscape(&out, compact.Bytes())
	return out.Bytes()
}

func (c *conn) unsubscribe(f Frame) {
	var d subscribeData
	if err := decodeSubscribeData(f.Data, &d); err != nil {
		c.send(errorFrame(0, "Invalid unsubscribe: a channel name is required"))
		return
	}
	sub := c.subs[d.Channel]
	if sub == nil {
		return
	}
	delete(c.subs, d.Channel)
	cl := c.srv.cluster
	cl.mu.Lock()
	c.leaveLocked(d.Channel, sub)
	cl.mu.Unlock()
}

// leaveLocked takes c out of a channel; the caller holds cluster.mu.
func (c *conn) leaveLocked(channel string, sub *subscription) {
	k := chanKey{c.appID, channel}
	c.srv.hub.leave(c, channel)
	if sub.kind == presenceChannel {
		c.srv.cluster.leaveLocked(k, sub.userID)
	}
	c.srv.cluster.unsubscribeLocked(k)
}

// leaveAll takes c out of every channel, under one lock.
func (c *conn) leaveAll() {
	if len(c.subs) == 0 {
		return
	}
	cl := c.srv.cluster
	cl.mu.Lock()
	for ch, sub := range c.subs {
		c.leaveLocked(ch, sub)
	}
	cl.mu.Unlock()
	clear(c.subs)
}

// signinData is the data of pusher:signin.
type signinData struct {
	Auth     string `json:"auth"`
	UserData string `json:"user_data"`
}

func (c *conn) signin(f Frame) {
	var d signinData
	if err := DecodeData(f.Data, &d); err != nil {
		c.fail(CodeUnauthorized, "Invalid sign-in: auth and user_data are required")
		return
	}
	app, ok := c.app()
	if !ok {
		c.send(errorFrame(0, "The app could not be read; try again"))
		return
	}
	if !verifyAuth(app, time.Now(), d.Auth, c.socketID+"::user::"+d.UserData) {
		c.fail(CodeUnauthorized, "Invalid sign-in signature")
		return
	}
	id, watchlist, err := ParseUserData(d.UserData)
	if err != nil {
		c.fail(CodeUnauthorized, "Invalid sign-in: "+err.Error())
		return
	}
	cl := c.srv.cluster
	cl.mu.Lock()
	online := c.signInLocked(id, watchlist)
	// Under cluster.mu: before any watchlist change that follows.
	c.send(encodeFrame("pusher:signin_success", "", stringData(map[string]string{"user_data": d.UserData}), ""))
	if len(online) > 0 {
		c.send(watchlistFrame("online", online))
	}
	cl.mu.Unlock()
}

// tokenBucket limits a connection's client events.
type tokenBucket struct {
	tokens float64
	last   time.Time
	logged time.Time // last rejection written to the error log
}

func (b *tokenBucket) allow(rate int, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = float64(rate)
	} else {
		b.tokens = min(float64(rate), b.tokens+now.Sub(b.last).Seconds()*float64(rate))
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

func (c *conn) clientEvent(f Frame) {
	sub := c.subs[f.Channel]
	switch {
	case sub == nil:
		c.send(errorFrame(0, "Client event rejected: not subscribed to channel "+truncateReason(f.Channel)))
		return
	case sub.kind != privateChannel && sub.kind != presenceChannel:
		c.send(errorFrame(0, "Client event rejected: client events are only allowed on private and presence channels"))
		return
	case !validEventName(f.Event):
		c.send(errorFrame(0, "Client event rejected: event name too long"))
		return
	case len(f.Data) > c.srv.cfg.MaxEventBytes:
		c.send(errorFrame(0, "Client event rejected: data is over the size limit"))
		return
	}
	app, ok := c.app()
	if !ok {
		return
	}
	rate := app.ClientEventRate
	if rate <= 0 {
		rate = c.srv.cfg.ClientEventRate
	}
	now := time.Now()
	if !c.bucket.allow(rate, now) {
		c.send(errorFrame(CodeClientEventRejected, CodeClientEventRejected.info().Message))
		if now.Sub(c.bucket.logged) >= time.Second {
			c.bucket.logged = now
			c.srv.logError(c, CodeClientEventRejected, "")
		}
		return
	}
	if c.srv.usage.overQuota(app) {
		c.send(errorFrame(0, "Client event rejected: the app's message quota for today is used up"))
		return
	}
	data := f.Data
	if data == nil {
		data = json.RawMessage("{}")
	}
	frame := encodeFrame(f.Event, f.Channel, data, sub.userID)
	c.srv.publish(c.appID, f.Channel, frame, c.socketID, 1, nil)
	c.srv.webhooks.add(c.appID, webhookEvent{Name: "client_event", Channel: f.Channel, Event: f.Event,
		Data: string(data), SocketID: c.socketID, UserID: sub.userID})
}
