package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/chatsim"
	"github.com/omnigate/omnigate/internal/message"
)

// templateRecorder is a recorder with a template registry.
type templateRecorder struct {
	recorder
	tmu       sync.Mutex
	templates []channel.TemplateStatus
}

func (r *templateRecorder) TemplateStatus(_ context.Context, t channel.TemplateStatus) error {
	r.tmu.Lock()
	defer r.tmu.Unlock()
	r.templates = append(r.templates, t)
	return nil
}

func buttons(n int) []message.Choice {
	out := make([]message.Choice, n)
	for i := range out {
		out[i] = message.Choice{ID: fmt.Sprint("b", i), Title: fmt.Sprint("Option ", i)}
	}
	return out
}

func rows(n int) []message.Choice {
	out := make([]message.Choice, n)
	for i := range out {
		out[i] = message.Choice{ID: fmt.Sprint("r", i), Title: fmt.Sprint("Row ", i), Description: "a row"}
	}
	return out
}

// The Cloud API's bounds on interactive messages hold at accept (Prepare,
// naming the field) and at the simulator (131009), which sends what is
// within them.
func TestInteractiveBounds(t *testing.T) {
	to := []message.Recipient{{Address: "+966501234567"}}
	in := func(i message.Interactive) *message.Message {
		if i.Body == "" {
			i.Body = "Pick one"
		}
		return &message.Message{Type: TypeInteractive, Content: &message.Content{Interactive: &i}, Recipients: to}
	}
	bad := map[string]*message.Message{
		"content.interactive.action.buttons":                   in(message.Interactive{Type: "button", Buttons: buttons(4)}),
		"content.interactive.action.buttons[0].title":          in(message.Interactive{Type: "button", Buttons: []message.Choice{{ID: "a", Title: strings.Repeat("x", 21)}}}),
		"content.interactive.action.buttons[1].id":             in(message.Interactive{Type: "button", Buttons: []message.Choice{{ID: "a", Title: "A"}, {ID: "a", Title: "B"}}}),
		"content.interactive.action.sections":                  in(message.Interactive{Type: "list", Button: "Pick", Sections: []message.Section{{Title: "a", Rows: rows(6)}, {Title: "b", Rows: rows(5)[:5]}}}),
		"content.interactive.action.sections[0].rows[0].title": in(message.Interactive{Type: "list", Button: "Pick", Sections: []message.Section{{Rows: []message.Choice{{ID: "x", Title: strings.Repeat("y", 25)}}}}}),
		"content.interactive.action.button":                    in(message.Interactive{Type: "list", Sections: []message.Section{{Rows: rows(1)}}}),
		"content.interactive.body.text":                        in(message.Interactive{Type: "button", Body: strings.Repeat("z", MaxInteractiveBody+1), Buttons: buttons(1)}),
		"content.interactive.header.text":                      in(message.Interactive{Type: "button", Header: strings.Repeat("h", 61), Buttons: buttons(1)}),
		"content.interactive.type":                             in(message.Interactive{Type: "carousel"}),
	}
	// rows of the second section repeat ids of the first: give them their own
	bad["content.interactive.action.sections"].Content.Interactive.Sections[1].Rows = []message.Choice{{ID: "s1", Title: "A"}, {ID: "s2", Title: "B"}, {ID: "s3", Title: "C"}, {ID: "s4", Title: "D"}, {ID: "s5", Title: "E"}}
	for field, m := range bad {
		var inv *message.Invalid
		if err := Prepare(m); !errors.As(err, &inv) || inv.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	react := &message.Message{Type: TypeReaction, Content: &message.Content{Reaction: &message.Reaction{Emoji: "👍"}}, Recipients: to}
	if err := Prepare(react); err == nil {
		t.Error("a reaction without its message id was prepared")
	}

	sim, c, _, _ := setup(t)
	sim.HandsetReply(chatsim.Reply{From: "966501234567", PhoneNumberID: "1055", Text: "hi"}) // opens the window
	for _, m := range []*message.Message{
		in(message.Interactive{Type: "button", Header: "Delivery", Footer: "omnigate", Buttons: buttons(MaxButtons)}),
		in(message.Interactive{Type: "list", Button: "Slots", Sections: []message.Section{{Title: "Morning", Rows: rows(4)}, {Title: "Evening", Rows: []message.Choice{{ID: "e1", Title: "18:00"}}}}}),
		{Type: TypeReaction, Content: &message.Content{Reaction: &message.Reaction{MessageID: "wamid.ABC", Emoji: "👍"}}, Recipients: to},
	} {
		if _, err := send(t, c, m); err != nil {
			t.Errorf("%s: %v", m.Type, err)
		}
	}
	// What Prepare refuses, the simulator refuses too (sent around it).
	over := in(message.Interactive{Type: "button", Buttons: buttons(4)})
	over.Channel = message.ChannelWhatsApp
	_, err := c.Send(context.Background(), channel.Submission{Message: over, Recipient: &over.Recipients[0]})
	var perm *channel.PermanentError
	if !errors.As(err, &perm) || perm.Code != 131009 {
		t.Errorf("4 buttons at the simulator: %v", err)
	}
	long := in(message.Interactive{Type: "list", Button: "Slots", Sections: []message.Section{{Rows: rows(11)}}})
	long.Channel = message.ChannelWhatsApp
	if _, err := c.Send(context.Background(), channel.Submission{Message: long, Recipient: &long.Recipients[0]}); !errors.As(err, &perm) || perm.Code != 131009 {
		t.Errorf("11 rows at the simulator: %v", err)
	}
}

// A template submitted through the connector is PENDING at the provider;
// its review comes back as a message_template_status_update webhook,
// which the connector hands to a receiver that keeps a registry.
func TestTemplateSubmitAndReview(t *testing.T) {
	sim, c, _, hook := setup(t)
	rx := &templateRecorder{}
	c.rx = rx
	out, err := c.SubmitTemplate(context.Background(), "order_shipped", "en_US", "UTILITY", []byte(`[{"type":"BODY","text":"Order {{1}} shipped"}]`))
	if err != nil || out.ID == "" || out.Status != "PENDING" {
		t.Fatalf("submit: %+v %v", out, err)
	}
	if _, err := c.SubmitTemplate(context.Background(), "order_shipped", "en_US", "UTILITY", []byte(`[{"type":"BODY","text":"x"}]`)); err == nil {
		t.Error("a second en_US variant was taken")
	}
	_ = hook
	if err := sim.Review(out.ID, "", "", "REJECTED", "INVALID_FORMAT"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the review webhook", func() bool {
		rx.tmu.Lock()
		defer rx.tmu.Unlock()
		return len(rx.templates) == 1
	})
	got := rx.templates[0]
	if got.ProviderID != out.ID || got.Status != "REJECTED" || got.Reason != "INVALID_FORMAT" || got.Account != "waba1" ||
		got.Name != "order_shipped" || got.Language != "en_US" || got.Connector != "wa" {
		t.Errorf("review %+v", got)
	}
	list, err := c.ListTemplates(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != out.ID || list[0].Status != "REJECTED" || list[0].Reason != "INVALID_FORMAT" {
		t.Errorf("provider's list: %+v %v", list, err)
	}
	// Sending a rejected template fails at the provider.
	m := &message.Message{Type: TypeHSM, Content: &message.Content{Template: &message.Template{Name: "order_shipped", Language: "en_US", Params: []string{"A-1"}}},
		Recipients: []message.Recipient{{Address: "966501234567"}}}
	var perm *channel.PermanentError
	if _, err := send(t, c, m); !errors.As(err, &perm) || perm.Code != 132001 {
		t.Errorf("rejected template: %v", err)
	}
}

// Inbound messages keep their structure: media by id with its type, a
// list reply's id, a reaction's target.
func TestInboundContent(t *testing.T) {
	sim, _, rx, _ := setup(t)
	sim.HandsetReply(chatsim.Reply{From: "966501234567", PhoneNumberID: "1055", List: "Evening", ListID: "e1"})
	sim.HandsetReply(chatsim.Reply{From: "966501234567", PhoneNumberID: "1055", Image: "parcel", ImageData: []byte("jpg")})
	sim.HandsetReply(chatsim.Reply{From: "966501234567", PhoneNumberID: "1055", Reaction: "👍", ReactTo: "wamid.X"})
	waitFor(t, "three inbound messages", func() bool {
		rx.mu.Lock()
		defer rx.mu.Unlock()
		return len(rx.inbound) == 3
	})
	list, img, react := rx.inbound[0], rx.inbound[1], rx.inbound[2]
	if list.Type != TypeInteractive || list.Content.Reply == nil || list.Content.Reply.ID != "e1" || list.Content.Reply.Type != "list" || list.Text != "Evening" {
		t.Errorf("list reply %+v %+v", list, list.Content)
	}
	if img.Type != TypeImage || len(img.Content.Media) != 1 || img.Content.Media[0].ID == "" || img.Content.Media[0].MimeType != "image/jpeg" ||
		img.Content.Media[0].Caption != "parcel" || !strings.HasPrefix(img.Content.ProviderID, "wamid.") {
		t.Errorf("image %+v %+v", img, img.Content)
	}
	if react.Type != TypeReaction || react.Content.Reaction.MessageID != "wamid.X" || react.Content.Reaction.Emoji != "👍" {
		t.Errorf("reaction %+v", react.Content)
	}
}

// FuzzTemplateStatus feeds template status webhooks (real frames, cut
// and mutated) through the parser and into a registry: never a panic, and
// an update handed on always has its event and an id or a name.
func FuzzTemplateStatus(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1700000000,"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":5000000001,"message_template_name":"order_shipped","message_template_language":"en_US","reason":"NONE"}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"REJECTED","message_template_id":1,"message_template_name":"x","message_template_language":"de","reason":"INVALID_FORMAT"}},{"field":"messages","value":{"statuses":[{"id":"wamid.1","status":"sent"}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":"12"}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"message_template_status_update","value":[]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rx := &templateRecorder{}
		c := &Connector{name: "wa", set: Settings{WABAID: "waba1"}, log: slog.New(slog.DiscardHandler), rx: rx}
		changes, err := Parse(b)
		if err != nil {
			return
		}
		for _, ch := range changes {
			for _, m := range ch.Messages {
				m.Content()
				m.AsText()
			}
		}
		if err := c.take(context.Background(), changes); err != nil {
			t.Fatalf("take: %v", err)
		}
		for _, u := range rx.templates {
			if u.Status == "" || u.ProviderID == "" && u.Name == "" || u.Account == "" {
				t.Fatalf("update without event, id or account: %+v", u)
			}
		}
	})
}
