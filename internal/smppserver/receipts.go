package smppserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
)

// A message submitted with registered_delivery asking for receipts
// carries one of these as its ReportURL: it makes the store queue a status
// report (a JobReport) for each change, which the webhook sender hands to
// DeliverReport (Details.Report is ReportSMPP) instead of calling a URL.
const (
	ReceiptsAll      = "smpp:receipts" // registered_delivery 1: every final state
	ReceiptsFailures = "smpp:failures" // registered_delivery 2: failures only
)

// Errors of DeliverReport and DeliverInbound.
var (
	// ErrNotWanted: this report is not one the customer asked for (not a
	// final state, or a success when only failures were asked for).
	ErrNotWanted = errors.New("smpp: receipt not asked for")
	// ErrNoReceiver: no receiver or transceiver of the account is bound to
	// this node; the report waits (WaitReason is the job's last error
	// meanwhile, and a bind wakes it).
	ErrNoReceiver = errors.New(WaitReason)
	// ErrNoCredentials: the account has no SMPP credentials, so its inbound
	// messages are not the SMPP server's to deliver.
	ErrNoCredentials = errors.New("smpp: the account has no SMPP credentials")
)

// WaitReason is the last error of reports and inbound messages waiting for
// a receiver to bind.
const WaitReason = "smpp: no receiver bound"

// receiptTimeout bounds the wait for deliver_sm_resp.
const receiptTimeout = 30 * time.Second

// DeliverReport sends a status report of a message submitted over SMPP as
// a deliver_sm receipt to one of the account's bound receivers
// (receiver or transceiver binds on this node, taken in turn). It returns
// once the receiver answered deliver_sm_resp with ESME_ROK.
func (s *Server) DeliverReport(ctx context.Context, m *message.Message, rep store.Report) error {
	rp := m.Recipient(rep.Seq)
	if rep.Event != "" || !rep.Status.Final() || rp == nil {
		return ErrNotWanted
	}
	switch m.ReportURL {
	case ReceiptsAll:
	case ReceiptsFailures:
		if rep.Status == message.Delivered {
			return ErrNotWanted
		}
	default:
		return ErrNotWanted
	}
	r := *rp
	p := &smpp.DeliverSM{
		SourceTON: tonOf(r.Address), SourceNPI: 1, SourceAddr: r.Address,
		DestTON: tonOf(m.Originator), DestNPI: npiOf(m.Originator), DestAddr: m.Originator,
		ESMClass:     smpp.ESMClassReceipt,
		ShortMessage: []byte(ReceiptText(m, rep)),
	}
	p.TLVs.SetReceiptedMessageID(m.ID)
	st := State(rep.Status)
	if rejected(m, rep) {
		st = smpp.StateRejected
	}
	p.TLVs.SetMessageState(st)
	return s.deliver(ctx, m.AccountID, p)
}

// ReceiptText is the receipt's short_message in the usual format (SMPP
// 3.4 Appendix B): id, sub, dlvrd, submit date, done date, stat, err and
// the first 20 characters of the text.
func ReceiptText(m *message.Message, rep store.Report) string {
	dlvrd := 0
	if rep.Status == message.Delivered {
		dlvrd = 1
	}
	errCode := min(max(rep.ErrorCode, 0), 999)
	var text []byte
	for _, c := range m.Body {
		if len(text) == 20 {
			break
		}
		if c < 0x20 || c > 0x7E {
			c = '?'
		}
		text = append(text, byte(c))
	}
	stat := statName(rep.Status)
	if rejected(m, rep) {
		stat = "REJECTD" // refused when it was accepted (a long message answered before it was whole)
	}
	const layout = "0601021504"
	return fmt.Sprintf("id:%s sub:001 dlvrd:%03d submit date:%s done date:%s stat:%s err:%03d text:%s",
		m.ID, dlvrd, m.CreatedAt.UTC().Format(layout), rep.At.UTC().Format(layout), stat, errCode, text)
}

