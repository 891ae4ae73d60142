// Package sms is the SMS channel: recipients are phone numbers, a message
// is text in GSM 03.38 or UCS-2 (or binary octets) cut into segments, and
// it is priced per segment. Its connectors are SMPP binds to carriers
// (internal/channel/smpp).
package sms

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smstext"
)

// Config tunes the channel. Zero values mean the documented defaults.
type Config struct {
	// MaxParts bounds the segments of one outbound SMS; default 16.
	MaxParts int
}

// Spec is the SMS channel for the registry.
func Spec(cfg Config) channel.Spec {
	if cfg.MaxParts <= 0 {
		cfg.MaxParts = 16
	}
	return channel.Spec{Name: message.ChannelSMS, Address: channel.Phone, Unit: "segment",
		Prepare: func(m *message.Message) error { return prepare(m, cfg.MaxParts) }}
}

// prepare resolves the data coding and counts each recipient's segments
// and characters.
func prepare(m *message.Message, maxParts int) error {
	if m.Content != nil {
		return &message.Invalid{Field: "content", Reason: "an SMS carries text (or binary octets) only"}
	}
	if m.SMS == nil {
		m.SMS = &message.SMS{MClass: 1}
	}
	if m.Type == "" {
		m.Type = message.TypeSMS
	}
	if m.Direction == message.MO {
		maxParts = 0 // what a handset sent is taken as it is
	}
	var parts, length int
	var err error
	if m.Type == message.TypeBinary {
		parts, length, err = binarySegments(m, maxParts)
	} else {
		parts, length, err = textSegments(m, maxParts)
	}
	if err != nil {
		return err
	}
	for i := range m.Recipients {
		m.Recipients[i].PartCount, m.Recipients[i].Length = parts, length
	}
	return nil
}

func textSegments(m *message.Message, maxParts int) (int, int, error) {
	mode, err := smstext.ParseMode(m.SMS.DataCoding)
	if err != nil {
		return 0, 0, &message.Invalid{Field: "datacoding", Reason: err.Error()}
	}
	if mode == smstext.ModePlain {
		// "plain" is a preference, not a reason to damage the text: a body
		// with characters outside GSM 03.38 goes as unicode, and the
		// message's datacoding says so.
		mode = smstext.ModeAuto
	}
	info := smstext.Analyze(m.Body, mode)
	m.SMS.DataCoding = info.Coding.String()
	if maxParts > 0 && info.Parts > maxParts {
		return 0, 0, tooLong(info.Parts, maxParts)
	}
	return info.Parts, info.Chars, nil
}

// binarySegments counts parts of a binary message: body and the optional
// typeDetails.udh are hex; one SMS carries 140 octets including the UDH.
func binarySegments(m *message.Message, maxParts int) (int, int, error) {
	body, err := hex.DecodeString(strings.TrimSpace(m.Body))
	if err != nil {
		return 0, 0, &message.Invalid{Field: "body", Reason: "a binary body must be hexadecimal"}
	}
	udhLen := 0
	if v, ok := m.SMS.TypeDetails["udh"]; ok {
		s, _ := v.(string)
		udh, err := hex.DecodeString(s)
		if err != nil {
			return 0, 0, &message.Invalid{Field: "typeDetails", Reason: "udh must be hexadecimal"}
		}
		udhLen = len(udh)
	}
	m.SMS.DataCoding = smstext.GSM7.String()
	if udhLen+len(body) <= 140 {
		return 1, len(body), nil
	}
	per := 140 - udhLen - 6 // room left beside a concatenation header
	if per <= 0 {
		return 0, 0, &message.Invalid{Field: "typeDetails", Reason: "udh leaves no room for a body"}
	}
	parts := (len(body) + per - 1) / per
	if maxParts > 0 && parts > maxParts {
		return 0, 0, tooLong(parts, maxParts)
	}
	return parts, len(body), nil
}

func tooLong(parts, maxParts int) error {
	return &message.Invalid{Field: "body", Reason: fmt.Sprintf("body needs %d SMS parts; at most %d are allowed", parts, maxParts)}
}
