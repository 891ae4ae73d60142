package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/smppserver"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// A client that waits for each part's answer before it sends the next
// (a window of 1: Net::SMPP's default, php-smpp's sendSMS) gets each part
// answered at once, every part with the same id; the message is joined,
// delivered, and its receipt carries that id. By UDH and by SAR TLVs.
// partsServer starts a server with the SMPP door (its parts wait wait; 0:
// the default) and issues the account window-1 credentials.
func partsServer(t *testing.T, engine string, wait time.Duration) (*server, *smppserver.Issued) {
	s := start(t, engine, func(c *Config) {
		c.SMPPListen = "127.0.0.1:0"
		c.SMPPPartsWait = wait
	})
	cred, err := smppserver.Issue(context.Background(), s.app.store, s.accountID, smppserver.IssueOptions{Window: 1, MaxRate: 1000, Iterations: testIterations})
	if err != nil {
		t.Fatal(err)
	}
	return s, cred
}

func TestSMPPServerPartsOneAtATime(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, cred := partsServer(t, engine, 0)
		ctx := context.Background()
		got := make(chan *smpp.DeliverSM, 10)
		sess := dialParts(t, s, cred, got)
		defer sess.Close(ctx)
		udh := func(ref uint16, total, seq uint8, text string) *smpp.SubmitSM {
			h, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: ref, Total: total, Seq: seq})
			return &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, RegisteredDelivery: 1,
				ShortMessage: append(h, text...)}
		}
		sar := func(ref uint16, total, seq uint8, text string) *smpp.SubmitSM {
			p := &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", RegisteredDelivery: 1, ShortMessage: []byte(text)}
			p.TLVs.SetSAR(smpp.SAR{Ref: ref, Total: total, Seq: seq})
			return p
		}
		for _, tc := range []struct {
			name  string
			parts []*smpp.SubmitSM
			body  string
		}{
			{"UDH", []*smpp.SubmitSM{udh(7, 3, 1, "The first part, "), udh(7, 3, 2, "the second part, "), udh(7, 3, 3, "the last part.")},
				"The first part, the second part, the last part."},
			{"SAR", []*smpp.SubmitSM{sar(8, 2, 1, "SAR parts one by one: "), sar(8, 2, 2, "the second.")},
				"SAR parts one by one: the second."},
		} {
			id := sendParts(t, sess, tc.parts...)
			waitMessageStatus(t, s, id, message.Delivered)
			if m, err := s.app.store.GetMessage(ctx, s.accountID, id); err != nil || m.Body != tc.body || len(m.Recipients) != 1 {
				t.Fatalf("%s: message %+v %v", tc.name, m, err)
			}
			checkReceipt(t, <-receive(t, got), id, tc.body[:20])
			if n := countParts(t, s); n != 0 {
				t.Fatalf("%s: %d parts left", tc.name, n)
			}
		}
	})
}

// A long message whose parts straddle a restart completes: the parts wait
// in the database, and the part after the restart is answered with the
// first one's id.
func TestSMPPServerPartsAcrossRestart(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second,
			DemoReceiptDelay: 20 * time.Millisecond, SMPPListen: "127.0.0.1:0"}
		if engine == "postgres" {
			cfg.DatabaseURL = pgtest.URL(t)
		}
		cfg.Dispatch.Pool.Poll, cfg.Webhook.Pool.Poll = 20*time.Millisecond, 20*time.Millisecond
		ctx := context.Background()
		s, stop := serveUntil(t, cfg, nil)
		s.accountID, s.key, s.testKey, s.signingKey = s.newAccount("acme")
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{Window: 1, Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		part := func(seq uint8, text string) *smpp.SubmitSM {
			h, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: 30, Total: 2, Seq: seq})
			return &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, ShortMessage: append(h, text...)}
		}
		sess := dialParts(t, s, cred, nil)
		id := sendParts(t, sess, part(1, "Before the restart, "))
		sess.Close(ctx)
		stop()

		s2 := serve(t, cfg)
		s2.accountID = s.accountID
		sess2 := dialParts(t, s2, cred, nil)
		defer sess2.Close(ctx)
		r, err := sess2.Send(ctx, part(2, "after it."))
		if err != nil || r.Hdr().Status != smpp.ESME_ROK || r.(*smpp.SubmitSMResp).MessageID != id {
			t.Fatalf("part after the restart: %v %v, want ESME_ROK with %s", r, err, id)
		}
		waitMessageStatus(t, s2, id, message.Delivered)
		if m, err := s2.app.store.GetMessage(ctx, s2.accountID, id); err != nil || m.Body != "Before the restart, after it." {
			t.Fatalf("message %+v %v", m, err)
		}
	})
}

