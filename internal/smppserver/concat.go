package smppserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/store"
)

// A long message arrives as parts (UDH or SAR). Each part is stored (the
// store's smpp_parts) and answered at once, ESME_ROK with the set's
// message id: the id is fixed when the first part is stored, and every
// part of the set is answered with it. The part that completes the set
// joins the parts and accepts the message under that id (pipeline
// Options.ID), so its receipts carry the id the parts were answered with.
// A message refused then (compliance, balance, price …), and a set still
// incomplete after PartsWait (swept), is stored as refused under the id
// (pipeline.Refused): query_sm answers REJECTED and a receipt asked for
// says stat:REJECTD. The part that completes a refused message is
// answered with the refusal's command_status.

// partsKey is the store's key of a part's set.
func partsKey(account string, in parsed) store.SMPPPartKey {
	// The destination as the message will hold it (newMessage drops a
	// "+"), so that erasing the number finds its waiting parts.
	return store.SMPPPartKey{AccountID: account, Source: in.source, Dest: strings.TrimPrefix(in.dest, "+"), Ref: in.ref, Total: in.total}
}

// submitPart stores a part of a long message and answers it; the part
// completing the set accepts the message.
func (c *conn) submitPart(ctx context.Context, p *smpp.SubmitSM, in parsed) smpp.PDU {
	s := c.srv
	fail := func(st smpp.Status) smpp.PDU { return smpp.NewErrorResponse(p.CommandID(), p.Seq, st) }
	k := partsKey(c.accountID, in)
	now := time.Now().UTC()
	id, have, err := s.store.StagePart(ctx, store.SMPPPart{SMPPPartKey: k, Seq: in.seq, MessageID: ids.New(), Text: in.text,
		Unicode: in.unicode, Binary: in.binary, Receipts: int(in.receipts), UDH: in.udh, ScheduledAt: in.scheduled, Validity: in.validity,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.PartsWait)}, maxPendingParts)
	switch {
	case errors.Is(err, store.ErrPartsFull):
		return fail(smpp.ESME_RMSGQFUL)
	case err != nil:
		s.log.Error("SMPP server: storing a part", "err", err)
		return fail(smpp.ESME_RSYSERR)
	}
	ok := &smpp.SubmitSMResp{Header: smpp.Header{Seq: p.Seq}, MessageID: id}
	if have < in.total {
		return ok
	}
	set, err := s.store.SMPPPartSet(ctx, k)
	if err != nil {
		s.log.Error("SMPP server: reading parts", "err", err)
		return fail(smpp.ESME_RSYSERR) // the part is stored: sent again, it completes the set
	}
	if len(set) < in.total || set[0].MessageID != id {
		return ok // another request completed it meanwhile
	}
	whole := joinParts(set, in)
	// The client's going away does not stop it: its parts were answered.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if st := s.complete(cctx, k, id, whole); st != smpp.ESME_ROK {
		return fail(st)
	}
	return ok
}

// joinParts is the whole message of a set's parts: their texts in order,
// unicode or binary if any part is, the receipts the part asking for most
// asked for (all, then failures); the rest (addresses, schedule,
// validity, a binary message's other header elements) is the completing
// part's.
func joinParts(set []store.SMPPPart, last parsed) parsed {
	whole := last
	texts := make([]string, 0, len(set))
	whole.receipts = 0
	for _, pt := range set {
		texts = append(texts, pt.Text)
		whole.unicode = whole.unicode || pt.Unicode
		whole.binary = whole.binary || pt.Binary
		if r := byte(pt.Receipts); whole.receipts != smpp.RegisteredDeliveryReceipt && r != 0 {
			whole.receipts = r
		}
	}
	whole.text = strings.Join(texts, "")
	whole.total, whole.seq = 1, 1
	whole.destinations = []string{last.dest}
	return whole
}

// complete accepts a whole set under its id, or records it refused, and
// then drops its parts. ESME_ROK when it is accepted (now or before: a
// restart between the accept and the drop, or another node); the refusal's
// status when it is refused; ESME_RSYSERR when it could not be decided and
// the parts stay (the last part sent again, or the sweep, decides).
func (s *Server) complete(ctx context.Context, k store.SMPPPartKey, id string, whole parsed) smpp.Status {
	return s.settle(ctx, k, id, func() smpp.Status {
		_, st, err := s.acceptErr(ctx, k.AccountID, whole, id)
		switch {
		case st == smpp.ESME_ROK:
		case st == smpp.ESME_RSYSERR:
			if s.stored(ctx, k.AccountID, id) {
				st = smpp.ESME_ROK
			}
		default:
			// Refused: the other parts were answered with the id already.
			st = s.recordRefused(ctx, k.AccountID, whole, id, fmt.Sprintf("refused when whole (%v): %v", st, err), st)
		}
		return st
	})
}

