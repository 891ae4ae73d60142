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
		return c.submitPart(ctx, p, in)
	}
	id, st := c.srv.accept(ctx, c.accountID, in, "")
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
	id, st := c.srv.accept(ctx, c.accountID, in, "")
	if st != smpp.ESME_ROK {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, st)
	}
	return &smpp.SubmitMultiResp{Header: smpp.Header{Seq: p.Seq}, MessageID: id}
}

// accept turns a whole submit into a message and accepts it, under id
// when given (a long message's, answered to its parts).
func (s *Server) accept(ctx context.Context, account string, in parsed, id string) (string, smpp.Status) {
	got, st, _ := s.acceptErr(ctx, account, in, id)
	return got, st
}

// acceptErr is accept with the pipeline's error of a refusal.
func (s *Server) acceptErr(ctx context.Context, account string, in parsed, id string) (string, smpp.Status, error) {
	m := newMessage(account, in)
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := s.pipeline.Accept(actx, m, pipeline.Options{ID: id}); err != nil {
		st := s.refusal(err)
		if id != "" && st == smpp.ESME_RSYSERR && s.stored(ctx, account, id) {
			return id, smpp.ESME_ROK, nil // accepted before (see complete)
		}
		return "", st, err
	}
	return m.ID, smpp.ESME_ROK, nil
}

// query answers query_sm with the message's state (of its first
// recipient); a long message waiting for parts is ENROUTE.
func (c *conn) query(ctx context.Context, p *smpp.QuerySM) smpp.PDU {
	m, err := c.srv.store.GetMessage(ctx, c.accountID, p.MessageID)
	if errors.Is(err, store.ErrNotFound) && p.MessageID != "" {
		if waiting, werr := c.srv.store.SMPPPartsWaiting(ctx, c.accountID, p.MessageID); werr == nil && waiting {
			return &smpp.QuerySMResp{Header: smpp.Header{Seq: p.Seq}, MessageID: p.MessageID, MessageState: smpp.StateEnroute}
		}
	}
	if err != nil || len(m.Recipients) == 0 || m.Channel != message.ChannelSMS {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RSYSERR)
		}
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RQUERYFAIL)
	}
	r := m.Recipients[0]
	resp := &smpp.QuerySMResp{Header: smpp.Header{Seq: p.Seq}, MessageID: m.ID, MessageState: recipientState(m, &r)}
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

// refusedAtAccept reports whether a recipient failed when its message was
// accepted (compliance, or a long message refused when it was whole or
// never whole): its status time is the message's creation and no
// connector took it.
func refusedAtAccept(m *message.Message, s message.Status, at time.Time) bool {
	return s == message.DeliveryFailed && !at.IsZero() && at.Truncate(time.Microsecond).Equal(m.CreatedAt.Truncate(time.Microsecond))
}

// recipientState is State, REJECTED for a recipient refused at accept.
func recipientState(m *message.Message, r *message.Recipient) smpp.MessageState {
	if r.Connector == "" && refusedAtAccept(m, r.Status, r.StatusAt) {
		return smpp.StateRejected
	}
	return State(r.Status)
}

// cancel answers cancel_sm: a scheduled message, by id, is deleted; so is
// a long message still waiting for parts (its parts are dropped; parts of
// it sent later start a new message).
func (c *conn) cancel(ctx context.Context, p *smpp.CancelSM) smpp.PDU {
	if p.MessageID == "" {
		return smpp.NewErrorResponse(p.CommandID(), p.Seq, smpp.ESME_RCANCELFAIL)
	}
	if n, err := c.srv.store.DeleteSMPPPartsByID(ctx, c.accountID, p.MessageID); err == nil && n > 0 {
		return &smpp.CancelSMResp{Header: smpp.Header{Seq: p.Seq}}
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
