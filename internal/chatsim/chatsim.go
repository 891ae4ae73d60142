// Package chatsim is a WhatsApp Business Cloud API simulator for tests and
// the demo, faithful to the public wire format of Meta's Graph API:
//
//   - POST /{version}/{phone-number-id}/messages (Bearer token): text,
//     image, video, audio, document (by link or media id), location,
//     template with components, interactive, reaction; answers
//     {"messaging_product","contacts":[{"input","wa_id"}],"messages":[{"id"}]}
//     or a Graph error {"error":{"message","type","code","error_subcode","fbtrace_id"}}.
//   - POST /{version}/{phone-number-id}/media (multipart upload) and
//     GET /{version}/{media-id} (its URL, type, size, sha256), the URL
//     serving the bytes.
//   - POST/GET /{version}/{waba-id}/message_templates: submitted templates
//     are PENDING until the control API approves, rejects or pauses them;
//     a template message needs an APPROVED template of its name and language.
//   - Webhooks to Config.WebhookURL, signed X-Hub-Signature-256 with the app
//     secret: statuses (sent, delivered, read, failed with errors[]; each
//     echoes the send's biz_opaque_callback_data),
//     inbound messages (text, image, button and list replies, reactions,
//     location) and template reviews (message_template_status_update).
//     Verify runs the GET hub.challenge handshake.
//   - Interactive messages within the Cloud API's bounds (3 reply buttons,
//     10 list rows, title lengths; else 131009).
//   - A control API under /_control/: reply (a handset sends), read, fail,
//     template (review), error (the next sends answer a Graph error),
//     silence (a handset is off: its messages stay sent, never delivered).
//
// Handsets: a number starting 999 is undeliverable (failed, 131026); a
// free-form message to a number that has not written within 24 hours fails
// with 131047 (re-engagement) when Config.Window is set, as the Cloud API
// does: asynchronously, in a failed status.
package chatsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures the simulator. Zero values mean the defaults.
type Config struct {
	// Listen is the HTTP address; default 127.0.0.1:0.
	Listen string
	// Token is the access token senders must present; default "test-token".
	Token string
	// AppSecret signs webhooks; default "test-secret".
	AppSecret string
	// VerifyToken is sent in the GET handshake; default "test-verify".
	VerifyToken string
	// WebhookURL receives statuses and inbound messages ("" keeps them in
	// the outbox only).
	WebhookURL string
	// Window enforces the 24-hour customer-service window (131047).
	Window bool
	// AutoRead makes every handset read what it was delivered, ReadAfter
	// (default 1s) later (the demo). A read status of a message whose id
	// the platform has not stored yet would be dropped, as the Cloud API's
	// would be by any receiver: handsets read later than they receive.
	AutoRead  bool
	ReadAfter time.Duration
	// TLSCert and TLSKey, when both set, serve HTTPS (clients that speak
	// only https, as Meta's Node SDK does).
	TLSCert, TLSKey string
	// WebhookTLS is the TLS configuration webhooks to an https WebhookURL
	// use; nil: Go's defaults (the system's roots). See SetWebhookTLS.
	WebhookTLS *tls.Config
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Sent is a message the simulator took, as it was sent.
type Sent struct {
	ID            string          `json:"id"`
	PhoneNumberID string          `json:"phoneNumberId"`
	To            string          `json:"to"`
	Type          string          `json:"type"`
	Body          json.RawMessage `json:"body"`
	Status        string          `json:"status"`
	// Callback is the send's biz_opaque_callback_data, echoed in its
	// status webhooks.
	Callback string `json:"bizOpaqueCallbackData,omitempty"`
}

type media struct {
	id, mime string
	data     []byte
}

// Template is a submitted message template.
type Template struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Language   string          `json:"language"`
	Category   string          `json:"category"`
	Status     string          `json:"status"`
	Reason     string          `json:"rejected_reason,omitempty"`
	Components json.RawMessage `json:"components,omitempty"`
	waba       string
}

// Server is a running simulator.
type Server struct {
	cfg  Config
	ln   net.Listener
	tls  bool
	srv  *http.Server
	hook chan []byte
	done chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	sent      map[string]*Sent
	order     []string
	lastIn    map[string]time.Time // by wa_id
	media     map[string]*media
	templates map[string]*Template
	errs      []graphErr // answered to the next sends
	delivered []json.RawMessage
	hookFails int
	silent    map[string]bool // handsets that never confirm delivery (Silence)
	client    *http.Client    // webhooks' (nil: made from cfg.WebhookTLS on next use)
}

