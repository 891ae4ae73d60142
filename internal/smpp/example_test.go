package smpp_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/smpp"
)

// Example walks through what a session does: encode requests into a
// reused buffer, read PDUs from the connection, dispatch on their type,
// answer requests with NewResponse, and answer undecodable PDUs with the
// DecodeError's Response.
func Example() {
	var seq smpp.Sequence
	var conn bytes.Buffer // stands in for the TCP connection
	var buf []byte

	// A bind and a two-part message, concatenated with a UDH.
	bind := &smpp.Bind{Header: smpp.Header{Seq: seq.Next()}, Kind: smpp.BindTransceiver,
		SystemID: "omnigate", Password: "secret", InterfaceVersion: smpp.InterfaceVersion34}
	buf, _ = smpp.AppendPDU(buf[:0], bind)
	conn.Write(buf)
	for i, text := range []string{"Hello, ", "world"} {
		sm, _ := smpp.AppendConcatUDH(nil, smpp.Concat{Ref: 42, Total: 2, Seq: uint8(i + 1)})
		submit := &smpp.SubmitSM{
			Header:     smpp.Header{Seq: seq.Next()},
			SourceTON:  smpp.TONAlphanumeric,
			SourceAddr: "omnigate",
			DestTON:    smpp.TONInternational, DestNPI: smpp.NPIISDN,
			DestAddr:           "447700900123",
			ESMClass:           smpp.ESMClassUDHI,
			RegisteredDelivery: smpp.RegisteredDeliveryReceipt,
			ShortMessage:       append(sm, text...),
		}
		if err := smpp.WritePDU(&conn, submit); err != nil {
			fmt.Println(err)
		}
	}
	// An invalid PDU is refused before anything is written.
	err := smpp.WritePDU(&conn, &smpp.SubmitSM{SourceAddr: "a sender id that is far too long"})
	var ee *smpp.EncodeError
	if errors.As(err, &ee) {
		fmt.Println("refused:", ee.Status)
	}
	// A peer's PDU with an unknown command id.
	conn.Write([]byte{0, 0, 0, 16, 0, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 9})

	// The other side reads the stream.
	r := smpp.NewReader(&conn, 0)
	for {
		p, err := r.ReadPDU()
		var de *smpp.DecodeError
		if errors.As(err, &de) {
			resp := de.Response()
			fmt.Printf("bad PDU seq %d: answer %v %v\n", de.Seq, resp.CommandID(), resp.Hdr().Status)
			if de.Fatal {
				break
			}
			continue
		}
		if err != nil { // io.EOF: the connection closed
			break
		}
		switch p := p.(type) {
		case *smpp.Bind:
			fmt.Printf("%v from %s, version %#x\n", p.CommandID(), p.SystemID, p.InterfaceVersion)
		case *smpp.SubmitSM:
			c, _, _ := smpp.ParseConcat(p.ShortMessage)
			_, text, _ := smpp.SplitUDH(p.ShortMessage)
			fmt.Printf("submit_sm seq %d to %s: part %d/%d %q\n", p.Seq, p.DestAddr, c.Seq, c.Total, text)
			resp := smpp.NewResponse(p).(*smpp.SubmitSMResp)
			resp.MessageID = fmt.Sprintf("msg-%d", p.Seq)
			fmt.Printf("  answer %v seq %d id %s\n", resp.CommandID(), resp.Seq, resp.MessageID)
		}
	}
	fmt.Println(smpp.ESME_RTHROTTLED, smpp.ESME_RTHROTTLED.Temporary())
	// Output:
	// refused: ESME_RINVSRCADR
	// bind_transceiver from omnigate, version 0x34
	// submit_sm seq 2 to 447700900123: part 1/2 "Hello, "
	//   answer submit_sm_resp seq 2 id msg-2
	// submit_sm seq 3 to 447700900123: part 2/2 "world"
	//   answer submit_sm_resp seq 3 id msg-3
	// bad PDU seq 9: answer generic_nack ESME_RINVCMDID
	// ESME_RTHROTTLED true
}
