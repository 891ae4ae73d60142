package smpp

import (
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smstext"
)

// Flash (class 0) message data codings: GSM default alphabet and UCS-2.
const (
	dataCodingFlashGSM  = 0x10
	dataCodingFlashUCS2 = 0x18
)

// encoder turns a submission into submit_sm PDUs, one per part.
type encoder struct {
	s   Settings
	ref atomic.Uint32 // concatenation reference numbers
}

// parts builds the submit_sm PDUs for one recipient.
func (e *encoder) parts(sub channel.Submission) ([]*codec.SubmitSM, error) {
	m, r := sub.Message, sub.Recipient
	base := codec.SubmitSM{
		SourceAddr:         m.Originator,
		DestAddr:           r.Address,
		RegisteredDelivery: codec.RegisteredDeliveryReceipt,
	}
	base.SourceTON, base.SourceNPI = sourceTONNPI(m.Originator)
	if e.s.SourceTON != nil {
		base.SourceTON = *e.s.SourceTON
	}
	if e.s.SourceNPI != nil {
		base.SourceNPI = *e.s.SourceNPI
	}
	base.DestTON, base.DestNPI = codec.TONInternational, codec.NPIISDN
	if e.s.DestTON != nil {
		base.DestTON = *e.s.DestTON
	}
	if e.s.DestNPI != nil {
		base.DestNPI = *e.s.DestNPI
	}
	if exp := m.ExpiresAt(); !exp.IsZero() {
		base.ValidityPeriod = codec.FormatAbsoluteTime(exp)
	}
	sms := m.SMS
	if sms == nil {
		sms = &message.SMS{MClass: 1}
	}
	if m.Type == message.TypeBinary {
		return e.binary(base, m, sms)
	}
	coding := smstext.GSM7
	if sms.DataCoding == smstext.UCS2.String() {
		coding = smstext.UCS2
	}
	switch {
	case coding == smstext.UCS2 && sms.MClass == 0:
		base.DataCoding = dataCodingFlashUCS2
	case coding == smstext.UCS2:
		base.DataCoding = codec.DataCodingUCS2
	case sms.MClass == 0:
		base.DataCoding = dataCodingFlashGSM
	default:
		base.DataCoding = e.s.GSMDataCoding
	}
	if e.s.LongMessages == LongPayload {
		p := base
		p.TLVs = nil
		p.TLVs.SetMessagePayload(e.text(m.Body, coding, 0))
		return []*codec.SubmitSM{&p}, nil
	}
	kind := smstext.UDH8
	switch e.s.LongMessages {
	case LongUDH16:
		kind = smstext.UDH16
	case LongSAR:
		kind = smstext.SAR
	}
	segs := smstext.Segments(m.Body, coding, kind)
	if len(segs) > 255 {
		return nil, &channel.PermanentError{Code: int(codec.ESME_RINVMSGLEN), Reason: "message has more than 255 parts"}
	}
	out := make([]*codec.SubmitSM, len(segs))
	ref := uint16(e.ref.Add(1))
	if kind == smstext.UDH8 {
		ref &= 0xFF
	}
	for i, seg := range segs {
		p := base
		p.TLVs = nil
		if len(segs) == 1 {
			p.ShortMessage = e.text(seg, coding, 0)
			out[i] = &p
			continue
		}
		c := codec.Concat{Ref: ref, Total: uint8(len(segs)), Seq: uint8(i + 1), Ref16: kind == smstext.UDH16}
		if kind == smstext.SAR {
			p.TLVs.SetSAR(codec.SAR{Ref: ref, Total: c.Total, Seq: c.Seq})
			p.ShortMessage = e.text(seg, coding, 0)
		} else {
			udh, err := codec.AppendConcatUDH(nil, c)
			if err != nil {
				return nil, fmt.Errorf("building UDH: %w", err)
			}
			p.ESMClass |= codec.ESMClassUDHI
			p.ShortMessage = append(udh, e.text(seg, coding, len(udh))...)
		}
		out[i] = &p
	}
	return out, nil
}

// text encodes a segment; udhLen matters for septet alignment when packed.
func (e *encoder) text(s string, c smstext.Coding, udhLen int) []byte {
	if c == smstext.UCS2 {
		return smstext.EncodeUCS2(s)
	}
	septets := smstext.EncodeGSM7(s)
	if !e.s.GSMPacked {
		return septets
	}
	return smstext.PackSeptetsWithFill(septets, smstext.SeptetFillBits(udhLen))
}

// binary builds a binary message: hex body, optional UDH from typeDetails.
func (e *encoder) binary(base codec.SubmitSM, m *message.Message, sms *message.SMS) ([]*codec.SubmitSM, error) {
	body, err := hex.DecodeString(strings.TrimSpace(m.Body))
	if err != nil {
		return nil, &channel.PermanentError{Code: int(codec.ESME_RINVMSGLEN), Reason: "binary body is not hexadecimal"}
	}
	base.DataCoding = codec.DataCodingBinary
	var udh []byte
	if s, ok := sms.TypeDetails["udh"].(string); ok && s != "" {
		if udh, err = hex.DecodeString(s); err != nil {
			return nil, &channel.PermanentError{Code: int(codec.ESME_RINVMSGLEN), Reason: "udh is not hexadecimal"}
		}
		base.ESMClass |= codec.ESMClassUDHI
	}
	if len(udh)+len(body) > 140 {
		p := base
		p.TLVs.SetMessagePayload(append(udh, body...))
		return []*codec.SubmitSM{&p}, nil
	}
	base.ShortMessage = append(udh, body...)
	return []*codec.SubmitSM{&base}, nil
}

// sourceTONNPI picks TON/NPI for a sender: alphanumeric, short code or
// international number.
func sourceTONNPI(originator string) (byte, byte) {
	digits := strings.TrimPrefix(originator, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return codec.TONAlphanumeric, codec.NPIUnknown
	}
	if len(digits) <= 8 {
		return codec.TONNetworkSpecific, codec.NPIUnknown
	}
	return codec.TONInternational, codec.NPIISDN
}
