// Package smpp encodes and decodes SMPP 3.4 protocol data units (PDUs). It
// is the codec under omnigate's SMPP sessions: it knows the wire format of
// every PDU, but nothing of binds, windows or timers.
//
// # PDUs
//
// Each command has a struct type — [*SubmitSM], [*SubmitSMResp],
// [*DeliverSM], [*EnquireLink], … — that embeds a [Header] (command_status
// and sequence_number) and implements [PDU]. The three binds share [*Bind]
// and [*BindResp], told apart by their Kind. A session dispatches on the
// concrete type:
//
//	switch p := pdu.(type) {
//	case *smpp.SubmitSMResp:
//		// p.Seq matches the request; p.Status is its outcome
//	case *smpp.DeliverSM:
//		if p.IsReceipt() {
//			id, _ := p.TLVs.ReceiptedMessageID()
//			...
//		}
//	}
//
// [NewResponse] builds the response to a request with the same sequence
// number, and [Sequence] hands out sequence numbers.
//
// # Encoding
//
// [AppendPDU] appends a PDU, header included, to a byte slice; with a
// reused buffer it does not allocate. It checks every field first (string
// lengths, sm_length ≤ 254, time formats, TLV lengths) and returns an
// [*EncodeError] rather than produce a PDU the peer would reject.
// [WritePDU] encodes and writes in one Write call.
//
//	buf, err = smpp.AppendPDU(buf[:0], &smpp.SubmitSM{
//		Header:     smpp.Header{Seq: seq.Next()},
//		SourceTON:  smpp.TONAlphanumeric,
//		SourceAddr: "omnigate",
//		DestTON:    smpp.TONInternational, DestNPI: smpp.NPIISDN,
//		DestAddr:   "31612345678",
//		RegisteredDelivery: smpp.RegisteredDeliveryReceipt,
//		ShortMessage:       []byte("hello"),
//	})
//
// # Decoding
//
// [Decode] decodes one whole frame; [Reader] (or [ReadPDU]) reads frames
// from a stream, TCP splits and all, and refuses any command_length above
// its maximum before reading — or allocating — the body. Decoded PDUs never
// alias the input buffer.
//
// Decoding is strict, and its errors are [*DecodeError]s that say how to
// answer: [DecodeError.Response] is the command's own response carrying
// the error status when the header was sound and the command known (for
// example submit_sm_resp with ESME_RINVSRCADR), and a generic_nack
// otherwise (ESME_RINVCMDID for an unknown command, ESME_RINVCMDLEN for a
// bad length). When DecodeError.Fatal is set the stream has lost its frame
// boundary and the connection must be closed after answering. Responses
// with a non-zero status and no body are accepted, as the spec allows.
//
// # Optional parameters
//
// [TLVs] keeps optional parameters in wire order, unknown and vendor tags
// included, with typed accessors for the common ones
// (ReceiptedMessageID, MessageState, NetworkErrorCode, MessagePayload,
// SAR, ports, …). Known tags are checked for their spec length.
//
// # Long messages
//
// The codec works on bytes; package smstext chooses the data coding and
// splits text into parts. Each part is sent with a concatenation header
// from [AppendConcatUDH] and ESMClassUDHI set, and [ParseConcat] reads the
// header of an inbound part.
package smpp
