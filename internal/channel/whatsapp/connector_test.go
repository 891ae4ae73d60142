package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// recorder is a Receiver keeping what the connector hands over.
type recorder struct {
	mu       sync.Mutex
	receipts []store.Receipt
	inbound  []channel.Inbound
}

func (r *recorder) Receipt(_ context.Context, rc store.Receipt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.receipts = append(r.receipts, rc)
	return nil
}

func (r *recorder) Inbound(_ context.Context, in channel.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inbound = append(r.inbound, in)
	return nil
}

func (r *recorder) find(id, status, event string) *store.Receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, rc := range r.receipts {
		if rc.ProviderIDs[0] == id && string(rc.Status) == status && rc.Event == event {
			return &r.receipts[i]
		}
	}
	return nil
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func setup(t *testing.T) (*chatsim.Server, *Connector, *recorder, *httptest.Server) {
	sim, err := chatsim.Start(chatsim.Config{Window: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Stop() })
	rx := &recorder{}
	settings, _ := json.Marshal(Settings{BaseURL: sim.URL() + "/v21.0", PhoneNumberID: "1055", AccessToken: "test-token",
		AppSecret: "test-secret", VerifyToken: "test-verify", WABAID: "waba1"})
	c, err := New("wa", settings, rx, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	hook := httptest.NewServer(c)
	t.Cleanup(hook.Close)
	sim.SetWebhook(hook.URL)
	return sim, c, rx, hook
}

func send(t *testing.T, c *Connector, m *message.Message) (string, error) {
	t.Helper()
	if m.Channel == "" {
		m.Channel = message.ChannelWhatsApp
	}
	if err := Prepare(m); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	res, err := c.Send(context.Background(), channel.Submission{Message: m, Recipient: &m.Recipients[0]})
	if err != nil {
		return "", err
	}
	if res.Status != message.Sent || len(res.PartIDs) != 1 || !strings.HasPrefix(res.PartIDs[0], "wamid.") || res.EchoesMessageID != (m.ID != "") {
		t.Fatalf("result %+v", res)
	}
	return res.PartIDs[0], nil
}

func TestConnectorAgainstTheSimulator(t *testing.T) {
	sim, c, rx, _ := setup(t)
	if err := sim.Verify(context.Background()); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	// The handset writes first: the window opens, the inbound message
	// reaches the receiver.
	lat, lon := 24.7136, 46.6753
	for _, rp := range []chatsim.Reply{{Text: "hello"}, {Button: "Track order", ButtonID: "b1"},
		{Latitude: &lat, Longitude: &lon}, {Image: "my parcel", ImageData: []byte("jpeg")}} {
		rp.From, rp.PhoneNumberID = "+966 50 123 4567", "1055"
		if _, err := sim.HandsetReply(rp); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "4 inbound", func() bool { rx.mu.Lock(); defer rx.mu.Unlock(); return len(rx.inbound) == 4 })
	texts := []string{}
	for _, in := range rx.inbound {
		if in.Source != "966501234567" || in.Destination != "1055" || in.Channel != message.ChannelWhatsApp {
			t.Errorf("inbound %+v", in)
		}
		texts = append(texts, in.Text)
	}
	if texts[0] != "hello" || texts[1] != "Track order" || texts[2] != "[location 24.7136,46.6753]" || !strings.HasPrefix(texts[3], "my parcel [image ") {
		t.Errorf("texts %q", texts)
	}

	sim.AddTemplate("waba1", "order_shipped", "en_US", "UTILITY", "APPROVED", `[{"type":"BODY","text":"Order {{1}} shipped"}]`)
	to := []message.Recipient{{Address: "+966501234567"}}
	msgs := map[string]*message.Message{
		"text":     {Body: "Your order has shipped", Recipients: to},
		"image":    {Type: TypeImage, Content: &message.Content{Media: []message.Media{{Kind: "image", URL: "https://example.com/a.jpg", Caption: "parcel"}}}, Recipients: to},
		"video":    {Type: TypeVideo, Content: &message.Content{Media: []message.Media{{URL: "https://example.com/a.mp4"}}}, Recipients: to},
		"audio":    {Type: TypeAudio, Content: &message.Content{Media: []message.Media{{URL: "https://example.com/a.ogg"}}}, Recipients: to},
		"file":     {Type: TypeFile, Content: &message.Content{Media: []message.Media{{URL: "https://example.com/invoice.pdf"}}}, Recipients: to},
		"location": {Content: &message.Content{Location: &message.Location{Latitude: 24.7, Longitude: 46.6}}, Recipients: to},
		"hsm":      {Content: &message.Content{Template: &message.Template{Name: "order_shipped", Language: "en_US", Params: []string{"A-17"}}}, Recipients: to},
	}
	ids := map[string]string{}
	for name, m := range msgs {
		m.ID = "m-" + name
		id, err := send(t, c, m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids[name] = id
	}
	for name, id := range ids {
		waitFor(t, name+" delivered", func() bool { return rx.find(id, "delivered", "") != nil })
		// The message id went out as biz_opaque_callback_data and came
		// back with the status: the store finds the part through it.
		if got := rx.find(id, "delivered", "").MessageID; got != "m-"+name {
			t.Errorf("%s: the delivered status names message %q", name, got)
		}
		// The "sent" webhook is acknowledged without a receipt: the send's
		// answer (the wamid) made the recipient sent already.
		if rx.find(id, "sent", "") != nil {
			t.Errorf("%s: a sent status became a receipt", name)
		}
	}
	var doc map[string]any
	for _, s := range sim.Sent() {
		if s.ID == ids["file"] {
			json.Unmarshal(s.Body, &doc)
		}
	}
	if d, _ := doc["document"].(map[string]any); doc["type"] != "document" || d["link"] != "https://example.com/invoice.pdf" || d["filename"] != "invoice.pdf" {
		t.Errorf("file sent as %v", doc)
	}
	if err := sim.Read(ids["text"]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "read", func() bool { return rx.find(ids["text"], "delivered", store.EventRead) != nil })
	if got := rx.find(ids["text"], "delivered", store.EventRead).MessageID; got != "m-text" {
		t.Errorf("the read status names message %q", got)
	}

	// Uploaded media are sent by id.
	mid, err := c.UploadMedia(context.Background(), "a.png", "image/png", []byte("png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := send(t, c, &message.Message{Type: TypeImage, Content: &message.Content{Media: []message.Media{{URL: "https://example.com/x.png"}}}, Recipients: to}); err != nil {
		t.Fatal(err)
	}
	byID := &message.Message{Channel: message.ChannelWhatsApp, Type: TypeImage, Content: &message.Content{Media: []message.Media{{URL: "media:" + mid}}}, Recipients: to}
	if _, err := c.Send(context.Background(), channel.Submission{Message: byID, Recipient: &to[0]}); err != nil {
		t.Fatalf("by media id: %v", err)
	}
}

func TestConnectorErrors(t *testing.T) {
	sim, c, rx, hook := setup(t)
	// Outside the window a text fails, asynchronously, with 131047.
	id, err := send(t, c, &message.Message{Body: "hi", Recipients: []message.Recipient{{Address: "966500000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "131047", func() bool { return rx.find(id, "delivery_failed", "") != nil })
	if r := rx.find(id, "delivery_failed", ""); r.ErrorCode != CodeReengagement || r.Reason != ReasonWindow {
		t.Errorf("receipt %+v", r)
	}
	// An undeliverable number.
	sim.AddTemplate("waba1", "hello", "en", "UTILITY", "APPROVED", `[]`)
	id, err = send(t, c, &message.Message{Content: &message.Content{Template: &message.Template{Name: "hello", Language: "en"}},
		Recipients: []message.Recipient{{Address: "9995550001"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "131026", func() bool {
		r := rx.find(id, "delivery_failed", "")
		return r != nil && r.ErrorCode == CodeUndeliverable
	})

	hsm := func(name string) *message.Message {
		return &message.Message{Content: &message.Content{Template: &message.Template{Name: name, Language: "en"}},
			Recipients: []message.Recipient{{Address: "966500000001"}}}
	}
	var perm *channel.PermanentError
	var route *channel.RouteError
	if _, err := send(t, c, hsm("nope")); !errors.As(err, &perm) || perm.Code != 132001 {
		t.Errorf("unknown template: %v", err)
	}
	sim.AddTemplate("waba1", "paused", "en", "MARKETING", "PAUSED", `[]`)
	if _, err := send(t, c, hsm("paused")); !errors.As(err, &perm) || perm.Code != 132015 {
		t.Errorf("paused template: %v", err)
	}
	sim.FailNext(1, 130429, "")
	if _, err := send(t, c, hsm("hello")); err == nil || !channel.IsTemporary(err) {
		t.Errorf("throttled: %v", err)
	}
	sim.FailNext(1, 131000, "")
	if _, err := send(t, c, hsm("hello")); err == nil || !channel.IsTemporary(err) {
		t.Errorf("server error: %v", err)
	}
	var gone *channel.SuspendError
	for _, code := range []int{CodeAccountLocked, CodeNotRegistered} {
		sim.FailNext(1, code, "")
		if _, err := send(t, c, hsm("hello")); !errors.As(err, &gone) || gone.Code != code || channel.IsTemporary(err) || !channel.ShouldFailOver(err) {
			t.Errorf("account gone (%d): %v", code, err)
		}
	}
	sim.FailNext(1, CodeReengagement, "(#131047) Re-engagement message")
	if _, err := send(t, c, hsm("hello")); !errors.As(err, &perm) || perm.Reason != ReasonWindow {
		t.Errorf("131047: %v", err)
	}
	bad, _ := json.Marshal(Settings{BaseURL: sim.URL() + "/v21.0", PhoneNumberID: "1055", AccessToken: "wrong", AppSecret: "x"})
	cb, _ := New("bad", bad, rx, nil)
	if _, err := send(t, cb, hsm("hello")); !errors.As(err, &route) || route.Code != 190 {
		t.Errorf("bad token: %v", err)
	}

	// Webhooks without the right signature, and bad handshakes, are refused.
	body := `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.x","status":"delivered"}]}}]}]}`
	for _, sig := range []string{"", "sha256=00", chatsim.Sign("other", []byte(body)), "sha1=" + chatsim.Sign("test-secret", []byte(body))[7:]} {
		req, _ := http.NewRequest("POST", hook.URL, strings.NewReader(body))
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("signature %q: %d", sig, resp.StatusCode)
		}
	}
	if rx.find("wamid.x", "delivered", "") != nil {
		t.Error("an unsigned webhook was taken")
	}
	for _, q := range []string{"?hub.mode=subscribe&hub.verify_token=no&hub.challenge=1", "?hub.mode=x&hub.verify_token=test-verify&hub.challenge=1"} {
		resp, err := http.Get(hook.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("handshake %s: %d", q, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", hook.URL, strings.NewReader("{"))
	req.Header.Set("X-Hub-Signature-256", chatsim.Sign("test-secret", []byte("{")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("signed garbage: %d", resp.StatusCode)
	}
}

func TestPrepare(t *testing.T) {
	to := []message.Recipient{{Address: "+966501234567"}}
	bad := []*message.Message{
		{Recipients: to},
		{Body: "x", Recipients: []message.Recipient{{Address: "0501234567"}}},
		{Body: "x", Recipients: []message.Recipient{{Address: "abc"}}},
		{Type: TypeImage, Recipients: to},
		{Type: TypeImage, Content: &message.Content{Media: []message.Media{{Kind: "video", URL: "https://e.com/a"}}}, Recipients: to},
		{Type: TypeImage, Content: &message.Content{Media: []message.Media{{URL: "ftp://e.com/a"}}}, Recipients: to},
		{Type: TypeLocation, Content: &message.Content{Location: &message.Location{Latitude: 91}}, Recipients: to},
		{Type: TypeHSM, Content: &message.Content{Template: &message.Template{Name: "x"}}, Recipients: to},
		{Type: "sticker", Body: "x", Recipients: to},
		{Body: strings.Repeat("a", MaxText+1), Recipients: to},
	}
	for i, m := range bad {
		var inv *message.Invalid
		if err := Prepare(m); !errors.As(err, &inv) {
			t.Errorf("%d: %v", i, err)
		}
	}
	m := &message.Message{Body: "hi", Recipients: to}
	if err := Prepare(m); err != nil || m.Type != TypeText || m.Recipients[0].Address != "966501234567" || m.Recipients[0].PartCount != 1 {
		t.Errorf("%v %+v", err, m)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"1055","phone_number_id":"1055"},"statuses":[{"id":"wamid.1","status":"failed","timestamp":"1700000000","errors":[{"code":131047,"title":"Re-engagement message"}]}],"messages":[{"from":"9665","id":"wamid.2","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b","title":"Yes"}}}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"1","type":"location","location":{"latitude":1e308,"longitude":-1}}]}}]}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		changes, err := Parse(b)
		if err != nil {
			return
		}
		for _, c := range changes {
			for _, s := range c.Statuses {
				s.Receipt("wa")
			}
			for _, m := range c.Messages {
				m.AsText()
				m.Content()
			}
		}
	})
}

// TestParseOnePass checks that Parse, which decodes a body once, reads
// what decoding each change's value apart reads, errors included.
func TestParseOnePass(t *testing.T) {
	bodies := []string{
		`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"1055","phone_number_id":"1055"},"statuses":[{"id":"wamid.1","status":"failed","timestamp":"1700000000","errors":[{"code":131047,"title":"Re-engagement message"}]}],"messages":[{"from":"9665","id":"wamid.2","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b","title":"Yes"}}}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"id":"77","changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":5,"message_template_name":"order","message_template_language":"en_US","reason":"NONE"}},{"field":"messages","value":{"statuses":[{"id":"wamid.3","status":"read","timestamp":"1700000001"}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":null}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"account_update","value":{"event":7,"messages":"x"}},{"field":"messages","value":{"statuses":[{"id":"wamid.4","status":"sent"}]}}]}]}`,
		`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":4}]}}]}]}`,
		`{"object":"page","entry":[]}`,
		`{"object":`,
	}
	for _, b := range bodies {
		got, gotErr := Parse([]byte(b))
		want, wantErr := parseByField([]byte(b))
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\none pass %+v, %v\nby field %+v, %v", b, got, gotErr, want, wantErr)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJDNjgzNUI2QTc0RDc3RjI3QjEA","status":"delivered","timestamp":"1750263773","recipient_id":"16505551234","conversation":{"id":"6ceb9d929c5e1e0a8b9d0b9d57f6cd5c","origin":{"type":"utility"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"utility"}}]}}]}]}`)
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
