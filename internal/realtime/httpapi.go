package realtime

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/omnigate/omnigate/internal/realtime/tagfilter"
	"github.com/omnigate/omnigate/internal/store"
)

// eventRequest is the body of POST /apps/{app_id}/events and one item of
// batch_events.
type eventRequest struct {
	Name     string          `json:"name"`
	Data     json.RawMessage `json:"data"`
	Channels []string        `json:"channels"`
	Channel  string          `json:"channel"`
	SocketID string          `json:"socket_id"`
	Info     string          `json:"info"`
	// Tags (a protocol extension): string keys and values that
	// subscribers' filters match; stock clients never see them.
	Tags json.RawMessage `json:"tags"`
}

var socketIDPattern = regexp.MustCompile(`^\d+\.\d+$`)

// event is a validated event ready to publish.
type event struct {
	name, data, socketID string
	channels             []string
	info                 []string
	tags                 map[string]string
}

// validate checks an event as Pusher does and returns what to publish.
func (s *Server) validateEvent(e *eventRequest) (*event, *apiError) {
	if !validEventName(e.Name) {
		return nil, errorf(http.StatusBadRequest, "Invalid event name: 1 to 200 characters are required")
	}
	channels := e.Channels
	if e.Channel != "" {
		channels = append([]string{e.Channel}, channels...)
	}
	switch {
	case len(channels) == 0:
		return nil, errorf(http.StatusBadRequest, "No channels given: set channel or channels")
	case len(channels) > s.cfg.MaxChannelsPerEvent:
		return nil, errorf(http.StatusBadRequest, "Too many channels: at most %d per event", s.cfg.MaxChannelsPerEvent)
	}
	for _, ch := range channels {
		if !validChannel(ch) {
			return nil, errorf(http.StatusBadRequest, "Invalid channel name %q", truncateReason(ch))
		}
	}
	if e.SocketID != "" && !socketIDPattern.MatchString(e.SocketID) {
		return nil, errorf(http.StatusBadRequest, "Invalid socket_id %q", truncateReason(e.SocketID))
	}
	var data string
	if len(e.Data) > 0 && e.Data[0] == '"' {
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return nil, errorf(http.StatusBadRequest, "Invalid data: %v", err)
		}
	} else if len(e.Data) > 0 && string(e.Data) != "null" {
		data = string(e.Data) // not a string as the API wants, but JSON: sent as its text
	}
	if len(data) > s.cfg.MaxEventBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, "Request Entity Too Large: the event's data is %d bytes, over the %d bytes allowed", len(data), s.cfg.MaxEventBytes)
	}
	var info []string
	if e.Info != "" {
		for _, attr := range strings.Split(e.Info, ",") {
			switch attr = strings.TrimSpace(attr); attr {
			case "subscription_count", "user_count":
				info = append(info, attr)
			default:
				return nil, errorf(http.StatusBadRequest, "Invalid info attribute %q: subscription_count and user_count are supported", attr)
			}
		}
	}
	tags, err := tagfilter.ParseTags(e.Tags)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid tags: %v", err)
	}
	return &event{name: e.Name, data: data, socketID: e.SocketID, channels: channels, info: info, tags: tags}, nil
}

// trigger publishes an event on its channels and returns its info.
func (s *Server) trigger(app *store.RealtimeApp, e *event) map[string]map[string]int {
	data := jsonString(e.data)
	for _, ch := range e.channels {
		s.publish(app.ID, ch, encodeFrame(e.name, ch, data, ""), e.socketID, 1, e.tags)
	}
	if len(e.info) == 0 {
		return nil
	}
	out := map[string]map[string]int{}
	for _, ch := range e.channels {
		out[ch] = s.channelAttrs(app.ID, ch, e.info)
	}
	return out
}

