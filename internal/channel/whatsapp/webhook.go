package whatsapp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// MaxWebhook bounds a webhook body.
const MaxWebhook = 3 << 20

// Status is one entry of a webhook's statuses[].
type Status struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	// Callback is the biz_opaque_callback_data the send carried: the
	// platform's message id (see Connector.Send).
	Callback string `json:"biz_opaque_callback_data"`
	Errors   []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

// Inbound is one entry of a webhook's messages[] (the parts the connector
// reads).
type Inbound struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *InboundMedia `json:"image"`
	Video    *InboundMedia `json:"video"`
	Audio    *InboundMedia `json:"audio"`
	Document *InboundMedia `json:"document"`
	Sticker  *InboundMedia `json:"sticker"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Context *struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	Button *struct {
		Text    string `json:"text"`
		Payload string `json:"payload"`
	} `json:"button"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
}

// InboundMedia is an inbound media object: an id to download, a caption.
type InboundMedia struct {
	ID       string `json:"id"`
	Caption  string `json:"caption"`
	MimeType string `json:"mime_type"`
	Filename string `json:"filename"`
}

// Change is one change value of a webhook.
type Change struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Statuses []Status  `json:"statuses"`
	Messages []Inbound `json:"messages"`
	// Template is set on a change of field message_template_status_update
	// (a template's review), the only other field the connector reads.
	Template *TemplateUpdate `json:"-"`
}

// TemplateUpdate is the value of a message_template_status_update
// change: a template was approved, rejected, paused, disabled …
type TemplateUpdate struct {
	WABAID   string `json:"-"` // the entry's id
	Event    string `json:"event"`
	ID       int64  `json:"message_template_id"`
	Name     string `json:"message_template_name"`
	Language string `json:"message_template_language"`
	Reason   string `json:"reason"`
}