// Start listens and serves until Stop.
func Start(cfg Config) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Token == "" {
		cfg.Token = "test-token"
	}
	if cfg.AppSecret == "" {
		cfg.AppSecret = "test-secret"
	}
	if cfg.VerifyToken == "" {
		cfg.VerifyToken = "test-verify"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReadAfter <= 0 {
		cfg.ReadAfter = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, ln: ln, hook: make(chan []byte, 4096), done: make(chan struct{}),
		sent: map[string]*Sent{}, lastIn: map[string]time.Time{}, media: map[string]*media{}, templates: map[string]*Template{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{version}/{node}/messages", s.auth(s.messages))
	mux.HandleFunc("POST /{version}/{node}/media", s.auth(s.upload))
	mux.HandleFunc("GET /{version}/{node}", s.auth(s.mediaInfo))
	mux.HandleFunc("DELETE /{version}/{node}", s.auth(s.mediaDelete))
	mux.HandleFunc("GET /_media/{id}", s.auth(s.download))
	mux.HandleFunc("POST /{version}/{node}/message_templates", s.auth(s.submitTemplate))
	mux.HandleFunc("GET /{version}/{node}/message_templates", s.auth(s.listTemplates))
	mux.HandleFunc("POST /_control/reply", s.controlReply)
	mux.HandleFunc("POST /_control/read", s.controlRead)
	mux.HandleFunc("POST /_control/fail", s.controlFail)
	mux.HandleFunc("POST /_control/silence", s.controlSilence)
	mux.HandleFunc("POST /_control/template", s.controlTemplate)
	mux.HandleFunc("POST /_control/error", s.controlError)
	mux.HandleFunc("POST /_control/verify", s.controlVerify)
	mux.HandleFunc("GET /_control/sent", s.controlSent)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, graphErr{status: 400, Code: 100, Type: "GraphMethodException",
			Message: fmt.Sprintf("Unsupported %s request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation.", r.Method)})
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	if cfg.TLSCert != "" && cfg.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("chatsim: tls: %w", err)
		}
		s.tls = true
		s.ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	go func() { defer s.wg.Done(); s.srv.Serve(s.ln) }()
	go func() { defer s.wg.Done(); s.deliverHooks() }()
	return s, nil
}

// Addr is the listening address; URL its base URL (what a connector's
// baseUrl is, with a version: URL()+"/v21.0").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is http://addr (https:// with TLS).
func (s *Server) URL() string {
	if s.tls {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// SetWebhook points webhooks at url.
func (s *Server) SetWebhook(url string) {
	s.mu.Lock()
	s.cfg.WebhookURL = url
	s.mu.Unlock()
}

// SetWebhookTLS sets the TLS configuration of webhooks to an https URL:
// for example one that trusts the receiving server's own self-signed
// certificate when the simulator runs in the same process (the demo).
func (s *Server) SetWebhookTLS(c *tls.Config) {
	s.mu.Lock()
	s.cfg.WebhookTLS, s.client = c, nil
	s.mu.Unlock()
}

// webhookClient is the client webhooks are posted with; s.mu is held.
func (s *Server) webhookClient() *http.Client {
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
		if s.cfg.WebhookTLS != nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.TLSClientConfig = s.cfg.WebhookTLS
			s.client.Transport = t
		}
	}
	return s.client
}

// WebhookURL is where webhooks go.
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.WebhookURL
}

// Stop shuts the simulator down.
func (s *Server) Stop() error {
	close(s.done)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	return err
}

// Sent returns the messages taken so far, in order.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Sent, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.sent[id])
	}
	return out
}

// graphErr is a Graph API error.
type graphErr struct {
	status    int
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode,omitempty"`
	Details   string `json:"-"`
	FBTraceID string `json:"fbtrace_id"`
}

func writeErr(w http.ResponseWriter, e graphErr) {
	if e.FBTraceID == "" {
		e.FBTraceID = "A" + randHex(10)
	}
	body := map[string]any{"message": e.Message, "type": e.Type, "code": e.Code, "fbtrace_id": e.FBTraceID}
	if e.Subcode != 0 {
		body["error_subcode"] = e.Subcode
	}
	if e.Details != "" {
		body["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": e.Details}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_request"`)
	if e.status != 401 {
		w.Header().Del("WWW-Authenticate")
	}
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]any{"error": body})
}

