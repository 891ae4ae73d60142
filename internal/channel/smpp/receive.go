package smpp

import (
	"context"
	"errors"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/message"
	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/dlr"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
)

// deliverFields are the parts of deliver_sm and data_sm that matter here.
type deliverFields struct {
	source, dest string
	esmClass     byte
	dataCoding   byte
	short        []byte
	tlvs         codec.TLVs
}

// receive handles one deliver_sm/data_sm and returns the status to answer.
func (c *Connector) receive(ctx context.Context, d deliverFields) codec.Status {
	if codec.IsReceipt(d.esmClass) || d.tlvs.Has(codec.TagReceiptedMessageID) {
		return c.receipt(ctx, d)
	}
	return c.inbound(ctx, d)
}

// receipt reads a delivery receipt, preferring its TLVs to its text.
func (c *Connector) receipt(ctx context.Context, d deliverFields) codec.Status {
	var r dlr.Receipt
	text, err := dlr.Parse(string(d.short))
	if err == nil {
		r = text
	}
	if id, ok := d.tlvs.ReceiptedMessageID(); ok && id != "" {
		r.ID = id
	}
	if st, ok := d.tlvs.MessageState(); ok {
		r.State = dlr.State(st)
	}
	if ne, ok := d.tlvs.NetworkErrorCode(); ok && r.Err == 0 {
		r.Err = int(ne.Code)
	}
	if r.ID == "" || r.State == dlr.StateUnknownValue {
		// Nothing to match it to; answering an error would make the SMSC
		// send it again and again.
		c.log.Warn("smpp: unreadable delivery receipt dropped", "err", err)
		return codec.ESME_ROK
	}
	status, reason := receiptStatus(r.State), r.State.Reason()
	c.stats.Receipts.Add(1)
	// The done date is the SMSC's, to the minute and in its own time zone:
	// the store believes it only when plausible, else the arrival time.
	if err := c.sink.Receipt(ctx, store.Receipt{
		Connector: c.name, Channel: message.ChannelSMS, ProviderIDs: dlr.IDForms(r.ID), Status: status, Reason: reason, ErrorCode: r.Err,
		At: r.Done, ReceivedAt: time.Now().UTC(),
	}); err != nil {
		c.log.Error("smpp: storing receipt; the SMSC will resend it", "err", err)
		return codec.ESME_RSYSERR
	}
	return codec.ESME_ROK
}

// receiptStatus is the recipient status a receipt's state stands for.
func receiptStatus(s dlr.State) message.Status {
	switch s {
	case dlr.Delivered:
		return message.Delivered
	case dlr.Expired:
		return message.Expired
	case dlr.Deleted, dlr.Undeliverable, dlr.Rejected, dlr.Unknown:
		return message.DeliveryFailed
	}
	return message.Buffered // enroute, accepted: pending
}

// inbound reads a message from a handset, with its concatenation info.
func (c *Connector) inbound(ctx context.Context, d deliverFields) codec.Status {
	in := channel.Inbound{Connector: c.name, Channel: message.ChannelSMS, Source: d.source, Destination: d.dest, Total: 1, Part: 1}
	content := d.short
	if payload, ok := d.tlvs.MessagePayload(); ok && len(payload) > 0 {
		content = payload
	}
	udhLen := 0
	if d.esmClass&codec.ESMClassUDHI != 0 {
		concat, found, err := codec.ParseConcat(content)
		udh, rest, serr := codec.SplitUDH(content)
		if err != nil || serr != nil {
			c.log.Warn("smpp: inbound message with a broken user data header refused")
			return codec.ESME_RINVESMCLASS
		}
		if found {
			in.Ref, in.Total, in.Part = int(concat.Ref), int(concat.Total), int(concat.Seq)
		}
		udhLen = len(udh)
		content = rest
	} else if sar, ok := d.tlvs.SAR(); ok {
		in.Ref, in.Total, in.Part = int(sar.Ref), int(sar.Total), int(sar.Seq)
	}
	if in.Total < 1 || in.Part < 1 || in.Part > in.Total {
		return codec.ESME_RINVMSGLEN
	}
	in.Text = c.decodeText(d.dataCoding, content, udhLen)
	c.stats.Inbound.Add(1)
	err := c.sink.Inbound(ctx, in)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.log.Warn("smpp: inbound message for a number no account has", "number", d.dest)
		return codec.ESME_RINVDSTADR
	case err != nil:
		c.log.Error("smpp: storing inbound message; the SMSC will resend it", "err", err)
		return codec.ESME_RSYSERR
	}
	return codec.ESME_ROK
}

// Alphabets a data_coding can name.
const (
	alphaGSM = iota
	alphaBinary
	alphaUCS2
	alphaLatin1
	alphaASCII
)

// alphabet reads data_coding: SMPP's own values first, then the GSM 03.38
// coding groups that also carry a message class (0x10-0x1F, 0xF0-0xFF).
func alphabet(dc byte) int {
	switch dc {
	case codec.DataCodingDefault:
		return alphaGSM
	case codec.DataCodingIA5:
		return alphaASCII
	case codec.DataCodingLatin1:
		return alphaLatin1
	case codec.DataCodingBinary, codec.DataCodingOctetUnspecified:
		return alphaBinary
	case codec.DataCodingUCS2:
		return alphaUCS2
	}
	switch {
	case dc&0xF0 == 0x10 || dc&0xF0 == 0x00:
		switch (dc >> 2) & 3 {
		case 1:
			return alphaBinary
		case 2:
			return alphaUCS2
		}
		return alphaGSM
	case dc&0xF0 == 0xF0:
		if dc&0x04 != 0 {
			return alphaBinary
		}
		return alphaGSM
	}
	return alphaLatin1
}

// decodeText reads short-message text by its data_coding.
func (c *Connector) decodeText(dc byte, b []byte, udhLen int) string {
	switch alphabet(dc) {
	case alphaUCS2:
		s, _ := smstext.DecodeUCS2(b)
		return s
	case alphaLatin1, alphaBinary:
		return smstext.DecodeLatin1(b)
	case alphaASCII:
		return string(b)
	}
	if dc == codec.DataCodingDefault {
		switch c.s.InboundDefaultCoding {
		case "latin1":
			return smstext.DecodeLatin1(b)
		case "ascii":
			return string(b)
		}
	}
	if c.s.GSMPacked {
		fill := smstext.SeptetFillBits(udhLen)
		return smstext.DecodeGSM7(smstext.UnpackSeptetsWithFill(b, fill, (len(b)*8-fill)/7))
	}
	return smstext.DecodeGSM7(b)
}