// envelope is a webhook body, each change's value read as V.
type envelope[V any] struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value V      `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// checkObject refuses a body that is not a WhatsApp business account's.
func (e *envelope[V]) checkObject() error {
	if e.Object != "whatsapp_business_account" {
		return fmt.Errorf("object %q is not whatsapp_business_account", e.Object)
	}
	return nil
}

// Parse reads a webhook body: the changes of field "messages" of a
// whatsapp_business_account object. Anything else is an error.
//
// Every delivery status comes through here, so the body is decoded once,
// each change's value into the fields of both kinds of change the
// connector reads. A body that does not decode that way (a change of a
// field the connector ignores may not fit) is read again the slow way,
// each value as its field says, which also words the error.
func Parse(body []byte) ([]Change, error) {
	var env envelope[*struct {
		Change
		TemplateUpdate
	}]
	if err := json.Unmarshal(body, &env); err != nil {
		return parseByField(body)
	}
	if err := env.checkObject(); err != nil {
		return nil, err
	}
	var out []Change
	for _, e := range env.Entry {
		for _, c := range e.Changes {
			if c.Value == nil && (c.Field == "messages" || c.Field == "message_template_status_update") {
				return parseByField(body) // no value, or null
			}
			switch c.Field {
			case "messages":
				out = append(out, c.Value.Change)
			case "message_template_status_update":
				t := c.Value.TemplateUpdate
				t.WABAID = e.ID
				if err := t.check(); err != nil {
					return nil, err
				}
				out = append(out, Change{Template: &t})
			}
		}
	}
	return out, nil
}

// parseByField is Parse decoding each change's value apart, as its field
// says.
func parseByField(body []byte) ([]Change, error) {
	var env envelope[json.RawMessage]
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("not a webhook: %w", err)
	}
	if err := env.checkObject(); err != nil {
		return nil, err
	}
	var out []Change
	for _, e := range env.Entry {
		for _, c := range e.Changes {
			switch c.Field {
			case "messages":
				var v Change
				if err := json.Unmarshal(c.Value, &v); err != nil {
					return nil, fmt.Errorf("change of field messages: %w", err)
				}
				out = append(out, v)
			case "message_template_status_update":
				t := &TemplateUpdate{WABAID: e.ID}
				if err := json.Unmarshal(c.Value, t); err != nil {
					return nil, fmt.Errorf("change of field message_template_status_update: %w", err)
				}
				if err := t.check(); err != nil {
					return nil, err
				}
				out = append(out, Change{Template: t})
			}
		}
	}
	return out, nil
}

// check says whether a template status update names its event and
// template.
func (t *TemplateUpdate) check() error {
	if t.Event == "" || (t.ID == 0 && t.Name == "") {
		return fmt.Errorf("a template status update needs event and message_template_id or _name")
	}
	return nil
}

// Receipt turns a status into a receipt: sent, delivered and failed
// change the recipient's status; read is the "read" event, with delivered
// (a message read was delivered, whichever webhook came first). An
// unknown status gives ok false. The message id the send put in
// biz_opaque_callback_data comes back as the receipt's MessageID, so the
// store finds the part through the message rather than an index of wamids.
func (s Status) Receipt(connector string) (store.Receipt, bool) {
	r := store.Receipt{Connector: connector, Channel: message.ChannelWhatsApp, ProviderIDs: []string{s.ID}}
	if len(s.Callback) <= maxCallback {
		r.MessageID = s.Callback
	}
	if sec, err := strconv.ParseInt(s.Timestamp, 10, 64); err == nil && sec > 0 && sec < 1<<40 {
		r.At = time.Unix(sec, 0).UTC()
	}
	switch s.Status {
	case "sent":
		r.Status = message.Sent
	case "delivered":
		r.Status = message.Delivered
	case "read":
		r.Status, r.Event = message.Delivered, store.EventRead
	case "failed":
		r.Status = message.DeliveryFailed
		r.Reason = "failed"
		if len(s.Errors) > 0 {
			e := s.Errors[0]
			r.ErrorCode = e.Code
			r.Reason = strings.TrimSpace(e.Title)
			if d := e.ErrorData.Details; d != "" {
				r.Reason += ": " + d
			}
			r.Reason = fmt.Sprintf("%s (WhatsApp %d)", r.Reason, e.Code)
			if e.Code == CodeReengagement {
				r.Reason = ReasonWindow
			}
		}
	default:
		return r, false
	}
	if s.ID == "" {
		return r, false
	}
	return r, true
}

// AsText is what an inbound message's text becomes (channel.Inbound carries
// text only): the text, a button's title, a media's caption and id, a
// location's coordinates.
func (m Inbound) AsText() string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.Interactive != nil && m.Interactive.ButtonReply != nil:
		return m.Interactive.ButtonReply.Title
	case m.Interactive != nil && m.Interactive.ListReply != nil:
		return m.Interactive.ListReply.Title
	case m.Button != nil:
		return m.Button.Text
	case m.Reaction != nil:
		return m.Reaction.Emoji
	case m.Location != nil:
		return fmt.Sprintf("[location %g,%g]", m.Location.Latitude, m.Location.Longitude)
	}
	if kind, md := m.media(); md != nil {
		s := "[" + kind + " " + md.ID + "]"
		if md.Caption != "" {
			s = md.Caption + " " + s
		}
		return s
	}
	return "[" + m.Type + "]"
}

// media is the message's media, if it has one, and its kind as the
// Conversations API names it (a document is a file).
func (m Inbound) media() (string, *InboundMedia) {
	switch {
	case m.Image != nil:
		return "image", m.Image
	case m.Video != nil:
		return "video", m.Video
	case m.Audio != nil:
		return "audio", m.Audio
	case m.Document != nil:
		return "file", m.Document
	case m.Sticker != nil:
		return "sticker", m.Sticker
	}
	return "", nil
}

// Content is an inbound message's structured content and its type as the
// Conversations API names it: text (nil content), image, video, audio,
// file, sticker (media by provider id with its type and caption),
// location, interactive (a button or list reply, or a template's quick
// reply button) and reaction. The wamid and the message it answers are
// kept in every one.
func (m Inbound) Content() (message.Type, *message.Content) {
	c := &message.Content{ProviderID: m.ID}
	if m.Context != nil {
		c.Context = m.Context.ID
	}
	switch {
	case m.Text != nil:
		return TypeText, c
	case m.Interactive != nil && m.Interactive.ButtonReply != nil:
		c.Reply = &message.Reply{Type: "button", ID: m.Interactive.ButtonReply.ID, Title: m.Interactive.ButtonReply.Title}
		return TypeInteractive, c
	case m.Interactive != nil && m.Interactive.ListReply != nil:
		c.Reply = &message.Reply{Type: "list", ID: m.Interactive.ListReply.ID, Title: m.Interactive.ListReply.Title}
		return TypeInteractive, c
	case m.Button != nil:
		c.Reply = &message.Reply{Type: "quick_reply", ID: m.Button.Payload, Title: m.Button.Text}
		return TypeInteractive, c
	case m.Reaction != nil:
		c.Reaction = &message.Reaction{MessageID: m.Reaction.MessageID, Emoji: m.Reaction.Emoji}
		return TypeReaction, c
	case m.Location != nil:
		l := m.Location
		c.Location = &message.Location{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
		return TypeLocation, c
	}
	if kind, md := m.media(); md != nil {
		c.Media = []message.Media{{Kind: kind, ID: md.ID, MimeType: md.MimeType, Caption: md.Caption, Filename: md.Filename}}
		return message.Type(kind), c
	}
	return message.Type(m.Type), c
}

// ValidSignature checks X-Hub-Signature-256 ("sha256=<hex HMAC-SHA256 of
// the body with the app secret>") in constant time.
func ValidSignature(secret string, body []byte, header string) bool {
	h, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// ServeHTTP takes the Cloud API's webhooks: GET is the verification
// handshake (hub.mode=subscribe, hub.verify_token = the settings'
// verifyToken → hub.challenge echoed; 403 otherwise); POST is a signed
// notification: 401 for a missing or wrong signature, 400 for a body that
// is not one, 500 when the platform could not store it (the provider
// retries), 200 once its receipts and inbound messages are durable.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query()
		if q.Get("hub.mode") != "subscribe" || c.set.VerifyToken == "" ||
			!hmac.Equal([]byte(q.Get("hub.verify_token")), []byte(c.set.VerifyToken)) {
			http.Error(w, "verification failed", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, q.Get("hub.challenge"))
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhook))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !ValidSignature(c.set.AppSecret, body, r.Header.Get("X-Hub-Signature-256")) {
			c.log.Warn("whatsapp webhook with a missing or wrong signature refused")
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		changes, err := Parse(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := c.take(r.Context(), changes); err != nil {
			c.log.Error("whatsapp webhook not stored; the provider will retry", "err", err)
			http.Error(w, "not stored", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (c *Connector) take(ctx context.Context, changes []Change) error {
	if c.rx == nil {
		return errors.New("no receiver")
	}
	if err := c.takeStatuses(ctx, changes); err != nil {
		return err
	}
	for _, ch := range changes {
		if ch.Template != nil {
			if err := c.templateUpdate(ctx, *ch.Template); err != nil {
				return err
			}
			continue
		}
		if ch.Metadata.PhoneNumberID != "" && ch.Metadata.PhoneNumberID != c.set.PhoneNumberID {
			continue // another number of the same app
		}
		dest := digitsOnly(ch.Metadata.DisplayPhoneNumber)
		for _, m := range ch.Messages {
			from := digitsOnly(m.From)
			if from == "" {
				continue
			}
			typ, content := m.Content()
			err := c.rx.Inbound(ctx, channel.Inbound{Connector: c.name, Channel: message.ChannelWhatsApp,
				Source: from, Destination: dest, Endpoint: c.set.PhoneNumberID, Text: m.AsText(), Type: typ, Content: content, Total: 1, Part: 1})
			if errors.Is(err, store.ErrNotFound) {
				c.log.Warn("whatsapp inbound message to a number no account has; dropped", "to", dest)
				continue
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// takeStatuses hands the statuses of a notification to the receiver and
// returns once all are durable. Statuses of different messages go
// concurrently, so that a batched notification is stored in one commit
// rather than one commit per status; those of one message keep their
// order.
func (c *Connector) takeStatuses(ctx context.Context, changes []Change) error {
	var order []string
	byID := map[string][]store.Receipt{}
	for _, ch := range changes {
		if ch.Metadata.PhoneNumberID != "" && ch.Metadata.PhoneNumberID != c.set.PhoneNumberID {
			continue
		}
		for _, s := range ch.Statuses {
			// "sent" tells nothing the send's answer did not: the
			// recipient became sent when the Cloud API answered with its
			// wamid. Acknowledged without a write (a third of them).
			if s.Status == "sent" {
				continue
			}
			rc, ok := s.Receipt(c.name)
			if !ok {
				continue
			}
			if _, seen := byID[s.ID]; !seen {
				order = append(order, s.ID)
			}
			byID[s.ID] = append(byID[s.ID], rc)
		}
	}
	if len(order) <= 1 {
		for _, id := range order {
			for _, rc := range byID[id] {
				if err := c.rx.Receipt(ctx, rc); err != nil {
					return err
				}
			}
		}
		return nil
	}
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, id := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, rc := range byID[id] {
				if errs[i] = c.rx.Receipt(ctx, rc); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func digitsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
