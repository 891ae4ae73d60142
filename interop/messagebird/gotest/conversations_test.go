// Package gotest runs the official Go SDK's conversation package
// (github.com/messagebird/go-rest-api/v9, unmodified) against omnigate's
// Conversations API: the request shapes it sends and the response shapes it
// parses. interop/messagebird/run.sh starts the server and sets
// OMNIGATE_URL, OMNIGATE_CA, OMNIGATE_KEY and OMNIGATE_CHANNEL; without
// them the test is skipped.
//
// The SDK calls https://conversations.messagebird.com/v1/… (and
// rest.messagebird.com, numbers.messagebird.com/v1 in rest_test.go); the
// client's HTTPClient (a field the SDK exposes) dials omnigate for those
// names, as a hosts-file entry would, and checks the certificate against
// the name. Any other host is refused.
package gotest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	messagebird "github.com/messagebird/go-rest-api/v9"
	"github.com/messagebird/go-rest-api/v9/conversation"
)

// sdkHosts are the names the SDK's packages call: the REST API (sms,
// balance, lookup, hlr, verify), Conversations and Numbers.
var sdkHosts = map[string]bool{"rest.messagebird.com:443": true, "conversations.messagebird.com:443": true, "numbers.messagebird.com:443": true}

func env(t *testing.T, name string) string {
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set; run interop/messagebird/run.sh", name)
	}
	return v
}

