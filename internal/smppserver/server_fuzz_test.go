package smppserver

import (
	"context"
	"encoding/binary"
	"flag"
	"log/slog"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/authguard"
	"github.com/omnigate/omnigate/internal/channel/sms"
	"github.com/omnigate/omnigate/internal/metrics"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlite"
)

// FuzzServerFrames runs the real door — session, bind check, submit,
// query, cancel and replace handling, the pipeline and a SQLite store — on
// one connection fed a stream of frames: a valid bind_transceiver, then
// what the fuzzer makes of real PDUs, written in pieces of a fuzzed size so
// that frames are split across reads (and several share one). Whatever
// arrives, the server never panics, answers or closes the connection, and
// still takes a new bind and submit afterwards.
func FuzzServerFrames(f *testing.F) {
	const systemID, password = "fuzz", "fuzzpass"
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(f.TempDir(), "fuzz.db"), Synchronous: "NORMAL"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if err := st.CreateAccount(ctx, &store.Account{ID: "acct", Name: "fuzz", Currency: "EUR", CreatedAt: time.Now()}, nil); err != nil {
		f.Fatal(err)
	}
	hash, err := hashWith(password, 1) // one iteration: binds on every input must stay cheap
	if err != nil {
		f.Fatal(err)
	}
	if err := st.SaveSMPPCredential(ctx, &store.SMPPCredential{AccountID: "acct", SystemID: systemID, PasswordHash: hash, MaxRate: 1_000_000}); err != nil {
		f.Fatal(err)
	}
	m := metrics.New()
	guard := authguard.New(authguard.Config{PerAddress: -1, PerPrefix: -1}, audit.New(audit.Config{}, slog.DiscardHandler), m)
	p := pipeline.New(pipeline.Config{Prepare: sms.Spec(sms.Config{}).Prepare}, st, m, nil)
	f.Cleanup(func() { p.Stop(ctx) })
	srv, err := New(Config{Addr: "127.0.0.1:0", PartsWait: 200 * time.Millisecond}, st, guard, p)
	if err != nil {
		f.Fatal(err)
	}
	srv.Start()
	f.Cleanup(func() { srv.Shutdown(ctx) })

	frame := func(pdu smpp.PDU, seq uint32) []byte {
		pdu.Hdr().Seq = seq
		b, err := smpp.Marshal(pdu)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	bind := frame(&smpp.Bind{Kind: smpp.BindTransceiver, SystemID: systemID, Password: password}, 1)
	udh, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: 9, Total: 2, Seq: 1})
	seeds := [][]byte{
		frame(&smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ShortMessage: []byte("hi")}, 2),
		frame(&smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ESMClass: smpp.ESMClassUDHI, ShortMessage: append(udh, 'x')}, 3),
		frame(&smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", DataCoding: smpp.DataCodingBinary, ShortMessage: []byte{0xDE, 0xAD}}, 4),
		frame(&smpp.SubmitSM{SourceAddr: "Shop", DestAddr: "31612345678", ScheduleDeliveryTime: "000001000000000R", ShortMessage: []byte("later")}, 5),
		frame(&smpp.QuerySM{MessageID: "nosuchmessage", SourceAddr: "Shop"}, 6),
		frame(&smpp.CancelSM{MessageID: "nosuchmessage", SourceAddr: "Shop", DestAddr: "31612345678"}, 7),
		frame(&smpp.ReplaceSM{MessageID: "nosuchmessage", SourceAddr: "Shop", ShortMessage: []byte("new")}, 8),
		frame(&smpp.SubmitMulti{SourceAddr: "Shop", Dests: []smpp.DestAddr{{Flag: smpp.DestSME, Addr: "31612345678"}}, ShortMessage: []byte("many")}, 9),
		frame(&smpp.EnquireLink{}, 10),
	}
	for i, s := range seeds {
		f.Add(append(append([]byte(nil), s...), seeds[(i+1)%len(seeds)]...), uint8(i*3+1))
	}
	f.Add(append(append([]byte(nil), seeds[0]...), 0, 0, 0, 16, 0, 0, 0, 4), uint8(5)) // a frame cut short
	f.Add(append([]byte{0, 0, 0, 8}, seeds[1]...), uint8(0))                           // a length below the header

	const lastSeq = 0x7FFFFFF0
	probe := frame(&smpp.EnquireLink{}, lastSeq)
	var runs atomic.Int64 // inputs this process ran (none in the fuzzing coordinator)
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		runs.Add(1)
		if len(stream) > 4096 {
			return
		}
		client, server := net.Pipe()
		srv.serve(server)
		defer client.Close()
		// When the stream ends on a frame boundary, an enquire_link after it
		// must be answered (or the connection closed): the server neither
		// hangs nor loses its place in the stream.
		whole := framed(stream)
		// The bind first, answered before the stream (requests pipelined
		// behind a bind that is still being checked are refused
		// ESME_RINVBNDSTS, which would keep the fuzzer away from the rest).
		client.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := client.Write(bind); err != nil {
			t.Fatal(err)
		}
		r := smpp.NewReader(client, 0)
		if pdu, err := r.ReadPDU(); err != nil || pdu.CommandID() != smpp.CmdBindTransceiverResp || pdu.Hdr().Status != smpp.ESME_ROK {
			t.Fatalf("bind: %v %v", pdu, err)
		}
		client.SetDeadline(time.Time{})
		all := append([]byte(nil), stream...)
		if whole {
			all = append(all, probe...)
		}
		done := make(chan error, 1) // nil: answered or closed
		go func() {
			for {
				pdu, err := r.ReadPDU()
				if err != nil {
					done <- nil // closed by the server (or by us, below)
					return
				}
				if pdu.CommandID() == smpp.CmdEnquireLinkResp && pdu.Hdr().Seq == lastSeq {
					done <- nil
					return
				}
			}
		}()
		n := int(chunk)%17 + 1
		client.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for len(all) > 0 {
			k := min(n, len(all))
			if _, err := client.Write(all[:k]); err != nil {
				break // the server closed the connection: allowed
			}
			all = all[k:]
		}
		if !whole {
			client.Close()
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no answer to the enquire_link after the stream, and the connection is still open")
		}
	})

	// Afterwards the door still works, and the seeds' submits were taken:
	// checked where the inputs ran. Under -fuzz the coordinator runs none
	// and its workers run mutations too, so only the door is checked there.
	f.Cleanup(func() {
		if runs.Load() == 0 {
			return
		}
		if fz := flag.Lookup("test.fuzz"); fz == nil || fz.Value.String() == "" {
			// A submit the server read after the probe was answered may still
			// be on its way through the pipeline's group commit: wait for it.
			var total int
			var err error
			for wait := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				_, total, err = st.ListMessages(ctx, "acct", store.MessageFilter{Limit: 1})
				if err != nil || total > 0 || time.Now().After(wait) {
					break
				}
			}
			if err != nil || total == 0 {
				f.Errorf("no message was accepted from the seeds (%d, %v)", total, err)
			}
		}
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			f.Errorf("dial after fuzzing: %v", err)
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(bind)
		if resp, err := smpp.ReadPDU(c, 0); err != nil || resp.Hdr().Status != smpp.ESME_ROK {
			f.Errorf("bind after fuzzing: %v %v", resp, err)
		}
	})
}

// framed reports whether stream is whole frames by their command_length
// (each at least a header long).
func framed(stream []byte) bool {
	for len(stream) > 0 {
		if len(stream) < 16 {
			return false
		}
		n := binary.BigEndian.Uint32(stream)
		if n < 16 || uint64(n) > uint64(len(stream)) {
			return false
		}
		stream = stream[n:]
	}
	return true
}
