package app

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/dlr"
	"github.com/omnigate/omnigate/internal/smpp/session"
	"github.com/omnigate/omnigate/internal/smppserver"
	"github.com/omnigate/omnigate/internal/smsc"
	"github.com/omnigate/omnigate/internal/smstext"
	"github.com/omnigate/omnigate/internal/store"
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
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		addr := s.app.SMPPAddr()

		_, err = session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: "wrong"}, slowBind, nil)
		var be *session.BindError
		if !errors.As(err, &be) || be.Status != smpp.ESME_RINVPASWD {
			t.Fatalf("wrong password: %v", err)
		}

		sess, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: cred.Password}, slowBind, nil)
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

		rx, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindReceiver, SystemID: cred.SystemID, Password: cred.Password}, slowBind, nil)
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

// Receipts come back as deliver_sm: a receipt waits while no receiver of
// the account is bound and arrives when one binds; with a transceiver bound
// the demo SMSC's receipt comes straight back over it.
func TestSMPPServerReceipts(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.SMPPListen = "127.0.0.1:0" })
		ctx := context.Background()
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		addr := s.app.SMPPAddr()
		tx, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransmitter, SystemID: cred.SystemID, Password: cred.Password}, slowBind, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close(ctx)
		submit := func(sess *session.Session, text string, rd byte) string {
			t.Helper()
			r, err := sess.Send(ctx, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", RegisteredDelivery: rd, ShortMessage: []byte(text)})
			if err != nil || r.Hdr().Status != smpp.ESME_ROK {
				t.Fatalf("submit: %v %v", r, err)
			}
			return r.(*smpp.SubmitSMResp).MessageID
		}
		first := submit(tx, "Waits for a receiver", 1)
		quiet := submit(tx, "No receipt wanted", 0)
		for _, id := range []string{first, quiet} {
			waitMessageStatus(t, s, id, message.Delivered)
		}
		// The receipt waits (the report job is kept, not dropped); the other
		// message asked for none.
		waitFor(t, "the receipt to wait for a receiver", 20*time.Second, func() bool {
			return testutil.ToFloat64(s.app.metrics.Webhooks.WithLabelValues(store.JobReport, "wait")) >= 1
		})

		got := make(chan *smpp.DeliverSM, 10)
		h := session.HandlerFunc(func(ctx context.Context, _ *session.Session, req smpp.PDU) smpp.PDU {
			if d, ok := req.(*smpp.DeliverSM); ok {
				got <- d
			}
			return smpp.NewResponse(req)
		})
		trx, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: cred.Password}, slowBind, h)
		if err != nil {
			t.Fatal(err)
		}
		defer trx.Close(ctx)
		checkReceipt(t, <-receive(t, got), first, "Waits for a receiver")

		second := submit(trx, "Straight back", 1)
		checkReceipt(t, <-receive(t, got), second, "Straight back")
		select {
		case d := <-got:
			t.Fatalf("an unasked receipt: %q", d.ShortMessage)
		default:
		}
	})
}

// receive is got, failing the test when nothing comes in 30 s.
func receive(t *testing.T, got chan *smpp.DeliverSM) chan *smpp.DeliverSM {
	t.Helper()
	select {
	case d := <-got:
		out := make(chan *smpp.DeliverSM, 1)
		out <- d
		return out
	case <-time.After(30 * time.Second):
		t.Fatal("no deliver_sm came")
	}
	return nil
}

func checkReceipt(t *testing.T, d *smpp.DeliverSM, id, text string) {
	t.Helper()
	rid, _ := d.TLVs.ReceiptedMessageID()
	state, _ := d.TLVs.MessageState()
	body := string(d.ShortMessage)
	if !d.IsReceipt() || rid != id || state != smpp.StateDelivered || d.SourceAddr != "31612345678" || d.DestAddr != "Shop" ||
		!strings.HasPrefix(body, "id:"+id+" sub:001 dlvrd:001 submit date:") || !strings.Contains(body, " stat:DELIVRD err:000 text:"+text) {
		t.Fatalf("receipt %+v %q", d, body)
	}
	r, err := dlr.Parse(body)
	if err != nil || r.State != dlr.Delivered || r.ID != id {
		t.Fatalf("receipt text %q: %+v %v", body, r, err)
	}
}

// waitStatus waits until the message's first recipient has the status.
func waitMessageStatus(t *testing.T, s *server, id string, want message.Status) {
	t.Helper()
	waitFor(t, "message "+id+" "+string(want), 20*time.Second, func() bool {
		m, err := s.app.store.GetMessage(context.Background(), s.accountID, id)
		return err == nil && len(m.Recipients) > 0 && m.Recipients[0].Status == want
	})
}

