package messagebird

import (
	"encoding/json"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/phone"
)

// messageJSON is the message object exactly as MessageBird returns it.
type messageJSON struct {
	ID                string         `json:"id"`
	Href              string         `json:"href"`
	Direction         string         `json:"direction"`
	Type              string         `json:"type"`
	Originator        string         `json:"originator"`
	Body              string         `json:"body"`
	Reference         *string        `json:"reference"`
	ReportURL         *string        `json:"reportUrl"`
	Validity          *int           `json:"validity"`
	Gateway           *int           `json:"gateway"`
	TypeDetails       map[string]any `json:"typeDetails"`
	DataCoding        string         `json:"datacoding"`
	MClass            int            `json:"mclass"`
	ScheduledDatetime *string        `json:"scheduledDatetime"`
	CreatedDatetime   string         `json:"createdDatetime"`
	Recipients        recipientsJSON `json:"recipients"`
	// omnigate's own: the purpose and restricted categories the message was
	// judged with, and the compliance decision.
	Purpose    string   `json:"purpose,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Compliance string   `json:"compliance,omitempty"`
}

type recipientsJSON struct {
	TotalCount               int             `json:"totalCount"`
	TotalSentCount           int             `json:"totalSentCount"`
	TotalDeliveredCount      int             `json:"totalDeliveredCount"`
	TotalDeliveryFailedCount int             `json:"totalDeliveryFailedCount"`
	Items                    []recipientJSON `json:"items"`
}

type recipientJSON struct {
	Recipient              any       `json:"recipient"` // a number; a string when it is not one (erased, shredded, an email address)
	Status                 string    `json:"status"`
	StatusDatetime         *string   `json:"statusDatetime"`
	RecipientCountry       string    `json:"recipientCountry"`
	RecipientCountryPrefix int       `json:"recipientCountryPrefix"`
	RecipientOperator      *string   `json:"recipientOperator"`
	MessageLength          int       `json:"messageLength"`
	StatusErrorCode        *int      `json:"statusErrorCode"`
	StatusReason           string    `json:"statusReason"`
	Price                  priceJSON `json:"price"`
	MCCMNC                 *string   `json:"mccmnc"`
	MCC                    *string   `json:"mcc"`
	MNC                    *string   `json:"mnc"`
	MessagePartCount       int       `json:"messagePartCount"`
}

type priceJSON struct {
	Amount   json.Number `json:"amount"`
	Currency string      `json:"currency"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optInt(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

// renderMessage builds the wire object; base is the scheme and host that
// hrefs start with.
func renderMessage(m *message.Message, base string) messageJSON {
	counts := m.CountRecipients()
	sms := m.SMS
	if sms == nil {
		sms = &message.SMS{}
	}
	out := messageJSON{
		ID:                m.ID,
		Href:              base + "/messages/" + m.ID,
		Direction:         string(m.Direction),
		Type:              string(m.Type),
		Originator:        m.Originator,
		Body:              m.Body,
		Reference:         optString(m.Reference),
		ReportURL:         optString(m.ReportURL),
		Validity:          optInt(m.Validity),
		Gateway:           optInt(sms.Gateway),
		TypeDetails:       sms.TypeDetails,
		DataCoding:        sms.DataCoding,
		MClass:            sms.MClass,
		ScheduledDatetime: rest.TimeText(m.ScheduledAt),
		CreatedDatetime:   m.CreatedAt.UTC().Format(message.TimeLayout),
		Purpose:           m.Purpose,
		Categories:        m.Categories,
		Compliance:        m.Compliance,
		Recipients: recipientsJSON{
			TotalCount:               counts.Total,
			TotalSentCount:           counts.Sent,
			TotalDeliveredCount:      counts.Delivered,
			TotalDeliveryFailedCount: counts.DeliveryFailed,
			Items:                    make([]recipientJSON, len(m.Recipients)),
		},
	}
	if out.TypeDetails == nil {
		out.TypeDetails = map[string]any{}
	}
	for i, r := range m.Recipients {
		reason := r.StatusReason
		if reason == "" {
			reason = r.Status.DefaultReason()
		}
		currency := r.PriceCurrency
		if currency == "" {
			currency = "EUR"
		}
		out.Recipients.Items[i] = recipientJSON{
			Recipient:              recipientValue(r.Address),
			Status:                 string(r.Status),
			StatusDatetime:         rest.TimeText(r.StatusAt),
			RecipientCountry:       phone.CountryName(r.Country),
			RecipientCountryPrefix: r.CountryPrefix,
			MessageLength:          r.Length,
			StatusErrorCode:        optInt(r.StatusErrorCode),
			StatusReason:           reason,
			Price:                  priceJSON{Amount: json.Number(message.FormatMicros(r.Price)), Currency: currency},
			MessagePartCount:       r.PartCount,
		}
	}
	return out
}

// listJSON is MessageBird's pagination envelope.
type listJSON struct {
	Offset     int                `json:"offset"`
	Limit      int                `json:"limit"`
	Count      int                `json:"count"`
	TotalCount int                `json:"totalCount"`
	Links      map[string]*string `json:"links"`
	Items      []messageJSON      `json:"items"`
}

// recipientValue is a recipient as MessageBird writes it, a JSON number;
// an address that is not one (an email address, or "erased" / "[erased]"
// after an erasure or the account's shredding) is written as a string
// rather than failing the whole answer.
func recipientValue(addr string) any {
	if addr != "" && strings.Trim(addr, "0123456789") == "" && addr[0] != '0' {
		return json.Number(addr)
	}
	return addr
}