// The parts were answered ESME_ROK before the message was whole, so a
// message refused once whole (here: no balance left), and a set whose
// last part never comes, stays visible as refused under the id: query_sm
// answers REJECTED with the refusal's status as its error code, and the
// receipt asked for says stat:REJECTD.
func TestSMPPServerPartsRefused(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, cred := partsServer(t, engine, time.Second)
		ctx := context.Background()
		got := make(chan *smpp.DeliverSM, 10)
		sess := dialParts(t, s, cred, got)
		defer sess.Close(ctx)
		part := func(ref uint16, seq uint8, text string) *smpp.SubmitSM {
			h, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: ref, Total: 2, Seq: seq})
			return &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, RegisteredDelivery: 1,
				ShortMessage: append(h, text...)}
		}
		rejected := func(id string, code smpp.Status) {
			t.Helper()
			r, err := sess.Send(ctx, &smpp.QuerySM{MessageID: id, SourceAddr: "Shop"})
			if err != nil || r.Hdr().Status != smpp.ESME_ROK {
				t.Fatalf("query_sm %s: %v %v", id, r, err)
			}
			if q := r.(*smpp.QuerySMResp); q.MessageState != smpp.StateRejected || q.ErrorCode != byte(code) || q.FinalDate == "" {
				t.Fatalf("query_sm %s: %+v, want REJECTED with error %d", id, q, code)
			}
			m, err := s.app.store.GetMessage(ctx, s.accountID, id)
			if err != nil || m.Recipients[0].Status != message.DeliveryFailed || !strings.HasPrefix(m.Recipients[0].StatusReason, "refused") {
				t.Fatalf("message %+v %v", m, err)
			}
			d := <-receive(t, got)
			rid, _ := d.TLVs.ReceiptedMessageID()
			state, _ := d.TLVs.MessageState()
			if rid != id || state != smpp.StateRejected || !strings.Contains(string(d.ShortMessage), fmt.Sprintf("id:%s sub:001 dlvrd:000", id)) ||
				!strings.Contains(string(d.ShortMessage), fmt.Sprintf("stat:REJECTD err:%03d", int(code))) {
				t.Fatalf("receipt of %s: %+v %q", id, d, d.ShortMessage)
			}
			if n := countParts(t, s); n != 0 {
				t.Fatalf("%d parts left", n)
			}
		}

		// Refused when whole: the last part is answered with the refusal.
		id := sendParts(t, sess, part(1, 1, "Paid for by nobody, "))
		if _, err := s.app.store.Writer().Exec(fmt.Sprintf(`UPDATE accounts SET balance = 0 WHERE id = '%s'`, s.accountID)); err != nil {
			t.Fatal(err)
		}
		r, err := sess.Send(ctx, part(1, 2, "so refused."))
		if err != nil || r.Hdr().Status != smpp.ESME_RX_T_APPN {
			t.Fatalf("last part of a message the balance does not cover: %v %v", r, err)
		}
		rejected(id, smpp.ESME_RX_T_APPN)

		// Never whole: swept after the wait.
		id = sendParts(t, sess, part(2, 1, "The rest never comes"))
		waitFor(t, "the incomplete message recorded as refused", 30*time.Second, func() bool {
			_, err := s.app.store.GetMessage(ctx, s.accountID, id)
			return err == nil
		})
		rejected(id, smpp.ESME_RSUBMITFAIL)

		// query_sm of a set waiting for parts: ENROUTE; cancel_sm drops it.
		id = sendParts(t, sess, part(3, 1, "Cancelled half"))
		if r, err := sess.Send(ctx, &smpp.QuerySM{MessageID: id, SourceAddr: "Shop"}); err != nil || r.Hdr().Status != smpp.ESME_ROK ||
			r.(*smpp.QuerySMResp).MessageState != smpp.StateEnroute {
			t.Fatalf("query_sm of a waiting long message: %v %v", r, err)
		}
		if r, err := sess.Send(ctx, &smpp.CancelSM{MessageID: id, SourceAddr: "Shop", DestAddr: "31612345678"}); err != nil || r.Hdr().Status != smpp.ESME_ROK {
			t.Fatalf("cancel_sm of a waiting long message: %v %v", r, err)
		}
		if n := countParts(t, s); n != 0 {
			t.Fatalf("%d parts left after cancel_sm", n)
		}
		if r, err := sess.Send(ctx, &smpp.QuerySM{MessageID: id, SourceAddr: "Shop"}); err != nil || r.Hdr().Status != smpp.ESME_RQUERYFAIL {
			t.Fatalf("query_sm of a cancelled long message: %v %v", r, err)
		}
	})
}