// MO messages to the account's numbers come as deliver_sm to its bound
// receivers (the account has no inbound URL); they wait until one binds.
func TestSMPPServerInbound(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.Demo = false; c.SMPPListen = "127.0.0.1:0" })
		ctx := context.Background()
		if err := s.app.store.AddNumber(ctx, store.Number{Number: "3197010000001", AccountID: s.accountID, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		srv := s.useSMSC(smsc.Config{SystemID: "omnigate"}, smppconn.Settings{})
		waitFor(t, "the connector to bind", 10*time.Second, func() bool { return s.app.connectors.Running()["carrier"] > 0 })
		long := strings.Repeat("Bonjour, ", 30)
		for _, text := range []string{"Hello", long, "مرحبا"} {
			if err := srv.Inject("", "+31612345678", "3197010000001", text); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "inbound messages to wait for a receiver", 20*time.Second, func() bool {
			return testutil.ToFloat64(s.app.metrics.Webhooks.WithLabelValues(store.JobInbound, "wait")) >= 3
		})
		got := make(chan *smpp.DeliverSM, 10)
		h := session.HandlerFunc(func(ctx context.Context, _ *session.Session, req smpp.PDU) smpp.PDU {
			if d, ok := req.(*smpp.DeliverSM); ok {
				got <- d
			}
			return smpp.NewResponse(req)
		})
		rx, err := session.Dial(ctx, s.app.SMPPAddr(), &smpp.Bind{Kind: smpp.BindReceiver, SystemID: cred.SystemID, Password: cred.Password}, slowBind, h)
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close(ctx)
		bodies := map[string]bool{}
		for range 3 {
			d := <-receive(t, got)
			if d.IsReceipt() || d.SourceAddr != "31612345678" || d.DestAddr != "3197010000001" {
				t.Fatalf("MO %+v", d)
			}
			content := d.ShortMessage
			if p, ok := d.TLVs.MessagePayload(); ok {
				content = p
			}
			switch d.DataCoding {
			case smpp.DataCodingDefault:
				bodies[smstext.DecodeGSM7(content)] = true
			case smpp.DataCodingUCS2:
				s, _ := smstext.DecodeUCS2(content)
				bodies[s] = true
			}
		}
		if !bodies["Hello"] || !bodies[long] || !bodies["مرحبا"] {
			t.Fatalf("MO bodies %v", bodies)
		}
	})
}

