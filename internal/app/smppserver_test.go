package app

import (
	"context"
	"errors"
	"testing"

	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/smppserver"
)

// The SMPP server for customers: a bind with the issued credentials
// works, a wrong password gets ESME_RINVPASWD, a submit_sm becomes a
// message accepted through the pipeline and answered with its id, a long
// message in UDH parts becomes one message, query_sm reads its state, a
// receiver may not submit.
func TestSMPPServer(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.SMPPListen = "127.0.0.1:0" })
		ctx := context.Background()
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addr := s.app.SMPPAddr()

		_, err = session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: "wrong"}, session.Config{}, nil)
		var be *session.BindError
		if !errors.As(err, &be) || be.Status != smpp.ESME_RINVPASWD {
			t.Fatalf("wrong password: %v", err)
		}

		sess, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: cred.Password}, session.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close(ctx)
		resp, err := sess.Send(ctx, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", RegisteredDelivery: 1, ShortMessage: []byte("Hello over SMPP")})
		if err != nil || resp.Hdr().Status != smpp.ESME_ROK {
			t.Fatalf("submit: %v %v", resp, err)
		}
		id := resp.(*smpp.SubmitSMResp).MessageID
		m, err := s.app.store.GetMessage(ctx, s.accountID, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Body != "Hello over SMPP" || m.Originator != "Shop" || len(m.Recipients) != 1 || m.Recipients[0].Address != "31612345678" || m.Details.Report != smppserver.ReportSMPP {
			t.Fatalf("stored %+v", m)
		}

		// A long message in two UDH parts, answered together with one id.
		parts := []string{"First half, ", "second half."}
		ids := make(chan string, 2)
		for i, p := range parts {
			udh, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: 7, Total: 2, Seq: uint8(i + 1)})
			go func() {
				r, err := sess.Send(ctx, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, ShortMessage: append(udh, p...)})
				if err != nil || r.Hdr().Status != smpp.ESME_ROK {
					t.Errorf("part %d: %v %v", i, r, err)
					ids <- ""
					return
				}
				ids <- r.(*smpp.SubmitSMResp).MessageID
			}()
		}
		a, b := <-ids, <-ids
		if a == "" || a != b {
			t.Fatalf("parts answered %q and %q", a, b)
		}
		long, err := s.app.store.GetMessage(ctx, s.accountID, a)
		if err != nil || long.Body != "First half, second half." {
			t.Fatalf("long message %+v %v", long, err)
		}

		q, err := sess.Send(ctx, &smpp.QuerySM{MessageID: id, SourceAddr: "Shop"})
		if err != nil || q.Hdr().Status != smpp.ESME_ROK || q.(*smpp.QuerySMResp).MessageID != id {
			t.Fatalf("query: %v %v", q, err)
		}
		q, err = sess.Send(ctx, &smpp.QuerySM{MessageID: "nosuchmessage", SourceAddr: "Shop"})
		if err != nil || q.Hdr().Status != smpp.ESME_RQUERYFAIL {
			t.Fatalf("query unknown: %v %v", q, err)
		}
		// An unscheduled message cannot be cancelled.
		c, err := sess.Send(ctx, &smpp.CancelSM{MessageID: id, SourceAddr: "Shop", DestAddr: "31612345678"})
		if err != nil || c.Hdr().Status != smpp.ESME_RCANCELFAIL {
			t.Fatalf("cancel: %v %v", c, err)
		}

		rx, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindReceiver, SystemID: cred.SystemID, Password: cred.Password}, session.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close(ctx)
		r, err := rx.Send(ctx, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte("x")})
		if err != nil || r.Hdr().Status != smpp.ESME_RINVBNDSTS {
			t.Fatalf("receiver submit: %v %v", r, err)
		}
	})
}
