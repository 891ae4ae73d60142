package conversations

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// fallbackJSON is POST /v1/send's fallback object: send the message again
// from channel From when it is not delivered After its acceptance.
type fallbackJSON struct {
	From  string `json:"from"`
	After string `json:"after"`
	// Text is omnigate's own field: what an sms fallback channel sends
	// instead of the text derived from the content (see docs).
	Text *string `json:"text"`
}

// Bounds of fallback.after. MessageBird's default is one minute; the
// upper bound is omnigate's (a chat platform's own delivery window).
const (
	DefaultFallbackAfter = time.Minute
	MinFallbackAfter     = time.Minute
	MaxFallbackAfter     = 48 * time.Hour
)

// fallbackConfig tunes the door's fallbacks.
type fallbackConfig struct {
	minAfter time.Duration // least fallback.after; 0: MinFallbackAfter
}

// SetFallbackMinAfter lowers the least fallback.after the door accepts
// (MinFallbackAfter when d ≤ 0). Tests only: a fallback minutes away makes
// a slow test.
func (a *API) SetFallbackMinAfter(d time.Duration) *API {
	a.fallback.minAfter = d
	return a
}

func (a *API) minFallbackAfter() time.Duration {
	if a.fallback.minAfter > 0 {
		return a.fallback.minAfter
	}
	return MinFallbackAfter
}

// afterForm is a duration in hours, minutes and seconds: "90s", "1m",
// "1h30m".
var afterForm = regexp.MustCompile(`^([0-9]{1,6}[hms])+$`)

// parseAfter reads fallback.after ("" is the default).
func (a *API) parseAfter(s string) (time.Duration, string, *rest.Problem) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultFallbackAfter, "1m", nil
	}
	lo, hi := a.minFallbackAfter(), MaxFallbackAfter
	bounds := fmt.Sprintf("fallback.after must be a duration like \"1m\", \"90s\" or \"1h30m\" (h, m, s), from %s to %s", shortDuration(lo), shortDuration(hi))
	if !afterForm.MatchString(s) {
		return 0, "", rest.Invalid("fallback.after", bounds)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		return 0, "", rest.Invalid("fallback.after", bounds)
	}
	return d, s, nil
}

// shortDuration writes 1m0s as 1m and 48h0m0s as 48h.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// sendFallback checks a send's fallback and builds what it sends; nil when the
// request has none. It notes the fallback in m's details (shown by GET
// /v1/messages/{id} and in reports).
func (a *API) sendFallback(r *http.Request, req *sendRequest, ch *store.ConvChannel, m *message.Message) (*pipeline.Fallback, *rest.Problem) {
	fb := req.Fallback
	if fb == nil {
		return nil, nil
	}
	from := strings.TrimSpace(fb.From)
	if from == "" {
		return nil, rest.Missing("fallback.from")
	}
	if !channelID.MatchString(from) {
		return nil, rest.Invalid("fallback.from", "fallback.from must be the id of one of your channels (GET /v1/channels)")
	}
	fch, err := a.store.GetConvChannel(r.Context(), m.AccountID, from)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rest.Invalid("fallback.from", "no channel "+from+"; GET /v1/channels lists yours")
	}
	if err != nil {
		return nil, rest.NewProblem(http.StatusInternalServerError, rest.CodeInternal, "", "could not read the channel; try again later")
	}
	switch {
	case fch.Status != store.ChannelActive:
		return nil, rest.Invalid("fallback.from", "channel "+from+" is "+fch.Status)
	case fch.ID == ch.ID:
		return nil, rest.Invalid("fallback.from", "fallback.from must be another channel than from")
	case fch.Kind == message.ChannelEmail:
		return nil, rest.Invalid("fallback.from", "channel "+from+" is an email channel: it cannot reach "+rest.Quote(req.To))
	}
	after, afterText, p := a.parseAfter(fb.After)
	if p != nil {
		return nil, p
	}
	if fb.Text != nil {
		if strings.TrimSpace(*fb.Text) == "" {
			return nil, rest.Invalid("fallback.text", "fallback.text is empty")
		}
		if why := rest.TextFault(*fb.Text, true); why != "" {
			return nil, rest.Invalid("fallback.text", "fallback.text "+why)
		}
	}
	// What the fallback sends: the same content on a channel that carries
	// its type; on an sms channel, text (fallback.text, else the text the
	// content has: the text, a caption and link, a map link).
	freq := *req
	freq.From, freq.Fallback = fch.ID, nil
	if fch.Kind == message.ChannelSMS || fb.Text != nil {
		text := smsText(req)
		if fb.Text != nil {
			text = *fb.Text
		}
		if text == "" {
			return nil, rest.Missing("fallback.text")
		}
		freq.Type, freq.Content = "text", &contentJSON{Text: &text}
	}
	fm, p := buildChat(&freq, fch, m.AccountID)
	if p != nil {
		desc := p.Error()
		return nil, rest.Invalid("fallback", "the fallback message on channel "+fch.ID+" ("+fch.Kind+") cannot be sent: "+desc)
	}
	err = a.pipeline.Check(fm)
	var inv *message.Invalid
	if errors.As(err, &inv) {
		return nil, rest.Invalid("fallback", "the fallback message on channel "+fch.ID+" ("+fch.Kind+") cannot be sent: "+inv.Reason)
	}
	if err != nil {
		return nil, rest.Invalid("fallback.from", "channel "+fch.ID+" cannot send it: "+err.Error())
	}
	id := pipeline.NewFallbackID()
	m.Details.Fallback = &message.Fallback{From: fch.ID, After: afterText, ID: id, Platform: fch.Kind, Status: store.FallbackWaiting}
	return &pipeline.Fallback{ID: id, ChannelID: fch.ID, After: after, Message: fm}, nil
}