// settle decides a set once on this node: unless a message is stored under
// its id already, decide stores one, accepted or refused, and says so with
// its status; then the parts are dropped. ESME_RSYSERR from decide leaves
// them for the next try. A set being settled here already answers
// ESME_ROK: the request settling it answers for it.
func (s *Server) settle(ctx context.Context, k store.SMPPPartKey, id string, decide func() smpp.Status) smpp.Status {
	if !s.claim(id) {
		return smpp.ESME_ROK
	}
	defer s.unclaim(id)
	st := smpp.ESME_ROK
	if !s.stored(ctx, k.AccountID, id) {
		if st = decide(); st == smpp.ESME_RSYSERR {
			return st
		}
	}
	s.dropParts(ctx, k, id)
	return st
}

// claim marks a set's id as being completed on this node; false when it
// already is.
func (s *Server) claim(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.completing[id] {
		return false
	}
	s.completing[id] = true
	return true
}

func (s *Server) unclaim(id string) {
	s.mu.Lock()
	delete(s.completing, id)
	s.mu.Unlock()
}

// stored reports whether the account has a message with the id stored
// (one indexed read of its account: the message itself is not needed).
func (s *Server) stored(ctx context.Context, account, id string) bool {
	a, err := s.store.MessageAccount(ctx, id)
	return err == nil && a == account
}

func (s *Server) dropParts(ctx context.Context, k store.SMPPPartKey, id string) {
	if _, err := s.store.DeleteSMPPParts(ctx, k, id); err != nil {
		// The sweep finds the message stored and drops them then.
		s.log.Warn("SMPP server: dropping a long message's parts", "id", id, "err", err)
	}
}

// recordRefused stores whole as refused under id with the refusal's
// status as its error code, and returns that status; ESME_RSYSERR when it
// could not. A message stored under the id meanwhile (by another node) is
// left alone.
func (s *Server) recordRefused(ctx context.Context, account string, whole parsed, id, reason string, st smpp.Status) smpp.Status {
	m := newMessage(account, whole)
	if err := s.pipeline.Refused(ctx, m, id, reason, int(st)); err != nil && !s.stored(ctx, account, id) {
		s.log.Error("SMPP server: recording a refused long message", "id", id, "err", err)
		return smpp.ESME_RSYSERR
	}
	return st
}

// sweepParts records the sets still incomplete after PartsWait as refused
// (ESME_RSUBMITFAIL as their error code) and drops them; a whole set left
// there (its accept failed, or the server stopped before it) is completed.
//
// One pass a tick, over at most sweepBatch sets: a set it cannot settle
// now (its accept fails, or it is being completed here) stays for the
// next tick instead of being read again at once.
func (s *Server) sweepParts(ctx context.Context, now time.Time) {
	sets, err := s.store.ExpiredSMPPParts(ctx, now, sweepBatch)
	if err != nil {
		s.log.Error("SMPP server: reading expired parts", "err", err)
		return
	}
	for _, set := range sets {
		first, last := set[0], set[len(set)-1]
		k, id := first.SMPPPartKey, first.MessageID
		in := parsed{source: k.Source, dest: k.Dest, ref: k.Ref, total: k.Total, udh: last.UDH, scheduled: last.ScheduledAt, validity: last.Validity}
		whole := joinParts(set, in)
		if len(set) == k.Total {
			// Whole, but its accept failed (a server error, a crash
			// before it): accepted now, or refused.
			s.complete(ctx, k, id, whole)
			continue
		}
		reason := fmt.Sprintf("refused: %d of the %d parts of the long message arrived within %v", len(set), k.Total, s.cfg.PartsWait)
		if s.settle(ctx, k, id, func() smpp.Status {
			return s.recordRefused(ctx, k.AccountID, whole, id, reason, smpp.ESME_RSUBMITFAIL)
		}) == smpp.ESME_RSYSERR {
			return // tried again at the next sweep
		}
	}
}

// sweepBatch bounds the sets one sweep settles.
const sweepBatch = 1000

// sweeper runs sweepParts until Shutdown.
func (s *Server) sweeper() {
	defer s.wg.Done()
	every := min(max(s.cfg.PartsWait/4, 50*time.Millisecond), 15*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			s.sweepParts(ctx, now.UTC())
			cancel()
		}
	}
}

// newMessage is the message a whole submit stands for.
func newMessage(account string, in parsed) *message.Message {
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
		AccountID:   account,
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
	return m
}