func invalid(format string, a ...any) graphErr {
	return graphErr{status: 400, Code: 100, Type: "OAuthException", Message: "(#100) " + fmt.Sprintf(format, a...)}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !hmac.Equal([]byte(tok), []byte(s.cfg.Token)) {
			writeErr(w, graphErr{status: 401, Code: 190, Type: "OAuthException",
				Message: "Invalid OAuth access token - Cannot parse access token"})
			return
		}
		h(w, r)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func digits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// outbound is the part of a messages request the simulator reads.
type outbound struct {
	MessagingProduct string                 `json:"messaging_product"`
	RecipientType    string                 `json:"recipient_type"`
	To               string                 `json:"to"`
	Type             string                 `json:"type"`
	Text             *struct{ Body string } `json:"text"`
	Image            *mediaObj              `json:"image"`
	Video            *mediaObj              `json:"video"`
	Audio            *mediaObj              `json:"audio"`
	Document         *mediaObj              `json:"document"`
	Sticker          *mediaObj              `json:"sticker"`
	Location         *struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	} `json:"location"`
	Template *struct {
		Name     string `json:"name"`
		Language *struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string            `json:"type"`
			SubType    string            `json:"sub_type"`
			Parameters []json.RawMessage `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
	Interactive *interactive `json:"interactive"`
	Reaction    *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Status    string `json:"status"` // "read": mark an inbound message read
	MessageID string `json:"message_id"`
	// BizOpaqueCallbackData is the sender's own tracking string, echoed in
	// every status webhook of the message (at most 512 characters).
	BizOpaqueCallbackData string `json:"biz_opaque_callback_data"`
}

type mediaObj struct {
	ID      string `json:"id"`
	Link    string `json:"link"`
	Caption string `json:"caption"`
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	pnid := r.PathValue("node")
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, invalid("Invalid parameter"))
		return
	}
	var o outbound
	if err := json.Unmarshal(raw, &o); err != nil {
		writeErr(w, invalid("Invalid parameter: the body is not JSON"))
		return
	}
	if o.MessagingProduct != "whatsapp" {
		writeErr(w, invalid("The parameter messaging_product is required."))
		return
	}
	if o.Status == "read" { // mark as read
		writeJSON(w, map[string]any{"success": true})
		return
	}
	s.mu.Lock()
	if len(s.errs) > 0 {
		e := s.errs[0]
		s.errs = s.errs[1:]
		s.mu.Unlock()
		writeErr(w, e)
		return
	}
	s.mu.Unlock()
	to := digits(o.To)
	if to == "" || len(to) < 7 || len(to) > 15 {
		writeErr(w, graphErr{status: 400, Code: 131009, Type: "OAuthException", Message: "(#131009) Parameter value is not valid",
			Details: "Invalid WhatsApp recipient: " + o.To})
		return
	}
	if o.Type == "" {
		o.Type = "text"
	}
	if len(o.BizOpaqueCallbackData) > 512 {
		writeErr(w, invalid("Param biz_opaque_callback_data must be at most 512 characters long."))
		return
	}
	if e, ok := s.checkContent(&o); !ok {
		writeErr(w, e)
		return
	}
	id := "wamid." + randHex(24)
	m := &Sent{ID: id, PhoneNumberID: pnid, To: to, Type: o.Type, Body: raw, Status: "accepted",
		Callback: o.BizOpaqueCallbackData}
	s.mu.Lock()
	s.sent[id] = m
	s.order = append(s.order, id)
	last, wrote := s.lastIn[to]
	now := s.cfg.Now()
	s.mu.Unlock()
	resp := map[string]any{"messaging_product": "whatsapp",
		"contacts": []map[string]string{{"input": o.To, "wa_id": to}}}
	msg := map[string]string{"id": id}
	if o.Type == "template" {
		msg["message_status"] = "accepted"
	}
	resp["messages"] = []map[string]string{msg}
	writeJSON(w, resp)

	free := o.Type != "template"
	switch {
	case s.isSilent(to):
		s.status(pnid, m, "sent", nil) // the handset is off: no delivered, ever
	case strings.HasPrefix(to, "999"):
		s.status(pnid, m, "failed", &hookError{Code: 131026, Title: "Message Undeliverable",
			Details: "Message failed to send because the recipient's phone number is not a WhatsApp phone number or cannot receive messages."})
	case free && s.cfg.Window && (!wrote || now.Sub(last) > 24*time.Hour):
		s.status(pnid, m, "failed", &hookError{Code: 131047, Title: "Re-engagement message",
			Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."})
	default:
		s.status(pnid, m, "sent", nil)
		s.status(pnid, m, "delivered", nil)
		if s.cfg.AutoRead {
			time.AfterFunc(s.cfg.ReadAfter, func() { s.status(pnid, m, "read", nil) })
		}
	}
}

func (s *Server) checkContent(o *outbound) (graphErr, bool) {
	missing := func(p string) (graphErr, bool) {
		return graphErr{status: 400, Code: 131008, Type: "OAuthException", Message: "(#131008) Required parameter is missing",
			Details: "Parameter '" + p + "' is required."}, false
	}
	mediaOK := func(name string, m *mediaObj) (graphErr, bool) {
		if m == nil {
			return missing(name)
		}
		if (m.ID == "") == (m.Link == "") {
			return invalid("Param %s must have either 'id' or 'link'", name), false
		}
		if m.ID != "" {
			s.mu.Lock()
			_, ok := s.media[m.ID]
			s.mu.Unlock()
			if !ok {
				return graphErr{status: 400, Code: 131053, Type: "OAuthException", Message: "(#131053) Media upload error",
					Details: "Media id " + m.ID + " does not exist"}, false
			}
		}
		return graphErr{}, true
	}
	switch o.Type {
	case "text":
		if o.Text == nil || o.Text.Body == "" {
			return missing("text.body")
		}
		if len([]rune(o.Text.Body)) > 4096 {
			return invalid("Param text['body'] must be at most 4096 characters long."), false
		}
	case "image":
		return mediaOK("image", o.Image)
	case "video":
		return mediaOK("video", o.Video)
	case "audio":
		return mediaOK("audio", o.Audio)
	case "document":
		return mediaOK("document", o.Document)
	case "sticker":
		return mediaOK("sticker", o.Sticker)
	case "location":
		if o.Location == nil || o.Location.Latitude == nil || o.Location.Longitude == nil {
			return missing("location.latitude")
		}
	case "template":
		t := o.Template
		if t == nil || t.Name == "" {
			return missing("template.name")
		}
		if t.Language == nil || t.Language.Code == "" {
			return missing("template.language")
		}
		s.mu.Lock()
		var found *Template
		for _, tp := range s.templates {
			if tp.Name == t.Name && tp.Language == t.Language.Code {
				found = tp
			}
		}
		s.mu.Unlock()
		if found == nil {
			return graphErr{status: 404, Code: 132001, Type: "OAuthException", Message: "(#132001) Template name does not exist in the translation",
				Details: fmt.Sprintf("template name (%s) does not exist in %s", t.Name, t.Language.Code)}, false
		}
		switch found.Status {
		case "APPROVED":
		case "PAUSED":
			return graphErr{status: 400, Code: 132015, Type: "OAuthException", Message: "(#132015) Template is Paused",
				Details: "Template is paused due to low quality so it cannot be sent in a template message."}, false
		default:
			return graphErr{status: 400, Code: 132001, Type: "OAuthException", Message: "(#132001) Template name does not exist in the translation",
				Details: fmt.Sprintf("template %s is %s", t.Name, found.Status)}, false
		}
		want := strings.Count(string(found.Components), "{{")
		got := 0
		for _, c := range t.Components {
			if c.Type == "button" && c.SubType == "quick_reply" {
				continue // a quick reply's payload fills no placeholder
			}
			got += len(c.Parameters)
		}
		if want != got {
			return graphErr{status: 400, Code: 132000, Type: "OAuthException", Message: "(#132000) Number of parameters does not match the expected number of params",
				Details: fmt.Sprintf("body: number of localizable_params (%d) does not match the expected number of params (%d)", got, want)}, false
		}
	case "interactive":
		return checkInteractive(o.Interactive)
	case "reaction":
		if o.Reaction == nil || o.Reaction.MessageID == "" {
			return missing("reaction.message_id")
		}
		if !strings.HasPrefix(o.Reaction.MessageID, "wamid.") {
			return notValid("reaction.message_id is not a WhatsApp message id"), false
		}
		if len([]rune(o.Reaction.Emoji)) > 10 {
			return notValid("reaction.emoji must be one emoji"), false
		}
	default:
		return invalid("Param type must be one of {AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO} - got %q.", o.Type), false
	}
	return graphErr{}, true
}

// hookError is an entry of a failed status's errors[].
type hookError struct {
	Code    int
	Title   string
	Details string
}

func (s *Server) status(pnid string, m *Sent, status string, e *hookError) {
	s.mu.Lock()
	m.Status = status
	s.mu.Unlock()
	st := hookStatus{ID: m.ID, Status: status, Timestamp: strconv.FormatInt(s.cfg.Now().Unix(), 10), RecipientID: m.To,
		Callback: m.Callback}
	if status == "sent" || status == "delivered" {
		st.Conversation = &hookConversation{ID: "c" + randHex(8)}
		st.Conversation.Origin.Type = "service"
		st.Pricing = &hookPricing{Billable: true, PricingModel: "CBP", Category: "service"}
	}
	if e != nil {
		he := hookStatusError{Code: e.Code, Title: e.Title, Message: e.Title}
		he.ErrorData.Details = e.Details
		st.Errors = []hookStatusError{he}
	}
	s.enqueue(pnid, &hookValue{Statuses: []hookStatus{st}})
}

// hookStatus is a status of a webhook's statuses[], as Graph writes it.
type hookStatus struct {
	ID           string            `json:"id"`
	Status       string            `json:"status"`
	Timestamp    string            `json:"timestamp"`
	RecipientID  string            `json:"recipient_id"`
	Callback     string            `json:"biz_opaque_callback_data,omitempty"`
	Conversation *hookConversation `json:"conversation,omitempty"`
	Pricing      *hookPricing      `json:"pricing,omitempty"`
	Errors       []hookStatusError `json:"errors,omitempty"`
}

type hookConversation struct {
	ID     string `json:"id"`
	Origin struct {
		Type string `json:"type"`
	} `json:"origin"`
}

type hookPricing struct {
	Billable     bool   `json:"billable"`
	PricingModel string `json:"pricing_model"`
	Category     string `json:"category"`
}

type hookStatusError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// hookValue is a change's value: statuses or, for inbound messages,
// contacts and messages.
type hookValue struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []any        `json:"contacts,omitempty"`
	Messages []any        `json:"messages,omitempty"`
	Statuses []hookStatus `json:"statuses,omitempty"`
}

// hookEntry is one entry of a webhook's entry[].
type hookEntry struct {
	ID      string `json:"id"`
	Changes []struct {
		Field string     `json:"field"`
		Value *hookValue `json:"value"`
	} `json:"changes"`
}

// enqueue queues value as one notification: an entry of the business
// account of the number, merged into one POST with those queued behind a
// slow receiver (see batchHooks).
func (s *Server) enqueue(pnid string, value *hookValue) {
	value.MessagingProduct = "whatsapp"
	value.Metadata.DisplayPhoneNumber, value.Metadata.PhoneNumberID = pnid, pnid
	e := hookEntry{ID: "waba-" + pnid}
	e.Changes = append(e.Changes, struct {
		Field string     `json:"field"`
		Value *hookValue `json:"value"`
	}{"messages", value})
	entry, _ := json.Marshal(e)
	select {
	case s.hook <- entry:
	case <-s.done:
	}
}

// Sign is the X-Hub-Signature-256 header of body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// deliverHooks posts queued webhooks in order, retrying each until it is
// answered 200 (Meta retries for up to seven days; the simulator until it
// stops).
func (s *Server) deliverHooks() {
	for {
		var entry []byte
		select {
		case entry = <-s.hook:
		case <-s.done:
			return
		}
		body := batchHooks(entry, s.hook)
		for wait := 50 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
			s.mu.Lock()
			url, client := s.cfg.WebhookURL, s.webhookClient()
			s.mu.Unlock()
			if url == "" {
				s.mu.Lock()
				s.delivered = append(s.delivered, body)
				s.mu.Unlock()
				break
			}
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hub-Signature-256", Sign(s.cfg.AppSecret, body))
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					s.mu.Lock()
					s.delivered = append(s.delivered, body)
					s.mu.Unlock()
					break
				}
				err = fmt.Errorf("answered %d", resp.StatusCode)
			}
			s.mu.Lock()
			s.hookFails++
			s.mu.Unlock()
			s.cfg.Log.Warn("chatsim: webhook not taken; retrying", "url", url, "err", err)
			select {
			case <-time.After(wait):
			case <-s.done:
				return
			}
		}
	}
}

// MaxBatch is how many notifications one webhook POST carries at most
// when they queue up behind a slow receiver. Graph batches webhook
// notifications the same way (several entries in one POST); in order, one
// POST at a time, a receiver that takes each durably would otherwise cap
// the statuses per second at one per commit.
const MaxBatch = 100

// batchHooks makes one webhook body of the entry first and those already
// queued behind it (in order), up to MaxBatch. The entries are JSON
// already: the body is written around them, nothing is decoded again.
func batchHooks(first []byte, queue chan []byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"entry":[`)
	b.Write(first)
	for n := 1; n < MaxBatch; n++ {
		select {
		case e := <-queue:
			b.WriteByte(',')
			b.Write(e)
			continue
		default:
		}
		break
	}
	b.WriteString(`],"object":"whatsapp_business_account"}`)
	return b.Bytes()
}