// rejected reports whether a report is of a recipient refused when its
// message was accepted (no connector took it).
func rejected(m *message.Message, rep store.Report) bool {
	r := m.Recipient(rep.Seq)
	return r != nil && r.Connector == "" && refusedAtAccept(m, rep.Status, rep.At)
}

func statName(s message.Status) string {
	switch s {
	case message.Delivered:
		return "DELIVRD"
	case message.Expired:
		return "EXPIRED"
	case message.DeliveryFailed:
		return "UNDELIV"
	}
	return "ENROUTE"
}

// tonOf and npiOf are the type of number and numbering plan of an
// address: international digits, or alphanumeric.
func tonOf(addr string) byte {
	if isDigits(addr) {
		return 1
	}
	return 5
}

func npiOf(addr string) byte {
	if isDigits(addr) {
		return 1
	}
	return 0
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// receivers are the sessions of the account bound as receiver or
// transceiver, starting after the one used last.
func (s *Server) receivers(accountID string) []*session.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*session.Session
	for sess, c := range s.sessions {
		if c.accountID != accountID {
			continue
		}
		if kind, ok := sess.Bound(); ok && (kind == smpp.BindReceiver || kind == smpp.BindTransceiver) {
			out = append(out, sess)
		}
	}
	if len(out) > 1 {
		s.turn++
		k := s.turn % len(out)
		out = append(out[k:], out[:k]...)
	}
	return out
}

// deliver sends p to one of the account's receivers; the next one is
// tried when one fails.
func (s *Server) deliver(ctx context.Context, accountID string, p *smpp.DeliverSM) error {
	rs := s.receivers(accountID)
	if len(rs) == 0 {
		return ErrNoReceiver
	}
	var errs []error
	for _, sess := range rs {
		cctx, cancel := context.WithTimeout(ctx, receiptTimeout)
		resp, err := sess.Send(cctx, p)
		cancel()
		switch {
		case err != nil:
			errs = append(errs, err)
		case resp.Hdr().Status != smpp.ESME_ROK:
			errs = append(errs, fmt.Errorf("smpp: receiver answered deliver_sm with %v", resp.Hdr().Status))
		default:
			return nil
		}
	}
	return errors.Join(errs...)
}

// receiverBound tells the app a receiver of the account bound, so that
// what waits for one is delivered now.
func (s *Server) receiverBound(accountID string) {
	if s.cfg.ReceiverBound != nil {
		s.cfg.ReceiverBound(accountID)
	}
}

// DeliverInbound sends an inbound SMS to one of the account's numbers as a
// deliver_sm to one of the account's bound receivers: GSM 03.38 when the
// text fits it, UCS-2 otherwise, in message_payload when it is longer than
// short_message takes. ErrNoCredentials when the account does not use
// the SMPP server.
func (s *Server) DeliverInbound(ctx context.Context, m *message.Message) error {
	if m.Channel != message.ChannelSMS || len(m.Recipients) == 0 {
		return ErrNotWanted
	}
	if _, err := s.store.SMPPCredential(ctx, m.AccountID); errors.Is(err, store.ErrNotFound) {
		return ErrNoCredentials
	} else if err != nil {
		return err
	}
	dest := m.Recipients[0].Address
	p := &smpp.DeliverSM{
		SourceTON: tonOf(m.Originator), SourceNPI: npiOf(m.Originator), SourceAddr: m.Originator,
		DestTON: tonOf(dest), DestNPI: npiOf(dest), DestAddr: dest,
	}
	var content []byte
	if smstext.IsGSM7(m.Body) {
		content, p.DataCoding = smstext.EncodeGSM7(m.Body), smpp.DataCodingDefault
	} else {
		content, p.DataCoding = smstext.EncodeUCS2(m.Body), smpp.DataCodingUCS2
	}
	if len(content) <= maxShortMessage {
		p.ShortMessage = content
	} else {
		p.TLVs.SetMessagePayload(content)
	}
	return s.deliver(ctx, m.AccountID, p)
}

// maxShortMessage is short_message's limit in octets.
const maxShortMessage = 254