// Bad input over SMPP: repeated wrong passwords lock the system_id out;
// submits above the account's rate are throttled; long messages by SAR and
// by message_payload become one message; broken PDUs written in pieces get
// the protocol's error and the session goes on.
func TestSMPPServerBadInput(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) {
			c.SMPPListen = "127.0.0.1:0"
			c.AuthLimits.PerAddress, c.AuthLimits.PerPrefix = 3, 3
		})
		ctx := context.Background()
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{MaxRate: 3, Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		addr := s.app.SMPPAddr()
		bind := func(password string) (*session.Session, smpp.Status) {
			sess, err := session.Dial(ctx, addr, &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred.SystemID, Password: password}, slowBind, nil)
			var be *session.BindError
			if errors.As(err, &be) {
				return nil, be.Status
			} else if err != nil {
				t.Fatal(err)
			}
			return sess, smpp.ESME_ROK
		}
		for range 3 {
			if _, st := bind("wrong"); st != smpp.ESME_RINVPASWD {
				t.Fatalf("wrong password: %v", st)
			}
		}
		if _, st := bind(cred.Password); st != smpp.ESME_RBINDFAIL {
			t.Fatalf("locked out, the right password: %v", st)
		}

		// The rest on a second server: this one's guard has locked the
		// loopback address out.
		s2 := start(t, engine, func(c *Config) { c.SMPPListen = "127.0.0.1:0" })
		cred2, err := smppserver.Issue(ctx, s2.app.store, s2.accountID, smppserver.IssueOptions{MaxRate: 3, Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := session.Dial(ctx, s2.app.SMPPAddr(), &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred2.SystemID, Password: cred2.Password}, slowBind, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close(ctx)
		// SAR parts and message_payload: one message each.
		var sarID string
		done := make(chan string, 2)
		for i, part := range []string{"SAR one, ", "SAR two."} {
			p := &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte(part)}
			p.TLVs.SetSAR(smpp.SAR{Ref: 42, Total: 2, Seq: uint8(i + 1)})
			go func() {
				r, err := sess.Send(ctx, p)
				if err != nil || r.Hdr().Status != smpp.ESME_ROK {
					t.Errorf("SAR part: %v %v", r, err)
					done <- ""
					return
				}
				done <- r.(*smpp.SubmitSMResp).MessageID
			}()
		}
		if sarID = <-done; sarID == "" || sarID != <-done {
			t.Fatal("SAR parts answered differently")
		}
		if m, err := s2.app.store.GetMessage(ctx, s2.accountID, sarID); err != nil || m.Body != "SAR one, SAR two." {
			t.Fatalf("SAR message %+v %v", m, err)
		}
		long := strings.Repeat("payload ", 50)
		p := &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678"}
		p.TLVs.SetMessagePayload([]byte(long))
		r, err := sess.Send(ctx, p)
		if err != nil || r.Hdr().Status != smpp.ESME_ROK {
			t.Fatalf("message_payload: %v %v", r, err)
		}
		if m, err := s2.app.store.GetMessage(ctx, s2.accountID, r.(*smpp.SubmitSMResp).MessageID); err != nil || m.Body != long {
			t.Fatalf("message_payload message %+v %v", m, err)
		}
		// Beyond 3 submits a second: throttled (the bucket holds 3; a burst
		// of 10 cannot all fit).
		throttled := 0
		for range 10 {
			r, err := sess.Send(ctx, &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte("burst")})
			if err != nil {
				t.Fatal(err)
			}
			if r.Hdr().Status == smpp.ESME_RTHROTTLED {
				throttled++
			}
		}
		if throttled == 0 {
			t.Fatal("no submit was throttled")
		}
		// A window of 1: a UDH part held in the server (the test holds the
		// store's write lock) holds it, so the next request is throttled.
		if _, err := smppserver.Issue(ctx, s2.app.store, s2.accountID, smppserver.IssueOptions{Window: 1, MaxRate: 1000, Iterations: testIterations}); err != nil {
			t.Fatal(err)
		}
		narrow, err := session.Dial(ctx, s2.app.SMPPAddr(), &smpp.Bind{Kind: smpp.BindTransceiver, SystemID: cred2.SystemID, Password: cred2.Password}, slowBind, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer narrow.Close(ctx)
		// The part below holds the window only once the server took it: its
		// answer waits for the lock. Refused instead (the account's rate
		// bucket, emptied by the burst above, or the window itself when a
		// query got there first), it is sent again.
		udh, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: 9, Total: 2, Seq: 1})
		part := &smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, ShortMessage: append(udh, "part one"...)}
		partDone := make(chan struct{}, 1)
		sendPart := func() {
			go func() {
				narrow.Send(ctx, part)
				partDone <- struct{}{}
			}()
		}
		release := holdWrites(t, s2, engine)
		sendPart()
		waitFor(t, "a throttled request beyond the window", 30*time.Second, func() bool {
			select {
			case <-partDone:
				sendPart()
			default:
			}
			time.Sleep(100 * time.Millisecond) // the part first
			r, err := narrow.Send(ctx, &smpp.QuerySM{MessageID: sarID, SourceAddr: "Shop"})
			return err == nil && r.Hdr().Status == smpp.ESME_RTHROTTLED
		})
		release()

		// Raw bytes, each PDU written in pieces.
		nc, err := net.Dial("tcp", s2.app.SMPPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		write := func(b []byte) {
			for len(b) > 0 {
				n := min(len(b), 5)
				if _, err := nc.Write(b[:n]); err != nil {
					t.Fatal(err)
				}
				b = b[n:]
				time.Sleep(5 * time.Millisecond)
			}
		}
		read := func() smpp.PDU {
			nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			p, err := smpp.ReadPDU(nc, 0)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		b, _ := smpp.Marshal(&smpp.Bind{Header: smpp.Header{Seq: 1}, Kind: smpp.BindTransceiver, SystemID: cred2.SystemID, Password: cred2.Password})
		write(b)
		if r := read(); r.Hdr().Status != smpp.ESME_ROK {
			t.Fatalf("raw bind: %v", r)
		}
		// An unknown command: generic_nack.
		write([]byte{0, 0, 0, 16, 0, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 2})
		if r := read(); r.CommandID() != smpp.CmdGenericNack || r.Hdr().Status != smpp.ESME_RINVCMDID {
			t.Fatalf("unknown command: %v %v", r.CommandID(), r.Hdr().Status)
		}
		// A submit_sm whose body ends inside its first field.
		write([]byte{0, 0, 0, 19, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'})
		if r := read(); r.Hdr().Status == smpp.ESME_ROK {
			t.Fatalf("broken submit_sm: %v %v", r.CommandID(), r.Hdr().Status)
		}
		// The session goes on.
		b, _ = smpp.Marshal(&smpp.EnquireLink{Header: smpp.Header{Seq: 4}})
		write(b)
		if r := read(); r.CommandID() != smpp.CmdEnquireLinkResp || r.Hdr().Seq != 4 {
			t.Fatalf("enquire_link after bad input: %v", r)
		}
	})
}

// Error responses whose body SMPP 3.4 says is not returned go out as the
// 16-octet header alone: a refused bind (§4.1.2, §4.1.4, §4.1.6) and a
// refused submit_sm (§4.4.2). A query_sm_resp keeps its body (§4.8.2 does
// not drop it). Read as raw octets off the wire.
func TestSMPPServerErrorResponsesHeaderOnly(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		s := start(t, engine, func(c *Config) { c.SMPPListen = "127.0.0.1:0" })
		ctx := context.Background()
		cred, err := smppserver.Issue(ctx, s.app.store, s.accountID, smppserver.IssueOptions{Iterations: testIterations})
		if err != nil {
			t.Fatal(err)
		}
		dial := func() net.Conn {
			nc, err := net.Dial("tcp", s.app.SMPPAddr())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { nc.Close() })
			return nc
		}
		// call sends p and returns the raw response frame.
		call := func(nc net.Conn, p smpp.PDU) []byte {
			b, err := smpp.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := nc.Write(b); err != nil {
				t.Fatal(err)
			}
			nc.SetReadDeadline(time.Now().Add(20 * time.Second))
			frame, err := smpp.NewReader(nc, 0).ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			return bytes.Clone(frame)
		}
		check := func(what string, frame []byte, id smpp.CommandID, st smpp.Status, headerOnly bool) {
			t.Helper()
			p, err := smpp.Decode(frame)
			if err != nil {
				t.Fatalf("%s: % x: %v", what, frame, err)
			}
			if p.CommandID() != id || p.Hdr().Status != st {
				t.Fatalf("%s: %v %v, want %v %v", what, p.CommandID(), p.Hdr().Status, id, st)
			}
			if (len(frame) == smpp.HeaderLen) != headerOnly {
				t.Fatalf("%s: %d octets (% x); header only: %v", what, len(frame), frame, headerOnly)
			}
		}
		for _, k := range []smpp.BindKind{smpp.BindTransmitter, smpp.BindReceiver, smpp.BindTransceiver} {
			nc := dial()
			frame := call(nc, &smpp.Bind{Header: smpp.Header{Seq: 1}, Kind: k, SystemID: cred.SystemID, Password: "wrong", InterfaceVersion: smpp.InterfaceVersion34})
			check("wrong password", frame, k.CommandID().Response(), smpp.ESME_RINVPASWD, true)
		}
		nc := dial()
		frame := call(nc, &smpp.Bind{Header: smpp.Header{Seq: 1}, Kind: smpp.BindTransceiver, SystemID: "nosuchsystem", Password: "wrong", InterfaceVersion: smpp.InterfaceVersion34})
		check("unknown system_id", frame, smpp.CmdBindTransceiverResp, smpp.ESME_RINVSYSID, true)

		rx := dial()
		frame = call(rx, &smpp.Bind{Header: smpp.Header{Seq: 1}, Kind: smpp.BindReceiver, SystemID: cred.SystemID, Password: cred.Password, InterfaceVersion: smpp.InterfaceVersion34})
		check("bind_receiver", frame, smpp.CmdBindReceiverResp, smpp.ESME_ROK, false)
		frame = call(rx, &smpp.SubmitSM{Header: smpp.Header{Seq: 2}, SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte("x")})
		check("submit_sm on a receiver", frame, smpp.CmdSubmitSMResp, smpp.ESME_RINVBNDSTS, true)

		tx := dial()
		frame = call(tx, &smpp.Bind{Header: smpp.Header{Seq: 1}, Kind: smpp.BindTransmitter, SystemID: cred.SystemID, Password: cred.Password, InterfaceVersion: smpp.InterfaceVersion34})
		check("bind_transmitter", frame, smpp.CmdBindTransmitterResp, smpp.ESME_ROK, false)
		frame = call(tx, &smpp.Bind{Header: smpp.Header{Seq: 2}, Kind: smpp.BindTransmitter, SystemID: cred.SystemID, Password: cred.Password, InterfaceVersion: smpp.InterfaceVersion34})
		check("a second bind", frame, smpp.CmdBindTransmitterResp, smpp.ESME_RALYBND, true)
		frame = call(tx, &smpp.SubmitSM{Header: smpp.Header{Seq: 3}, SourceAddr: "Shop", DestAddr: "31612345678", DataCoding: 0x05, ShortMessage: []byte("x")})
		check("submit_sm in an unsupported alphabet", frame, smpp.CmdSubmitSMResp, smpp.ESME_RINVPARLEN, true)
		frame = call(tx, &smpp.SubmitSM{Header: smpp.Header{Seq: 4}, SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte("fine")})
		check("submit_sm", frame, smpp.CmdSubmitSMResp, smpp.ESME_ROK, false)
		frame = call(tx, &smpp.QuerySM{Header: smpp.Header{Seq: 5}, MessageID: "nosuchmessage", SourceAddr: "Shop"})
		check("query_sm of an unknown id", frame, smpp.CmdQuerySMResp, smpp.ESME_RQUERYFAIL, false)
	})
}