// Delivered returns the webhook bodies the receiver took (or, without a
// webhook URL, queued), in order.
func (s *Server) Delivered() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.delivered))
	for i, b := range s.delivered {
		out[i] = b
	}
	return out
}

// Verify runs the webhook verification handshake (GET with hub.mode,
// hub.verify_token and hub.challenge) against the webhook URL and reports
// whether the challenge came back.
func (s *Server) Verify(ctx context.Context) error {
	s.mu.Lock()
	u := s.cfg.WebhookURL
	s.mu.Unlock()
	if u == "" {
		return errors.New("no webhook URL")
	}
	challenge := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u+sep+"hub.mode=subscribe&hub.verify_token="+s.cfg.VerifyToken+"&hub.challenge="+challenge, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != 200 || string(b) != challenge {
		return fmt.Errorf("verification failed: %d %q", resp.StatusCode, b)
	}
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(16 << 20); err != nil {
		writeErr(w, invalid("Invalid parameter: a multipart form is expected"))
		return
	}
	if r.FormValue("messaging_product") != "whatsapp" {
		writeErr(w, invalid("The parameter messaging_product is required."))
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		writeErr(w, invalid("The parameter file is required."))
		return
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	mt := r.FormValue("type")
	if mt == "" {
		mt = hdr.Header.Get("Content-Type")
	}
	id := strconv.FormatInt(int64(len(s.media))+1000000000000000, 10) + randHex(2)
	id = digits(id)
	s.mu.Lock()
	s.media[id] = &media{id: id, mime: mt, data: data}
	s.mu.Unlock()
	writeJSON(w, map[string]string{"id": id})
}

func (s *Server) mediaInfo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("node")
	s.mu.Lock()
	m, ok := s.media[id]
	s.mu.Unlock()
	if !ok {
		writeErr(w, graphErr{status: 400, Code: 100, Subcode: 33, Type: "GraphMethodException",
			Message: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id)})
		return
	}
	sum := sha256.Sum256(m.data)
	writeJSON(w, map[string]any{"messaging_product": "whatsapp", "url": s.URL() + "/_media/" + id, "mime_type": m.mime,
		"sha256": hex.EncodeToString(sum[:]), "file_size": len(m.data), "id": id})
}

