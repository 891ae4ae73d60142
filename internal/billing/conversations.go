package billing

import (
	"slices"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
)

// WhatsApp is priced per conversation, not per message: the first message
// of a category to a recipient from a business number opens a 24-hour
// conversation and is charged the conversation's price (by category and
// the recipient's country); further messages of that category in the
// 24 hours are free. The store opens conversations in the transaction that
// charges, so two concurrent messages open one (store.ConversationCharge).

// typeTemplate is a WhatsApp template's message type.
const typeTemplate message.Type = "hsm"

// UnitConversation is the unit of channels priced per conversation.
const UnitConversation = "conversation"

// Conversation categories: the unit column of a WhatsApp price.
const (
	CategoryMarketing      = "marketing"
	CategoryUtility        = "utility"
	CategoryAuthentication = "authentication"
	CategoryService        = "service"
)

// Categories are the conversation categories, as price rows name them.
var Categories = []string{CategoryMarketing, CategoryUtility, CategoryAuthentication, CategoryService}

// ConversationWindow is how long a billed conversation lasts from the
// message that opened it.
const ConversationWindow = 24 * time.Hour

// PerConversation reports whether a channel is priced per conversation.
func PerConversation(channel string) bool { return channel == message.ChannelWhatsApp }

// Category is the conversation category of a message: a template's own
// category (MARKETING, UTILITY, AUTHENTICATION, any case) when it has one,
// else marketing for a marketing template and utility for any other; a
// free-form message, which goes only inside the window the recipient
// opened by writing (compliance's whatsapp.session_window), is service.
func Category(m *message.Message) string {
	if m.Type != typeTemplate && (m.Content == nil || m.Content.Template == nil) {
		return CategoryService
	}
	if m.Content != nil && m.Content.Template != nil {
		if c := strings.ToLower(strings.TrimSpace(m.Content.Template.Category)); slices.Contains(Categories, c) && c != CategoryService {
			return c
		}
	}
	if m.Purpose == "marketing" {
		return CategoryMarketing
	}
	return CategoryUtility
}
