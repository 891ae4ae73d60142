package smppserver

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
)

// ReportSMPP is Details.Report of messages submitted over SMPP.
const ReportSMPP = "smpp"

// parsed is a submit's text and what it says about its place in a long
// message.
type parsed struct {
	text            string
	unicode         bool
	binary          bool   // text is the octets in hex (message.TypeBinary)
	udh             string // a binary message's header but concatenation, hex, UDHL included
	ref, total, seq int
	receipts        byte // registered_delivery's SMSC receipt bits
	scheduled       time.Time
	validity        int
	source, dest    string
	destinations    []string
}

// isBinary reports whether a data_coding is 8-bit data: 0x02 and 0x04
// (octets unspecified), or the 0xF0 group with its 8-bit bit (0xF4–0xF7).
func isBinary(dc byte) bool {
	return dc == smpp.DataCodingOctetUnspecified || dc == smpp.DataCodingBinary || dc&0xF4 == 0xF4
}

// otherIEs writes a header of the elements but concatenation (which the
// connector writes again when it splits), hex with its UDHL octet; "" when
// none is left.
func otherIEs(ies []smpp.IE) string {
	var b []byte
	for _, ie := range ies {
		if ie.ID == smpp.IEConcat8 || ie.ID == smpp.IEConcat16 {
			continue
		}
		b = append(b, ie.ID, byte(len(ie.Data)))
		b = append(b, ie.Data...)
	}
	if len(b) == 0 {
		return ""
	}
	return hex.EncodeToString(append([]byte{byte(len(b))}, b...))
}

// parse reads submit_sm's fields into text; a status when they are bad.
func parse(p *smpp.SubmitSM, now time.Time) (parsed, smpp.Status) {
	out := parsed{total: 1, seq: 1, source: p.SourceAddr, dest: p.DestAddr}
	content := p.ShortMessage
	if payload, ok := p.TLVs.MessagePayload(); ok {
		if len(content) > 0 {
			return out, smpp.ESME_RINVOPTPARAMVAL // both at once: the spec forbids it
		}
		content = payload
	}
	binary := isBinary(p.DataCoding)
	if p.ESMClass&smpp.ESMClassUDHI != 0 {
		concat, found, err := smpp.ParseConcat(content)
		ies, rest, serr := smpp.ParseUDH(content)
		if err != nil || serr != nil {
			return out, smpp.ESME_RINVESMCLASS
		}
		if found {
			out.ref, out.total, out.seq = int(concat.Ref), int(concat.Total), int(concat.Seq)
		}
		if binary {
			out.udh = otherIEs(ies)
		}
		content = rest
	} else if sar, ok := p.TLVs.SAR(); ok {
		out.ref, out.total, out.seq = int(sar.Ref), int(sar.Total), int(sar.Seq)
	}
	if out.total < 1 || out.seq < 1 || out.seq > out.total {
		return out, smpp.ESME_RINVMSGLEN
	}
	switch dc := p.DataCoding; {
	case binary:
		out.text, out.binary = hex.EncodeToString(content), true
	case dc == smpp.DataCodingUCS2 || dc&0xF0 == 0x00 && dc&0x0C == 0x08 && dc > 0x0F:
		s, err := smstext.DecodeUCS2(content)
		if err != nil {
			return out, smpp.ESME_RINVMSGLEN
		}
		out.text, out.unicode = s, true
	case dc == smpp.DataCodingDefault || dc&0xFC == 0xF0: // 0xF0–0xF3: GSM 03.38 with a message class
		out.text = smstext.DecodeGSM7(content)
	case dc == smpp.DataCodingIA5:
		out.text = strings.ToValidUTF8(string(content), "?")
	case dc == smpp.DataCodingLatin1:
		out.text = smstext.DecodeLatin1(content)
	default:
		// Other alphabets (JIS, Cyrillic, Hebrew …): not taken
		// (docs/smpp-server.md).
		return out, smpp.ESME_RINVPARLEN
	}
	out.receipts = p.RegisteredDelivery & smpp.RegisteredDeliveryReceiptMask
	if p.ScheduleDeliveryTime != "" {
		t, err := smpp.ParseTime(p.ScheduleDeliveryTime, now)
		if err != nil {
			return out, smpp.ESME_RINVSCHED
		}
		out.scheduled = t
	}
	if p.ValidityPeriod != "" {
		t, err := smpp.ParseTime(p.ValidityPeriod, now)
		if err != nil || !t.After(now) {
			return out, smpp.ESME_RINVEXPIRY
		}
		base := now
		if !out.scheduled.IsZero() {
			base = out.scheduled
		}
		out.validity = max(1, int(t.Sub(base).Seconds()))
	}
	return out, smpp.ESME_ROK
}

func (c *conn) submit(ctx context.Context, p *smpp.SubmitSM) smpp.PDU {
	if !c.rate.take() {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RTHROTTLED)
	}
	in, st := parse(p, time.Now().UTC())
	if st != smpp.ESME_ROK {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, st)
	}
	in.destinations = []string{p.DestAddr}
	if in.total > 1 {
		whole, part := c.srv.join(c.accountID, in)
		switch {
		case part == nil:
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RMSGQFUL)
		case whole == nil:
			select {
			case <-part.done:
			case <-ctx.Done():
				return nil
			}
			if part.status != smpp.ESME_ROK {
				return smpp.NewErrorResponse(p.CommandID(), p.Seq, part.status)
			}
			return &smpp.SubmitSMResp{Header: smpp.Header{Seq: p.Seq}, MessageID: part.id}
		}
		id, st := c.accept(ctx, *whole)
		part.finish(id, st)
		if st != smpp.ESME_ROK {
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, st)
		}
		return &smpp.SubmitSMResp{Header: smpp.Header{Seq: p.Seq}, MessageID: id}
	}
	id, st := c.accept(ctx, in)
	if st != smpp.ESME_ROK {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, st)
	}
	return &smpp.SubmitSMResp{Header: smpp.Header{Seq: p.Seq}, MessageID: id}
}

