package session_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
)

// serve accepts ESMEs on a loopback port: system_id "esme", password "pw";
// submits are answered with message id "42".
func serve(t *testing.T) string { return serveWith(t, session.Config{}) }

// serveWith is serve with a session configuration.
func serveWith(t *testing.T, cfg session.Config) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	auth := func(s *session.Session, b *smpp.Bind) smpp.Status {
		if b.SystemID != "esme" {
			return smpp.ESME_RINVSYSID
		}
		if b.Password != "pw" {
			return smpp.ESME_RINVPASWD
		}
		return smpp.ESME_ROK
	}
	h := session.HandlerFunc(func(ctx context.Context, s *session.Session, req smpp.PDU) smpp.PDU {
		if sub, ok := req.(*smpp.SubmitSM); ok {
			resp := smpp.NewResponse(sub).(*smpp.SubmitSMResp)
			resp.MessageID = "42"
			return resp
		}
		return smpp.NewErrorResponse(req.CommandID(), req.Hdr().Seq, smpp.ESME_RINVCMDID)
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			session.Accept(c, cfg, "test-smsc", auth, h)
		}
	}()
	return l.Addr().String()
}

// raw is an ESME that writes PDUs by hand and reads what comes back.
type raw struct {
	t    *testing.T
	conn net.Conn
	r    *smpp.Reader
	seq  uint32
}

func dialRaw(t *testing.T, addr string) *raw {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, conn: c, r: smpp.NewReader(c, 0)}
}

func (r *raw) call(p smpp.PDU) smpp.PDU {
	r.t.Helper()
	r.seq++
	p.Hdr().Seq = r.seq
	if err := smpp.WritePDU(r.conn, p); err != nil {
		r.t.Fatal(err)
	}
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := r.r.ReadPDU()
	if err != nil {
		r.t.Fatal(err)
	}
	if resp.Hdr().Seq != r.seq {
		r.t.Fatalf("answer to seq %d has seq %d", r.seq, resp.Hdr().Seq)
	}
	return resp
}

// expect checks an answer's command and status: errors come in the
// request's own response type, never as generic_nack.
func expect(t *testing.T, resp smpp.PDU, id smpp.CommandID, st smpp.Status) {
	t.Helper()
	if resp.CommandID() != id || resp.Hdr().Status != st {
		t.Fatalf("answered %s %s, want %s %s", resp.CommandID(), resp.Hdr().Status, id, st)
	}
}

func TestBindStates(t *testing.T) {
	addr := serve(t)
	c := dialRaw(t, addr)
	expect(t, c.call(&smpp.SubmitSM{DestAddr: "1"}), smpp.CmdSubmitSMResp, smpp.ESME_RINVBNDSTS)
	expect(t, c.call(&smpp.Bind{Kind: smpp.BindTransceiver, SystemID: "esme", Password: "no", InterfaceVersion: smpp.InterfaceVersion34}),
		smpp.CmdBindTransceiverResp, smpp.ESME_RINVPASWD)
	expect(t, c.call(&smpp.Bind{Kind: smpp.BindTransmitter, SystemID: "who", Password: "pw", InterfaceVersion: smpp.InterfaceVersion34}),
		smpp.CmdBindTransmitterResp, smpp.ESME_RINVSYSID)
	ok := c.call(&smpp.Bind{Kind: smpp.BindTransceiver, SystemID: "esme", Password: "pw", InterfaceVersion: smpp.InterfaceVersion34})
	expect(t, ok, smpp.CmdBindTransceiverResp, smpp.ESME_ROK)
	if ok.(*smpp.BindResp).SystemID != "test-smsc" {
		t.Fatalf("bind_resp system_id %q", ok.(*smpp.BindResp).SystemID)
	}
	expect(t, c.call(&smpp.Bind{Kind: smpp.BindReceiver, SystemID: "esme", Password: "pw", InterfaceVersion: smpp.InterfaceVersion34}),
		smpp.CmdBindReceiverResp, smpp.ESME_RALYBND)
	resp := c.call(&smpp.SubmitSM{DestAddr: "31612345678", ShortMessage: []byte("hi")})
	expect(t, resp, smpp.CmdSubmitSMResp, smpp.ESME_ROK)
	if resp.(*smpp.SubmitSMResp).MessageID != "42" {
		t.Fatalf("message id %q", resp.(*smpp.SubmitSMResp).MessageID)
	}
	expect(t, c.call(&smpp.CancelSM{MessageID: "42"}), smpp.CmdCancelSMResp, smpp.ESME_RINVCMDID)
	expect(t, c.call(&smpp.EnquireLink{}), smpp.CmdEnquireLinkResp, smpp.ESME_ROK)
	expect(t, c.call(&smpp.Unbind{}), smpp.CmdUnbindResp, smpp.ESME_ROK)
}