func (s *Server) mediaDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("node")
	s.mu.Lock()
	_, ok := s.media[id]
	delete(s.media, id)
	s.mu.Unlock()
	if !ok {
		writeErr(w, graphErr{status: 400, Code: 100, Subcode: 33, Type: "GraphMethodException", Message: "Object does not exist"})
		return
	}
	writeJSON(w, map[string]bool{"success": true})
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m, ok := s.media[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.mime)
	w.Write(m.data)
}

func (s *Server) submitTemplate(w http.ResponseWriter, r *http.Request) {
	var t Template
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&t); err != nil {
		writeErr(w, invalid("Invalid parameter"))
		return
	}
	if t.Name == "" || t.Language == "" || t.Category == "" {
		writeErr(w, invalid("Param name, language and category are required"))
		return
	}
	t.Category = strings.ToUpper(t.Category)
	switch t.Category {
	case "MARKETING", "UTILITY", "AUTHENTICATION":
	default:
		writeErr(w, invalid("Param category must be one of {AUTHENTICATION, MARKETING, UTILITY}"))
		return
	}
	s.mu.Lock()
	dup := false
	for _, o := range s.templates {
		dup = dup || o.waba == r.PathValue("node") && o.Name == t.Name && o.Language == t.Language
	}
	if !dup {
		t.ID = digits(strconv.FormatInt(int64(len(s.templates))+5000000000, 10))
		t.Status, t.waba = "PENDING", r.PathValue("node")
		s.templates[t.ID] = &t
	}
	s.mu.Unlock()
	if dup {
		writeErr(w, graphErr{status: 400, Code: 100, Subcode: 2388024, Type: "OAuthException",
			Message: "Invalid parameter", Details: "Content in this language already exists"})
		return
	}
	writeJSON(w, map[string]string{"id": t.ID, "status": t.Status, "category": t.Category})
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	data := []Template{}
	for _, t := range s.templates {
		if t.waba == r.PathValue("node") && (r.URL.Query().Get("name") == "" || r.URL.Query().Get("name") == t.Name) {
			data = append(data, *t)
		}
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"data": data, "paging": map[string]any{"cursors": map[string]string{"before": "", "after": ""}}})
}