func newClient(t *testing.T) *messagebird.DefaultClient {
	base, err := url.Parse(env(t, "OMNIGATE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(env(t, "OMNIGATE_CA"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("OMNIGATE_CA has no certificate")
	}
	c := messagebird.New(env(t, "OMNIGATE_KEY"))
	var d net.Dialer
	c.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !sdkHosts[addr] {
				return nil, errors.New("interop harness: refusing to dial " + addr + "; only the SDK's MessageBird hosts go to omnigate")
			}
			return d.DialContext(ctx, network, base.Host)
		},
	}}
	return c
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestConversationsGoSDK(t *testing.T) {
	c := newClient(t)
	channel := env(t, "OMNIGATE_CHANNEL")
	const to = "+31612345690"

	sent, err := conversation.SendMessage(c, &conversation.SendMessageRequest{To: to, From: channel, Type: conversation.MessageTypeText,
		Content: &conversation.MessageContent{Text: "Your order shipped"}, Source: map[string]interface{}{"crm": "go"}})
	if err != nil || !hex32.MatchString(sent.ID) || sent.Status != conversation.MessageStatusAccepted {
		t.Fatalf("SendMessage = %+v, %v", sent, err)
	}

	conv, err := conversation.Start(c, &conversation.StartRequest{ChannelID: channel, To: to, Type: conversation.MessageTypeText,
		Content: &conversation.MessageContent{Text: "Track it"}, Source: map[string]interface{}{"crm": "go"}, TrackId: "t1"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !hex32.MatchString(conv.ID) || conv.Status != conversation.ConversationStatusActive || conv.Contact == nil ||
		conv.Contact.MSISDN != "31612345690" || conv.ContactID != conv.Contact.ID || len(conv.Channels) != 1 || conv.Channels[0].ID != channel ||
		conv.LastUsedChannelID != channel || conv.Messages == nil || conv.Messages.TotalCount != 2 || conv.CreatedDatetime.IsZero() {
		t.Fatalf("Start = %+v (contact %+v, messages %+v)", conv, conv.Contact, conv.Messages)
	}

	active := conversation.ConversationStatusActive
	list, err := conversation.List(c, &conversation.ListRequest{PaginationRequest: messagebird.PaginationRequest{Limit: 10}, Ids: conv.ID, Status: &active})
	if err != nil || list.TotalCount != 1 || list.Count != 1 || list.Items[0].ID != conv.ID {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if got, err := conversation.Read(c, conv.ID); err != nil || got.ID != conv.ID {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	byContact, err := conversation.ListByContact(c, conv.ContactID, &messagebird.PaginationRequest{Limit: 10})
	if err != nil || byContact.TotalCount != 1 || len(byContact.Items) != 1 || byContact.Items[0] == nil || *byContact.Items[0] != conv.ID {
		t.Fatalf("ListByContact = %+v, %v", byContact, err)
	}

	reply, err := conversation.Reply(c, conv.ID, &conversation.ReplyRequest{Type: conversation.MessageTypeText,
		Content: &conversation.MessageContent{Text: "Anything else?"}})
	if err != nil || reply.ConversationID != conv.ID || reply.ChannelID != channel || reply.Direction != conversation.MessageDirectionSent ||
		reply.Content == nil || reply.Content.Text != "Anything else?" || reply.Platform != "sms" || string(reply.To) != "31612345690" {
		t.Fatalf("Reply = %+v, %v", reply, err)
	}
	msgs, err := conversation.ListConversationMessages(c, conv.ID, &conversation.ListConversationMessagesRequest{PaginationRequest: messagebird.PaginationRequest{Limit: 10}})
	if err != nil || msgs.TotalCount != 3 || msgs.Items[0].ID != reply.ID || msgs.Items[2].Source["crm"] != "go" {
		t.Fatalf("ListConversationMessages = %+v, %v", msgs, err)
	}
	from := time.Now().Add(-time.Hour)
	if all, err := conversation.ListMessages(c, &conversation.ListMessagesRequest{From: &from}); err != nil || all.TotalCount < 3 {
		t.Fatalf("ListMessages = %+v, %v", all, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, err := conversation.ReadMessage(c, reply.ID)
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		if m.Status == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply is %s after 15 s", m.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	archived, err := conversation.Update(c, conv.ID, &conversation.UpdateRequest{Status: conversation.ConversationStatusArchived})
	if err != nil || archived.Status != conversation.ConversationStatusArchived || archived.UpdatedDatetime == nil {
		t.Fatalf("Update = %+v, %v", archived, err)
	}

	_, err = conversation.Start(c, &conversation.StartRequest{ChannelID: "ffffffffffffffffffffffffffffffff", To: to, Type: conversation.MessageTypeText,
		Content: &conversation.MessageContent{Text: "x"}})
	var apiErr messagebird.ErrorResponse
	if !errors.As(err, &apiErr) || len(apiErr.Errors) != 1 || apiErr.Errors[0].Code != 10 || apiErr.Errors[0].Parameter != "channelId" {
		t.Fatalf("Start with an unknown channel: %v", err)
	}
}

func TestWebhooksGoSDK(t *testing.T) {
	c := newClient(t)
	channel := env(t, "OMNIGATE_CHANNEL")
	wh, err := conversation.CreateWebhook(c, &conversation.WebhookCreateRequest{ChannelID: channel, URL: "https://hooks.example/conv",
		Events: []conversation.WebhookEvent{conversation.WebhookEventConversationCreated, conversation.WebhookEventMessageUpdated}})
	if err != nil || !hex32.MatchString(wh.ID) || wh.Status != conversation.WebhookStatusEnabled || wh.ChannelID != channel || len(wh.Events) != 2 ||
		wh.CreatedDatetime == nil || wh.UpdatedDatetime != nil {
		t.Fatalf("CreateWebhook = %+v, %v", wh, err)
	}
	if got, err := conversation.ReadWebhook(c, wh.ID); err != nil || got.URL != "https://hooks.example/conv" {
		t.Fatalf("ReadWebhook = %+v, %v", got, err)
	}
	list, err := conversation.ListWebhooks(c, &messagebird.PaginationRequest{Limit: 10})
	if err != nil || list.TotalCount < 1 {
		t.Fatalf("ListWebhooks = %+v, %v", list, err)
	}
	upd, err := conversation.UpdateWebhook(c, wh.ID, &conversation.WebhookUpdateRequest{Status: conversation.WebhookStatusDisabled,
		Events: []conversation.WebhookEvent{conversation.WebhookEventMessageCreated}})
	if err != nil || upd.Status != conversation.WebhookStatusDisabled || len(upd.Events) != 1 || upd.UpdatedDatetime == nil {
		t.Fatalf("UpdateWebhook = %+v, %v", upd, err)
	}
	// Settings as the SDK sends them (every field, zero values included);
	// the password is masked when read back.
	set := &conversation.WebhookSettings{ExpectedHttpCode: "2xx", Headers: map[string]interface{}{"X-Token": "abc"}, Username: "hooks",
		Password: "s3cret", QueryParams: "k=v", Retry: 3, Timeout: 5}
	if upd, err = conversation.UpdateWebhook(c, wh.ID, &conversation.WebhookUpdateRequest{Settings: set}); err != nil || upd.Settings == nil ||
		upd.Settings.Username != "hooks" || upd.Settings.Password != "********" || upd.Settings.Retry != 3 || upd.Settings.Headers["X-Token"] != "abc" {
		t.Fatalf("UpdateWebhook with settings = %+v, %v", upd, err)
	}
	if _, err = conversation.UpdateWebhook(c, wh.ID, &conversation.WebhookUpdateRequest{Settings: &conversation.WebhookSettings{Retry: 99}}); err == nil ||
		!strings.Contains(err.Error(), "retry") {
		t.Fatalf("UpdateWebhook with retry 99: %v", err)
	}
	if err := conversation.DeleteWebhook(c, wh.ID); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	_, err = conversation.ReadWebhook(c, wh.ID)
	var apiErr messagebird.ErrorResponse
	if !errors.As(err, &apiErr) || apiErr.Errors[0].Code != 20 {
		t.Fatalf("ReadWebhook after delete: %v", err)
	}
	_, err = conversation.CreateWebhook(c, &conversation.WebhookCreateRequest{URL: "https://hooks.example/conv", Events: []conversation.WebhookEvent{"message.deleted"}})
	if !errors.As(err, &apiErr) || apiErr.Errors[0].Parameter != "events[0]" {
		t.Fatalf("CreateWebhook with an unknown event: %v", err)
	}
}
