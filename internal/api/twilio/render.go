package twilio

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
)

// messageJSON is Twilio's Message resource.
type messageJSON struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         *string           `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         *string           `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                string            `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           *string           `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

// SID is the Twilio SID of a message: "SM" and its omnigate id.
func SID(id string) string { return "SM" + id }

// messageID is the omnigate id of a message SID; "" if it is not one.
func messageID(sid string) string {
	sid = strings.TrimSuffix(sid, ".json")
	if len(sid) != 34 || !strings.HasPrefix(sid, "SM") {
		return ""
	}
	id := sid[2:]
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return ""
		}
	}
	return id
}

// page2010 is the paging of the 2010-04-01 API's lists, beside the list's
// own key (messages, incoming_phone_numbers, accounts).
type page2010 struct {
	End             int     `json:"end"`
	FirstPageURI    string  `json:"first_page_uri"`
	NextPageURI     *string `json:"next_page_uri"`
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	PreviousPageURI *string `json:"previous_page_uri"`
	Start           int     `json:"start"`
	URI             string  `json:"uri"`
}

// rfc2822 is Twilio's date format.
func rfc2822(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC1123Z)
	return &s
}

// Status is a recipient's status as Twilio names it.
func Status(r *message.Recipient) string {
	switch r.Status {
	case message.Scheduled:
		return "scheduled"
	case message.Sent:
		if r.Connector == "" {
			return "queued"
		}
		return "sent"
	case message.Buffered:
		return "sent"
	case message.Delivered:
		return "delivered"
	case message.Expired:
		return "undelivered"
	case message.DeliveryFailed:
		if r.Connector == "" {
			return "failed" // never left the platform (compliance, no route)
		}
		return "undelivered"
	}
	return string(r.Status)
}

// errorCode is the Twilio error code of a recipient's failure; 0 if none.
func errorCode(r *message.Recipient) int {
	switch r.Status {
	case message.Expired:
		return CodeExpired
	case message.DeliveryFailed:
		switch {
		case r.StatusErrorCode >= 4100 && r.StatusErrorCode < 4200:
			if c, ok := recipientCodes[r.StatusErrorCode]; ok {
				return c
			}
			return CodeFiltered
		case r.Connector != "":
			return CodeUnreachable
		}
		return CodeUnknownDelivery
	}
	return 0
}

// money renders micro-units as Twilio does: negative, a charge.
func money(micros int64) string {
	return fmt.Sprintf("-%d.%06d", micros/1e6, micros%1e6)
}

func phoneText(s string) string {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		return "+" + s
	}
	return s
}

// render is the Message resource of m (one recipient) for the account SID.
func render(m *message.Message, accountSID string) messageJSON {
	uri := "/" + APIVersion + "/Accounts/" + accountSID + "/Messages/" + SID(m.ID)
	out := messageJSON{
		AccountSID: accountSID, APIVersion: APIVersion, Body: m.Body,
		DateCreated: rfc2822(m.CreatedAt), DateUpdated: rfc2822(m.CreatedAt),
		Direction: "outbound-api", From: m.Originator, NumMedia: "0", NumSegments: "1",
		SID: SID(m.ID), Status: "queued", URI: uri + ".json",
		SubresourceURIs: map[string]string{"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
	}
	if m.Direction == message.MO {
		out.Direction = "inbound"
		out.From = phoneText(m.Originator)
	}
	if m.Details.ServiceSID != "" {
		svc := m.Details.ServiceSID
		out.MessagingServiceSID = &svc
	}
	if len(m.Recipients) == 0 {
		return out
	}
	r := &m.Recipients[0]
	out.To = phoneText(r.Address)
	out.Status = Status(r)
	if r.PartCount > 0 {
		out.NumSegments = strconv.Itoa(r.PartCount)
	}
	if r.StatusAt.After(m.CreatedAt) {
		out.DateUpdated = rfc2822(r.StatusAt)
	}
	if out.Status != "queued" && out.Status != "scheduled" && out.Status != "failed" {
		out.DateSent = rfc2822(r.StatusAt)
	}
	if r.PriceCurrency != "" {
		unit := r.PriceCurrency
		out.PriceUnit = &unit
		if out.Status != "queued" && out.Status != "scheduled" {
			p := money(r.Price)
			out.Price = &p
		}
	}
	if code := errorCode(r); code != 0 {
		msg := r.StatusReason
		if msg == "" {
			msg = r.Status.DefaultReason()
		}
		out.ErrorCode, out.ErrorMessage = &code, &msg
	}
	return out
}