func TestBrokenPDUs(t *testing.T) {
	addr := serve(t)
	c := dialRaw(t, addr)
	c.call(&smpp.Bind{Kind: smpp.BindTransceiver, SystemID: "esme", Password: "pw", InterfaceVersion: smpp.InterfaceVersion34})
	// An unknown command id: generic_nack ESME_RINVCMDID, the session lives on.
	c.conn.Write([]byte{0, 0, 0, 16, 0, 0, 0x01, 0x99, 0, 0, 0, 0, 0, 0, 0, 9})
	resp, err := c.r.ReadPDU()
	if err != nil {
		t.Fatal(err)
	}
	expect(t, resp, smpp.CmdGenericNack, smpp.ESME_RINVCMDID)
	// A submit_sm whose body is cut short: submit_sm_resp with an error.
	c.conn.Write([]byte{0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 10, 'x', 'y', 'z', 'w'})
	resp, err = c.r.ReadPDU()
	if err != nil {
		t.Fatal(err)
	}
	if resp.CommandID() != smpp.CmdSubmitSMResp || resp.Hdr().Status == smpp.ESME_ROK || resp.Hdr().Seq != 10 {
		t.Fatalf("truncated submit_sm answered %s %s seq %d", resp.CommandID(), resp.Hdr().Status, resp.Hdr().Seq)
	}
	c.seq = 10
	expect(t, c.call(&smpp.EnquireLink{}), smpp.CmdEnquireLinkResp, smpp.ESME_ROK)
	// An impossible command_length: generic_nack, then the connection closes.
	c.conn.Write([]byte{0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 12})
	resp, err = c.r.ReadPDU()
	if err != nil {
		t.Fatal(err)
	}
	expect(t, resp, smpp.CmdGenericNack, smpp.ESME_RINVCMDLEN)
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.r.ReadPDU(); err == nil {
		t.Fatal("the connection stayed open after a lost frame boundary")
	}
}

func TestWindowAndTimeout(t *testing.T) {
	// A peer that never answers: requests time out, the window bounds them.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		r := smpp.NewReader(c, 0)
		for {
			p, err := r.ReadPDU()
			if err != nil {
				return
			}
			if _, ok := p.(*smpp.Bind); ok {
				resp := smpp.NewResponse(p)
				smpp.WritePDU(c, resp)
			}
		}
	}()
	s, err := session.Dial(context.Background(), l.Addr().String(), &smpp.Bind{Kind: smpp.BindTransmitter, SystemID: "a", InterfaceVersion: smpp.InterfaceVersion34},
		session.Config{Window: 2, RespTimeout: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	start := time.Now()
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			_, err := s.Send(context.Background(), &smpp.SubmitSM{DestAddr: "1"})
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err == nil {
			t.Fatal("a request to a silent peer succeeded")
		}
	}
	// Window 2, 200 ms each: four requests need two rounds.
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Fatalf("four requests timed out after %v: the window of 2 was not respected", d)
	}
}

// A peer whose handlers are all busy answers further requests
// ESME_RTHROTTLED at once, and still answers enquire_link: a full handler
// pool never stops the session reading.
func TestBusyHandlersThrottle(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	defer close(release)
	busy := make(chan struct{}, 10)
	h := session.HandlerFunc(func(ctx context.Context, s *session.Session, req smpp.PDU) smpp.PDU {
		busy <- struct{}{}
		<-release
		return smpp.NewResponse(req)
	})
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		session.Accept(c, session.Config{HandlerConcurrency: 2}, "smsc", func(*session.Session, *smpp.Bind) smpp.Status { return smpp.ESME_ROK }, h)
	}()
	r := dialRaw(t, l.Addr().String())
	expect(t, r.call(&smpp.Bind{Kind: smpp.BindTransceiver, SystemID: "esme", InterfaceVersion: smpp.InterfaceVersion34}), smpp.CmdBindTransceiverResp, smpp.ESME_ROK)
	// Two submits occupy both handlers (their answers wait for release).
	for i := 0; i < 2; i++ {
		r.seq++
		p := &smpp.SubmitSM{DestAddr: "1"}
		p.Hdr().Seq = r.seq
		if err := smpp.WritePDU(r.conn, p); err != nil {
			t.Fatal(err)
		}
		<-busy
	}
	expect(t, r.call(&smpp.SubmitSM{DestAddr: "1"}), smpp.CmdSubmitSMResp, smpp.ESME_RTHROTTLED)
	expect(t, r.call(&smpp.EnquireLink{}), smpp.CmdEnquireLinkResp, smpp.ESME_ROK)
}

// With Inline, requests are answered on the reading goroutine: a burst of
// pipelined submits gets every answer, in order, and a request the
// handler refuses among them gets its own answer without losing the others.
func TestInlineAnswersPipelinedRequests(t *testing.T) {
	addr := serveWith(t, session.Config{Inline: true})
	r := dialRaw(t, addr)
	expect(t, r.call(&smpp.Bind{Kind: smpp.BindTransceiver, SystemID: "esme", Password: "pw"}), smpp.CmdBindTransceiverResp, smpp.ESME_ROK)
	var burst []byte
	for i := range 50 {
		var p smpp.PDU = &smpp.SubmitSM{SourceAddr: "Bench", DestAddr: "31612345678", ShortMessage: []byte("hello")}
		if i == 25 { // a request the handler refuses, among the submits
			p = &smpp.QuerySM{MessageID: "1", SourceAddr: "x"}
		}
		p.Hdr().Seq = uint32(100 + i)
		var err error
		if burst, err = smpp.AppendPDU(burst, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.conn.Write(burst); err != nil {
		t.Fatal(err)
	}
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range 50 {
		resp, err := r.r.ReadPDU()
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if resp.Hdr().Seq != uint32(100+i) {
			t.Fatalf("answer %d has seq %d", i, resp.Hdr().Seq)
		}
		want := smpp.CmdSubmitSMResp
		if i == 25 {
			want = smpp.CmdQuerySMResp
		}
		if resp.CommandID() != want {
			t.Fatalf("answer %d is %s, want %s", i, resp.CommandID(), want)
		}
	}
}
