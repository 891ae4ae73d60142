package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// notes is a channel that exists only in this test: its addresses are
// "name@host", its unit a note, and its one connector kind delivers by
// answering every submission with a receipt of its own. Plugging it in
// takes a Spec, a Kind, a connector and a route: the pipeline, compliance,
// billing, the queue, the dispatcher and the receipt path take it as they
// take SMS.
type notes struct {
	name string
	rx   channel.Receiver
	up   atomic.Bool
	n    atomic.Int64
	mu   sync.Mutex
	got  []string // "to: text" of every submission
	wg   sync.WaitGroup
}

func (c *notes) Name() string    { return c.name }
func (c *notes) Channel() string { return "notes" }
func (c *notes) Start()          { c.up.Store(true) }
func (c *notes) Up() int {
	if c.up.Load() {
		return 1
	}
	return 0
}
func (c *notes) Stop(ctx context.Context) error {
	c.up.Store(false)
	c.wg.Wait()
	return nil
}

func (c *notes) Send(ctx context.Context, s channel.Submission) (channel.Result, error) {
	if s.Message.Content == nil || s.Message.Content.Email == nil {
		return channel.Result{}, &channel.PermanentError{Code: 1, Reason: "a note needs a subject"}
	}
	c.mu.Lock()
	c.got = append(c.got, s.Recipient.Address+": "+s.Message.Content.Email.Subject+" / "+s.Message.Body)
	c.mu.Unlock()
	id := fmt.Sprintf("note-%d", c.n.Add(1))
	// The provider's word comes back later, on its own, like a receipt.
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		time.Sleep(5 * time.Millisecond)
		c.rx.Receipt(context.Background(), store.Receipt{Connector: c.name, Channel: "notes", ProviderIDs: []string{id},
			Status: message.Delivered, At: time.Now().UTC()})
	}()
	return channel.Result{Status: message.Sent, PartIDs: []string{id}}, nil
}

func TestAChannelPlugsIn(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine)
		var conn *notes
		s.app.channels.AddChannel(channel.Spec{Name: "notes", Address: channel.Email, Unit: "note",
			Prepare: func(m *message.Message) error {
				if m.Content == nil || m.Content.Email == nil || m.Content.Email.Subject == "" {
					return &message.Invalid{Field: "subject", Reason: "a note needs a subject"}
				}
				for i := range m.Recipients {
					m.Recipients[i].PartCount, m.Recipients[i].Length = 1, len([]rune(m.Body))
				}
				return nil
			}})
		s.app.channels.AddKind(channel.Kind{Name: "notes-relay", Channel: "notes",
			Check: func(settings []byte) error { return json.Unmarshal(settings, new(map[string]any)) },
			New: func(name string, _ []byte, rx channel.Receiver, _ *slog.Logger) (channel.Connector, error) {
				conn = &notes{name: name, rx: rx}
				return conn, nil
			}})
		ctx := context.Background()
		if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "relay", Kind: "notes-relay", Settings: []byte(`{}`),
			Enabled: true, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.store.AddRoute(ctx, &store.Route{Channel: "notes", Pattern: destination.Pattern{Domain: "example.com"},
			Connectors: []string{"relay"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.app.connectors.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		s.approveSenders(s.accountID) // the demo account sends as "omnigate"
		note := func(to ...string) *message.Message {
			m := &message.Message{AccountID: s.accountID, Channel: "notes", Type: "note", Originator: "omnigate", Body: "see you at 10",
				Content: &message.Content{Email: &message.Email{Subject: "Meeting"}}}
			for _, a := range to {
				m.Recipients = append(m.Recipients, message.Recipient{Address: a})
			}
			return m
		}
		// The channel's own preparation refuses what it cannot carry.
		bad := note("ann@example.com")
		bad.Content = nil
		var inv *message.Invalid
		if err := s.app.pipeline.Accept(ctx, bad, pipeline.Options{}); !errors.As(err, &inv) || inv.Field != "subject" {
			t.Fatalf("a note without a subject: %v", err)
		}
		// A suppressed recipient is refused alone; the others are routed by
		// domain, sent, and delivered by the connector's receipts.
		if err := s.app.store.AddSuppression(ctx, s.accountID, store.Suppression{Channel: "notes", Recipient: "gone@example.com", Reason: "manual", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		m := note("ann@example.com", "gone@example.com", "bob@mail.example.com")
		if err := s.app.pipeline.Accept(ctx, m, pipeline.Options{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "two notes delivered", 10*time.Second, func() bool {
			got, err := s.app.store.GetMessage(ctx, s.accountID, m.ID)
			return err == nil && got.CountRecipients().Delivered == 2
		})
		got, _ := s.app.store.GetMessage(ctx, s.accountID, m.ID)
		if got.Channel != "notes" || got.Content == nil || got.Content.Email.Subject != "Meeting" ||
			got.Recipients[1].Status != message.DeliveryFailed || got.Recipients[1].StatusErrorCode != 4103 ||
			got.Recipients[0].Connector != "relay" || got.Recipients[2].Connector != "relay" {
			t.Fatalf("message %+v", got)
		}
		conn.mu.Lock()
		sent := strings.Join(conn.got, "; ")
		conn.mu.Unlock()
		if sent != "ann@example.com: Meeting / see you at 10; bob@mail.example.com: Meeting / see you at 10" &&
			sent != "bob@mail.example.com: Meeting / see you at 10; ann@example.com: Meeting / see you at 10" {
			t.Fatalf("the connector got %q", sent)
		}
		// The metrics name the channel.
		r := s.do("GET", "/metrics", "", "", nil)
		if !strings.Contains(string(r.raw), `channel="notes"`) {
			t.Fatalf("no metrics for the notes channel")
		}
	})
}
