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

// replace answers replace_sm (SMPP 3.4 §4.10): a message of the account,
// submitted over SMPP and not sent yet (scheduled), gets a new text and,
// when given, a new schedule and validity period and the new
// registered_delivery. It goes through the pipeline again (the channel's
// preparation, compliance, pricing), and the store charges or refunds the
// difference (pipeline.Replace). replace_sm has no data_coding: the new
// short_message is read in the message's own coding — UCS-2 for a unicode
// message, octets for a binary one, GSM 03.38 otherwise.
func (c *conn) replace(ctx context.Context, p *smpp.ReplaceSM) smpp.PDU {
	fail := func(st smpp.Status) smpp.PDU { return smpp.NewErrorResponse(p.CommandID(), p.Seq, st) }
	if !c.rate.take() {
		return fail(smpp.ESME_RTHROTTLED)
	}
	if p.MessageID == "" {
		return fail(smpp.ESME_RINVMSGID)
	}
	m, err := c.srv.store.GetMessage(ctx, c.accountID, p.MessageID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fail(smpp.ESME_RINVMSGID)
		}
		return fail(smpp.ESME_RSYSERR)
	}
	// Only messages this door took: another door's message has its own
	// report URL, which registered_delivery would overwrite.
	if m.Channel != message.ChannelSMS || m.Direction != message.MT || m.Details.Report != ReportSMPP || m.Details.SMS == nil {
		return fail(smpp.ESME_RINVMSGID)
	}
	if p.SourceAddr != "" && strings.TrimPrefix(p.SourceAddr, "+") != strings.TrimPrefix(m.Originator, "+") {
		return fail(smpp.ESME_RREPLACEFAIL) // must match the submit's (§4.10.1)
	}
	if len(p.ShortMessage) == 0 && p.SMDefaultMsgID != 0 {
		return fail(smpp.ESME_RREPLACEFAIL) // no canned messages here
	}
	switch {
	case m.Type == message.TypeBinary:
		m.Body = hex.EncodeToString(p.ShortMessage)
	case m.Details.SMS.DataCoding == "unicode":
		s, err := smstext.DecodeUCS2(p.ShortMessage)
		if err != nil {
			return fail(smpp.ESME_RINVMSGLEN)
		}
		m.Body = s
	default:
		m.Body = smstext.DecodeGSM7(p.ShortMessage)
	}
	now := time.Now().UTC()
	if p.ScheduleDeliveryTime != "" {
		t, err := smpp.ParseTime(p.ScheduleDeliveryTime, now)
		if err != nil {
			return fail(smpp.ESME_RINVSCHED)
		}
		m.ScheduledAt = t
	}
	if p.ValidityPeriod != "" {
		t, err := smpp.ParseTime(p.ValidityPeriod, now)
		if err != nil || !t.After(now) {
			return fail(smpp.ESME_RINVEXPIRY)
		}
		base := now
		if m.ScheduledAt.After(now) {
			base = m.ScheduledAt
		}
		m.Validity = max(1, int(t.Sub(base).Seconds()))
	}
	switch p.RegisteredDelivery & smpp.RegisteredDeliveryReceiptMask {
	case smpp.RegisteredDeliveryReceipt:
		m.ReportURL = ReceiptsAll
	case smpp.RegisteredDeliveryFailure:
		m.ReportURL = ReceiptsFailures
	default:
		m.ReportURL = ""
	}
	m.Compliance = ""
	if m.Type != message.TypeBinary {
		// The preparation picks the coding again for the new text, as the
		// submit asked: unicode stays unicode.
		if m.Details.SMS.DataCoding != "unicode" {
			m.Details.SMS.DataCoding = "plain"
		}
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	switch err := c.srv.pipeline.Replace(rctx, m, pipeline.Options{}); {
	case err == nil:
		return &smpp.ReplaceSMResp{Header: smpp.Header{Seq: p.Seq}}
	case errors.Is(err, store.ErrNotFound):
		return fail(smpp.ESME_RINVMSGID)
	case errors.Is(err, store.ErrConflict):
		return fail(smpp.ESME_RREPLACEFAIL) // sending has started, or it is held for review
	default:
		return fail(c.srv.refusal(err))
	}
}