// smsText is the text an sms fallback sends for a chat message ("" for a
// template: the platform holds its text, so fallback.text must say it).
func smsText(req *sendRequest) string {
	c := req.Content
	if c == nil {
		return ""
	}
	for _, md := range []*mediaJSON{c.Image, c.Video, c.Audio, c.File} {
		if md != nil {
			if cap := strings.TrimSpace(md.Caption); cap != "" {
				return cap + "\n" + strings.TrimSpace(md.URL)
			}
			return strings.TrimSpace(md.URL)
		}
	}
	switch {
	case c.Text != nil:
		return *c.Text
	case c.Location != nil && c.Location.Latitude != nil && c.Location.Longitude != nil:
		return fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f", *c.Location.Latitude, *c.Location.Longitude)
	}
	return ""
}

// acceptedFallbackJSON is the answer to a send with a fallback: the
// fallback message's id comes with it, as MessageBird's does.
type acceptedFallbackJSON struct {
	acceptedJSON
	Fallback *fallbackIDJSON `json:"fallback,omitempty"`
}

type fallbackIDJSON struct {
	ID string `json:"id"`
}

// accepted is the answer to an accepted chat send.
func accepted(m *message.Message, fb *pipeline.Fallback) any {
	out := acceptedFallbackJSON{acceptedJSON: acceptedJSON{ID: m.ID, Status: "accepted"}}
	if fb != nil {
		out.Fallback = &fallbackIDJSON{ID: fb.ID}
	}
	return out
}

// fallbackOut is a message's fallback as GET /v1/messages/{id} and its
// reports show it: the fallback channel and message, and what became of
// it (waiting, sent, skipped: delivered in time, refused: reason).
type fallbackOut struct {
	From      string `json:"from"`
	After     string `json:"after"`
	ID        string `json:"id"`
	Platform  string `json:"platform,omitempty"`
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
}

// renderFallback is m's fallback and the message m stands in for.
func renderFallback(m *message.Message) (*fallbackOut, string) {
	f := m.Details.Fallback
	if f == nil {
		return nil, m.Details.FallbackOf
	}
	return &fallbackOut{From: f.From, After: f.After, ID: f.ID, Platform: f.Platform, Status: f.Status, Reason: f.Reason,
		Cancelled: f.Cancelled}, m.Details.FallbackOf
}