// AddTemplate registers a template with a status (tests, the demo) and
// returns its id.
func (s *Server) AddTemplate(waba, name, language, category, status, components string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := digits(strconv.FormatInt(int64(len(s.templates))+5000000000, 10))
	s.templates[id] = &Template{ID: id, Name: name, Language: language, Category: category, Status: status,
		Components: json.RawMessage(components), waba: waba}
	return id
}

// control API

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		http.Error(w, "bad JSON: "+err.Error(), 400)
		return false
	}
	return true
}

// Reply is what a handset sends (POST /_control/reply).
type Reply struct {
	From          string `json:"from"`          // the handset's number
	PhoneNumberID string `json:"phoneNumberId"` // the business number it writes to
	Name          string `json:"name,omitempty"`
	Text          string `json:"text,omitempty"`
	// Image is a caption; set ImageData to send an image (uploaded to the
	// simulator's media store).
	Image     string `json:"image,omitempty"`
	ImageData []byte `json:"imageData,omitempty"`
	Button    string `json:"button,omitempty"` // a reply button's title; ButtonID its id
	ButtonID  string `json:"buttonId,omitempty"`
	List      string `json:"list,omitempty"` // a list row's title; ListID its id
	ListID    string `json:"listId,omitempty"`
	// Reaction is an emoji on the message ReactTo (a wamid).
	Reaction  string   `json:"reaction,omitempty"`
	ReactTo   string   `json:"reactTo,omitempty"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
	Context   string   `json:"context,omitempty"` // the wamid replied to
}

// HandsetReply makes a handset send a message; it returns the inbound
// message's wamid.
func (s *Server) HandsetReply(rp Reply) (string, error) {
	from := digits(rp.From)
	if from == "" || rp.PhoneNumberID == "" {
		return "", errors.New("from and phoneNumberId are required")
	}
	id := "wamid." + randHex(24)
	now := s.cfg.Now()
	m := map[string]any{"from": from, "id": id, "timestamp": strconv.FormatInt(now.Unix(), 10)}
	switch {
	case rp.Text != "":
		m["type"], m["text"] = "text", map[string]string{"body": rp.Text}
	case rp.ImageData != nil || rp.Image != "":
		mid := digits(strconv.FormatInt(now.UnixNano(), 10))
		s.mu.Lock()
		s.media[mid] = &media{id: mid, mime: "image/jpeg", data: rp.ImageData}
		s.mu.Unlock()
		sum := sha256.Sum256(rp.ImageData)
		m["type"], m["image"] = "image", map[string]string{"caption": rp.Image, "mime_type": "image/jpeg",
			"sha256": hex.EncodeToString(sum[:]), "id": mid}
	case rp.Button != "":
		m["type"], m["interactive"] = "interactive", map[string]any{"type": "button_reply",
			"button_reply": map[string]string{"id": rp.ButtonID, "title": rp.Button}}
	case rp.List != "":
		m["type"], m["interactive"] = "interactive", map[string]any{"type": "list_reply",
			"list_reply": map[string]string{"id": rp.ListID, "title": rp.List}}
	case rp.Reaction != "" && rp.ReactTo != "":
		m["type"], m["reaction"] = "reaction", map[string]string{"message_id": rp.ReactTo, "emoji": rp.Reaction}
	case rp.Latitude != nil && rp.Longitude != nil:
		m["type"], m["location"] = "location", map[string]float64{"latitude": *rp.Latitude, "longitude": *rp.Longitude}
	default:
		return "", errors.New("a reply needs text, image, button, list, reaction and reactTo, or latitude and longitude")
	}
	if rp.Context != "" {
		m["context"] = map[string]string{"from": rp.PhoneNumberID, "id": rp.Context}
	}
	s.mu.Lock()
	s.lastIn[from] = now
	s.mu.Unlock()
	s.enqueue(rp.PhoneNumberID, &hookValue{Contacts: []any{map[string]any{"profile": map[string]string{"name": rp.Name}, "wa_id": from}},
		Messages: []any{m}})
	return id, nil
}

func (s *Server) controlReply(w http.ResponseWriter, r *http.Request) {
	var rp Reply
	if !decode(w, r, &rp) {
		return
	}
	id, err := s.HandsetReply(rp)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	writeJSON(w, map[string]string{"id": id})
}

// Read makes the handset read a sent message (a "read" status).
func (s *Server) Read(id string) error {
	s.mu.Lock()
	m, ok := s.sent[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no sent message %q", id)
	}
	s.status(m.PhoneNumberID, m, "read", nil)
	return nil
}

// Fail fails a sent message with a Cloud API error code (default 131026).
func (s *Server) Fail(id string, code int, title string) error {
	s.mu.Lock()
	m, ok := s.sent[id]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("no sent message %q", id)
	}
	if code == 0 {
		code, title = 131026, "Message Undeliverable"
	}
	if title == "" {
		title = "Failed"
	}
	s.status(m.PhoneNumberID, m, "failed", &hookError{Code: code, Title: title, Details: title})
	return nil
}

func (s *Server) controlRead(w http.ResponseWriter, r *http.Request) {
	var v struct{ ID string }
	if !decode(w, r, &v) {
		return
	}
	if err := s.Read(v.ID); err != nil {
		http.Error(w, err.Error(), 404)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

func (s *Server) controlFail(w http.ResponseWriter, r *http.Request) {
	var v struct {
		ID    string
		Code  int
		Title string
	}
	if !decode(w, r, &v) {
		return
	}
	if err := s.Fail(v.ID, v.Code, v.Title); err != nil {
		http.Error(w, err.Error(), 404)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

// Review sets a template's status (APPROVED, REJECTED, PAUSED), by id or
// by name and language.
func (s *Server) Review(id, name, language, status, reason string) error {
	switch status {
	case "APPROVED", "REJECTED", "PAUSED", "PENDING", "DISABLED":
	default:
		return fmt.Errorf("status is APPROVED, REJECTED, PAUSED, PENDING or DISABLED")
	}
	s.mu.Lock()
	var found *Template
	for _, t := range s.templates {
		if t.ID == id || id == "" && t.Name == name && t.Language == language {
			t.Status, t.Reason = status, reason
			cp := *t
			found = &cp
			break
		}
	}
	s.mu.Unlock()
	if found == nil {
		return fmt.Errorf("no such template")
	}
	s.templateUpdate(found)
	return nil
}

// templateUpdate sends the message_template_status_update webhook of a
// template's new status to the business account's subscriber.
func (s *Server) templateUpdate(t *Template) {
	reason := t.Reason
	if reason == "" {
		reason = "NONE"
	}
	tid, _ := strconv.ParseInt(t.ID, 10, 64)
	// One entry: deliverHooks writes the body around it (batchHooks).
	entry, _ := json.Marshal(map[string]any{"id": t.waba, "time": s.cfg.Now().Unix(), "changes": []any{map[string]any{
		"field": "message_template_status_update",
		"value": map[string]any{"event": t.Status, "message_template_id": tid, "message_template_name": t.Name,
			"message_template_language": t.Language, "reason": reason}}}})
	select {
	case s.hook <- entry:
	case <-s.done:
	}
}

func (s *Server) controlTemplate(w http.ResponseWriter, r *http.Request) {
	var v struct{ ID, Name, Language, Status, Reason string }
	if !decode(w, r, &v) {
		return
	}
	if err := s.Review(v.ID, v.Name, v.Language, v.Status, v.Reason); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

// FailNext makes the next n sends answer a Graph error with code (HTTP
// status by the code: 401 for 190, 429 for 130429/131056/80007, 500 for
// 131000/1/2, else 400).
func (s *Server) FailNext(n, code int, message string) {
	st := 400
	switch code {
	case 190:
		st = 401
	case 130429, 131056, 80007, 4:
		st = 429
	case 131000, 1, 2, 131016:
		st = 500
	}
	if message == "" {
		message = fmt.Sprintf("(#%d) simulated error", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.errs = append(s.errs, graphErr{status: st, Code: code, Type: "OAuthException", Message: message})
	}
}

func (s *Server) controlError(w http.ResponseWriter, r *http.Request) {
	var v struct {
		Code, Times int
		Message     string
	}
	if !decode(w, r, &v) {
		return
	}
	if v.Times <= 0 {
		v.Times = 1
	}
	s.FailNext(v.Times, v.Code, v.Message)
	writeJSON(w, map[string]bool{"ok": true})
}

func (s *Server) controlVerify(w http.ResponseWriter, r *http.Request) {
	if err := s.Verify(r.Context()); err != nil {
		http.Error(w, err.Error(), 502)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

func (s *Server) controlSent(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.Sent())
}

// Silence switches a handset off (on with off false): messages to it are
// sent and never delivered, as to a phone that is off or gone.
func (s *Server) Silence(number string, off bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.silent == nil {
		s.silent = map[string]bool{}
	}
	if off {
		s.silent[digits(number)] = true
	} else {
		delete(s.silent, digits(number))
	}
}

func (s *Server) isSilent(to string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.silent[to]
}

// controlSilence is POST /_control/silence {"to": "…", "off": true}.
func (s *Server) controlSilence(w http.ResponseWriter, r *http.Request) {
	var v struct {
		To  string
		Off *bool
	}
	if !decode(w, r, &v) {
		return
	}
	if digits(v.To) == "" {
		http.Error(w, "to: a handset number", 400)
		return
	}
	s.Silence(v.To, v.Off == nil || *v.Off)
	writeJSON(w, map[string]bool{"ok": true})
}