// dialParts binds a transceiver that sends one request at a time (its
// answers come within 10 s or it fails) and hands deliver_sm to got.
func dialParts(t *testing.T, s *server, cred *smppserver.Issued, got chan *smpp.DeliverSM) *session.Session {
	t.Helper()
	h := session.HandlerFunc(func(ctx context.Context, _ *session.Session, req smpp.PDU) smpp.PDU {
		if d, ok := req.(*smpp.DeliverSM); ok && got != nil {
			got <- d
		}
		return smpp.NewResponse(req)
	})
	cfg := session.Config{RespTimeout: 10 * time.Second, Window: 1}
	sess, err := session.Dial(context.Background(), s.app.SMPPAddr(), &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: cred.Password}, cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// sendParts sends parts one at a time, each after the last one's answer,
// and returns the id they were all answered with.
func sendParts(t *testing.T, sess *session.Session, parts ...*smpp.SubmitSM) string {
	t.Helper()
	var id string
	for i, p := range parts {
		r, err := sess.Send(context.Background(), p)
		if err != nil || r.Hdr().Status != smpp.ESME_ROK {
			t.Fatalf("part %d: %v %v (a part must be answered before the next is sent)", i+1, r, err)
		}
		got := r.(*smpp.SubmitSMResp).MessageID
		if i == 0 {
			id = got
		} else if got != id {
			t.Fatalf("part %d answered %s, part 1 %s", i+1, got, id)
		}
	}
	if id == "" {
		t.Fatal("parts answered without an id")
	}
	return id
}

// countParts is how many parts of long messages wait in the database.
func countParts(t *testing.T, s *server) int {
	t.Helper()
	var n int
	if err := s.app.store.Writer().QueryRow(`SELECT COUNT(*) FROM smpp_parts`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A set left whole in the database (the server stopped between storing
// the last part and accepting the message) is accepted by the sweep under
// its id; a set whose message was accepted but whose parts were not
// dropped (a stop between the two) is only dropped, by the sweep or by the
// last part sent again, which is answered with the message's id: the
// message is accepted once.
func TestSMPPServerPartsLeftBehind(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s, cred := partsServer(t, engine, time.Second)
		ctx := context.Background()
		sess := dialParts(t, s, cred, nil)
		defer sess.Close(ctx)
		past := time.Now().UTC().Add(-time.Minute)
		stage := func(ref, seq int, id, text string, expires time.Time) {
			t.Helper()
			k := store.SMPPPartKey{AccountID: s.accountID, Source: "Shop", Dest: "31612345678", Ref: ref, Total: 2}
			if _, _, err := s.app.store.StagePart(ctx, store.SMPPPart{SMPPPartKey: k, Seq: seq, MessageID: id, Text: text,
				CreatedAt: expires.Add(-time.Second), ExpiresAt: expires}, 100); err != nil {
				t.Fatal(err)
			}
		}
		messages := func() int {
			t.Helper()
			_, total, err := s.app.store.ListMessages(ctx, s.accountID, store.MessageFilter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			return total
		}

		// Whole and never accepted: the sweep accepts it.
		whole := ids.New()
		stage(40, 1, whole, "Left whole, ", past)
		stage(40, 2, whole, "accepted by the sweep.", past)
		waitMessageStatus(t, s, whole, message.Delivered)
		if m, err := s.app.store.GetMessage(ctx, s.accountID, whole); err != nil || m.Body != "Left whole, accepted by the sweep." {
			t.Fatalf("swept message %+v %v", m, err)
		}

		// Accepted, its parts left: the sweep drops them.
		r, err := sess.Send(ctx, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte("Accepted before")})
		if err != nil || r.Hdr().Status != smpp.ESME_ROK {
			t.Fatalf("submit: %v %v", r, err)
		}
		accepted := r.(*smpp.SubmitSMResp).MessageID
		waitMessageStatus(t, s, accepted, message.Delivered)
		stage(41, 1, accepted, "Accepted ", past)
		stage(41, 2, accepted, "before", past)
		waitFor(t, "the parts of an accepted message dropped", 20*time.Second, func() bool { return countParts(t, s) == 0 })

		// Accepted, its parts left, and the last part sent again: answered
		// with the id, the parts dropped, nothing accepted twice.
		n := messages()
		stage(42, 1, accepted, "Accepted ", time.Now().Add(time.Hour))
		h, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: 42, Total: 2, Seq: 2})
		r, err = sess.Send(ctx, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, ShortMessage: append(h, "before"...)})
		if err != nil || r.Hdr().Status != smpp.ESME_ROK || r.(*smpp.SubmitSMResp).MessageID != accepted {
			t.Fatalf("last part sent again: %v %v, want ESME_ROK with %s", r, err, accepted)
		}
		if countParts(t, s) != 0 || messages() != n {
			t.Fatalf("%d parts left, %d messages (%d before)", countParts(t, s), messages(), n)
		}
		if m, err := s.app.store.GetMessage(ctx, s.accountID, accepted); err != nil || m.Body != "Accepted before" || m.Recipients[0].Status != message.Delivered {
			t.Fatalf("message %+v %v", m, err)
		}
	})
}