// channelAttrs reads the requested attributes of a channel.
func (s *Server) channelAttrs(app, channel string, info []string) map[string]int {
	st := s.cluster.channel(chanKey{app, channel})
	attrs := map[string]int{}
	for _, a := range info {
		switch a {
		case "subscription_count":
			attrs[a] = st.Subscriptions
		case "user_count":
			if kindOf(channel) == presenceChannel {
				attrs[a] = st.Users
			}
		}
	}
	return attrs
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func decodeBody(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	return nil
}

func (s *Server) postEvents(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp, body []byte) *apiError {
	var req eventRequest
	if err := decodeBody(body, &req); err != nil {
		return err
	}
	e, err := s.validateEvent(&req)
	if err != nil {
		return err
	}
	if s.usage.overQuota(app) {
		return errorf(http.StatusRequestEntityTooLarge, "Message quota exceeded: the app has sent its %d messages for today", app.MaxMessagesPerDay)
	}
	if info := s.trigger(app, e); info != nil {
		writeJSON(w, map[string]any{"channels": info})
		return nil
	}
	writeJSON(w, struct{}{})
	return nil
}

func (s *Server) postBatchEvents(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp, body []byte) *apiError {
	var req struct {
		Batch []eventRequest `json:"batch"`
	}
	if err := decodeBody(body, &req); err != nil {
		return err
	}
	if len(req.Batch) == 0 || len(req.Batch) > s.cfg.MaxBatchEvents {
		return errorf(http.StatusBadRequest, "Batch must have 1 to %d events, not %d", s.cfg.MaxBatchEvents, len(req.Batch))
	}
	events := make([]*event, len(req.Batch))
	for i := range req.Batch {
		if len(req.Batch[i].Channels) > 0 {
			return errorf(http.StatusBadRequest, "Batch event %d: one channel per event (channel, not channels)", i)
		}
		e, err := s.validateEvent(&req.Batch[i])
		if err != nil {
			err.message = "Batch event " + itoa(i) + ": " + err.message
			return err
		}
		events[i] = e
	}
	if s.usage.overQuota(app) {
		return errorf(http.StatusRequestEntityTooLarge, "Message quota exceeded: the app has sent its %d messages for today", app.MaxMessagesPerDay)
	}
	var infos []map[string]int
	anyInfo := false
	for _, e := range events {
		info := s.trigger(app, e)
		attrs := map[string]int{}
		if info != nil {
			anyInfo = true
			attrs = info[e.channels[0]]
		}
		infos = append(infos, attrs)
	}
	if anyInfo {
		writeJSON(w, map[string]any{"batch": infos})
		return nil
	}
	writeJSON(w, struct{}{})
	return nil
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// infoParam reads ?info= for channel queries; user_count needs presence.
func infoParam(r *http.Request, presenceOnly bool) ([]string, *apiError) {
	v := r.URL.Query().Get("info")
	if v == "" {
		return nil, nil
	}
	var out []string
	for _, a := range strings.Split(v, ",") {
		switch a = strings.TrimSpace(a); a {
		case "subscription_count":
			out = append(out, a)
		case "user_count":
			if !presenceOnly {
				return nil, errorf(http.StatusBadRequest, "user_count is only available for presence channels")
			}
			out = append(out, a)
		default:
			return nil, errorf(http.StatusBadRequest, "Invalid info attribute %q: subscription_count and user_count are supported", a)
		}
	}
	return out, nil
}

func (s *Server) getChannels(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp, _ []byte) *apiError {
	prefix := r.URL.Query().Get("filter_by_prefix")
	info, err := infoParam(r, strings.HasPrefix(prefix, prefixPresence))
	if err != nil {
		return err
	}
	out := map[string]map[string]int{}
	for name, st := range s.cluster.channels(app.ID, prefix) {
		attrs := map[string]int{}
		for _, a := range info {
			if a == "user_count" {
				attrs[a] = st.Users
			} else {
				attrs[a] = st.Subscriptions
			}
		}
		out[name] = attrs
	}
	writeJSON(w, map[string]any{"channels": out})
	return nil
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp, _ []byte) *apiError {
	name := r.PathValue("channel")
	if !validChannel(name) {
		return errorf(http.StatusBadRequest, "Invalid channel name %q", truncateReason(name))
	}
	info, err := infoParam(r, kindOf(name) == presenceChannel)
	if err != nil {
		return err
	}
	st := s.cluster.channel(chanKey{app.ID, name})
	out := map[string]any{"occupied": st.Subscriptions > 0}
	for _, a := range info {
		if a == "user_count" {
			out[a] = st.Users
		} else {
			out[a] = st.Subscriptions
		}
	}
	writeJSON(w, out)
	return nil
}

func (s *Server) getUsers(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp, _ []byte) *apiError {
	name := r.PathValue("channel")
	if !validChannel(name) || kindOf(name) != presenceChannel {
		return errorf(http.StatusBadRequest, "Users are only available for presence channels")
	}
	type user struct {
		ID string `json:"id"`
	}
	users := []user{}
	for _, id := range s.cluster.members(chanKey{app.ID, name}) {
		users = append(users, user{id})
	}
	writeJSON(w, map[string]any{"users": users})
	return nil
}

func (s *Server) terminateConnections(w http.ResponseWriter, r *http.Request, app *store.RealtimeApp, _ []byte) *apiError {
	user := r.PathValue("user_id")
	if user == "" || len(user) > 200 {
		return errorf(http.StatusBadRequest, "Invalid user id")
	}
	s.terminate(app.ID, user)
	s.cluster.terminateUser(app.ID, user)
	writeJSON(w, struct{}{})
	return nil
}
