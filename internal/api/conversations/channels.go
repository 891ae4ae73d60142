package conversations

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// Channel kinds a Conversations channel may have: the message channel it
// sends on.
var channelKinds = map[string]bool{message.ChannelSMS: true, "whatsapp": true, message.ChannelEmail: true}

// ChannelError is a channel the operator described wrongly.
type ChannelError struct{ Field, Reason string }

func (e *ChannelError) Error() string { return e.Field + ": " + e.Reason }

// CheckSender normalizes and checks a channel's sender for its kind: a
// number (international digits, "+" dropped) or alphanumeric of at most
// 11 characters for sms, a phone number id (digits) for whatsapp, an
// address for email.
func CheckSender(kind, sender string) (string, error) {
	sender = strings.TrimSpace(sender)
	if sender == "" {
		return "", &ChannelError{"sender", "a sender is required"}
	}
	switch kind {
	case message.ChannelSMS:
		if d := strings.TrimPrefix(sender, "+"); d != "" && strings.Trim(d, "0123456789") == "" {
			if len(d) > 15 {
				return "", &ChannelError{"sender", "a number has at most 15 digits"}
			}
			return d, nil
		}
		if len(sender) > 11 || strings.IndexFunc(sender, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ')
		}) >= 0 {
			return "", &ChannelError{"sender", "an sms sender is a number or at most 11 letters, digits and spaces"}
		}
		return sender, nil
	case "whatsapp":
		if strings.Trim(sender, "0123456789") != "" || len(sender) > 32 {
			return "", &ChannelError{"sender", "a whatsapp sender is the phone number id (digits) of the business number"}
		}
		return sender, nil
	case message.ChannelEmail:
		addr, p := address("sender", sender)
		if p != nil {
			return "", &ChannelError{"sender", rest.Quote(sender) + " is not a valid email address"}
		}
		return addr, nil
	}
	return "", &ChannelError{"kind", "kind must be sms, whatsapp or email"}
}

// AddChannel creates a channel for an account (omnigate channel add).
func AddChannel(ctx context.Context, st store.ConvChannels, accountID, kind, sender, name string) (*store.ConvChannel, error) {
	kind = strings.ToLower(strings.TrimSpace(kind))
	if !channelKinds[kind] {
		return nil, &ChannelError{"kind", "kind must be sms, whatsapp or email"}
	}
	s, err := CheckSender(kind, sender)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = kind + " " + s
	}
	if why := rest.TextFault(name, false); why != "" || len(name) > 100 {
		return nil, &ChannelError{"name", "a name is one line of at most 100 characters"}
	}
	c := &store.ConvChannel{ID: ids.New(), AccountID: accountID, Name: name, Kind: kind, Sender: s, Status: store.ChannelActive}
	if err := st.CreateConvChannel(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ChannelJSON is a channel in the Conversations shape.
type ChannelJSON struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	PlatformID      string `json:"platformId"`
	Status          string `json:"status"`
	Sender          string `json:"sender"`
	CreatedDatetime string `json:"createdDatetime"`
	UpdatedDatetime string `json:"updatedDatetime"`
}

// RenderChannel builds a channel's wire object.
func RenderChannel(c *store.ConvChannel) ChannelJSON {
	return ChannelJSON{ID: c.ID, Name: c.Name, PlatformID: c.Kind, Status: c.Status, Sender: c.Sender,
		CreatedDatetime: timeText(c.CreatedAt), UpdatedDatetime: timeText(c.UpdatedAt)}
}

type channelListJSON struct {
	Offset     int           `json:"offset"`
	Limit      int           `json:"limit"`
	Count      int           `json:"count"`
	TotalCount int           `json:"totalCount"`
	Items      []ChannelJSON `json:"items"`
}

// listChannels handles GET /v1/channels: the account's own channels,
// oldest first. Channels are live configuration an operator makes; a test
// key sees them too, since a test send names one.
func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		if name != "limit" && name != "offset" {
			return rest.Invalid(name, "unknown parameter "+rest.Quote(name)+"; GET /v1/channels takes limit and offset")
		}
	}
	limit, offset, p := rest.Paging(q)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	list, total, err := a.store.ListConvChannels(r.Context(), pr.AccountID, limit, offset)
	if err != nil {
		return err
	}
	out := channelListJSON{Offset: offset, Limit: limit, Count: len(list), TotalCount: total, Items: make([]ChannelJSON, len(list))}
	for i, c := range list {
		out.Items[i] = RenderChannel(c)
	}
	rest.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getChannel handles GET /v1/channels/{id}.
func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := a.store.GetConvChannel(r.Context(), rest.Principal(r.Context()).AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "channel not found")
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, RenderChannel(c))
	return nil
}