func (c *conn) submitMulti(ctx context.Context, p *smpp.SubmitMulti) smpp.PDU {
	if !c.rate.take() {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RTHROTTLED)
	}
	var dests []string
	for _, d := range p.Dests {
		if d.Flag != smpp.DestSME {
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RINVDLNAME)
		}
		dests = append(dests, d.Addr)
	}
	if len(dests) == 0 {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RINVNUMDESTS)
	}
	one := &smpp.SubmitSM{SourceTON: p.SourceTON, SourceNPI: p.SourceNPI, SourceAddr: p.SourceAddr, ESMClass: p.ESMClass,
		ScheduleDeliveryTime: p.ScheduleDeliveryTime, ValidityPeriod: p.ValidityPeriod, RegisteredDelivery: p.RegisteredDelivery,
		DataCoding: p.DataCoding, ShortMessage: p.ShortMessage, TLVs: p.TLVs}
	in, st := parse(one, time.Now().UTC())
	if st == smpp.ESME_ROK && in.total > 1 {
		st = smpp.ESME_RINVESMCLASS // long messages to many: message_payload
	}
	if st != smpp.ESME_ROK {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, st)
	}
	in.destinations = dests
	id, st := c.accept(ctx, in)
	if st != smpp.ESME_ROK {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, st)
	}
	return &smpp.SubmitMultiResp{Header: smpp.Header{Seq: p.Seq}, MessageID: id}
}

// accept turns a whole submit into a message and accepts it.
func (c *conn) accept(ctx context.Context, in parsed) (string, smpp.Status) {
	coding, typ := "plain", message.TypeSMS
	if in.unicode {
		coding = "unicode"
	}
	sms := &message.SMS{DataCoding: coding, MClass: 1}
	if in.binary {
		typ, sms.DataCoding = message.TypeBinary, ""
		if in.udh != "" {
			sms.TypeDetails = map[string]any{"udh": in.udh}
		}
	}
	m := &message.Message{
		AccountID:   c.accountID,
		Channel:     message.ChannelSMS,
		Direction:   message.MT,
		Type:        typ,
		Originator:  in.source,
		Body:        in.text,
		Details:     message.Details{SMS: sms, Report: ReportSMPP},
		Validity:    in.validity,
		ScheduledAt: in.scheduled,
	}
	switch in.receipts {
	case smpp.RegisteredDeliveryReceipt:
		m.ReportURL = ReceiptsAll
	case smpp.RegisteredDeliveryFailure:
		m.ReportURL = ReceiptsFailures
	}
	for _, d := range in.destinations {
		m.Recipients = append(m.Recipients, message.Recipient{Address: strings.TrimPrefix(d, "+")})
	}
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.srv.pipeline.Accept(actx, m, pipeline.Options{}); err != nil {
		return "", c.srv.refusal(err)
	}
	return m.ID, smpp.ESME_ROK
}

// query answers query_sm with the message's state (of its first
// recipient).
func (c *conn) query(ctx context.Context, p *smpp.QuerySM) smpp.PDU {
	m, err := c.srv.store.GetMessage(ctx, c.accountID, p.MessageID)
	if err != nil || len(m.Recipients) == 0 || m.Channel != message.ChannelSMS {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RSYSERR)
		}
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RQUERYFAIL)
	}
	r := m.Recipients[0]
	resp := &smpp.QuerySMResp{Header: smpp.Header{Seq: p.Seq}, MessageID: m.ID, MessageState: State(r.Status)}
	if resp.MessageState.Final() && !r.StatusAt.IsZero() {
		resp.FinalDate = smpp.FormatAbsoluteTime(r.StatusAt)
	}
	if r.StatusErrorCode > 0 && r.StatusErrorCode < 256 {
		resp.ErrorCode = byte(r.StatusErrorCode)
	}
	return resp
}

// State is the SMPP message_state a recipient status stands for.
func State(s message.Status) smpp.MessageState {
	switch s {
	case message.Scheduled, message.Sent, message.Buffered:
		return smpp.StateEnroute
	case message.Delivered:
		return smpp.StateDelivered
	case message.Expired:
		return smpp.StateExpired
	case message.DeliveryFailed:
		return smpp.StateUndeliverable
	}
	return smpp.StateUnknown
}

// cancel answers cancel_sm: a scheduled message, by id, is deleted.
func (c *conn) cancel(ctx context.Context, p *smpp.CancelSM) smpp.PDU {
	if p.MessageID == "" {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RCANCELFAIL)
	}
	m, err := c.srv.store.GetMessage(ctx, c.accountID, p.MessageID)
	if err != nil || m.Channel != message.ChannelSMS {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RCANCELFAIL)
	}
	if err := c.srv.store.CancelScheduled(ctx, c.accountID, p.MessageID); err != nil {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RCANCELFAIL)
	}
	return &smpp.CancelSMResp{Header: smpp.Header{Seq: p.Seq}}
}
