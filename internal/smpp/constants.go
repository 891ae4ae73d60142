package smpp

import "strconv"

// esm_class bits (SMPP 3.4 §5.2.12). The octet has three parts: the
// messaging mode (bits 1–0), the message type (bits 5–2) and the GSM
// network features (bits 7–6). Combine one value of each with |.
const (
	// ESMClassModeMask selects the messaging mode bits.
	ESMClassModeMask = 0x03
	// ESMClassDefaultMode is the SMSC's default mode (usually store and
	// forward).
	ESMClassDefaultMode = 0x00
	// ESMClassDatagram is datagram mode: no storage, no retries.
	ESMClassDatagram = 0x01
	// ESMClassTransaction is forward (transaction) mode: the response
	// reports the delivery outcome.
	ESMClassTransaction = 0x02
	// ESMClassStoreAndForward is explicit store and forward mode.
	ESMClassStoreAndForward = 0x03

	// ESMClassTypeMask selects the message type bits.
	ESMClassTypeMask = 0x3C
	// ESMClassDefaultType is a normal message.
	ESMClassDefaultType = 0x00
	// ESMClassReceipt marks a deliver_sm or data_sm as an SMSC delivery
	// receipt.
	ESMClassReceipt = 0x04
	// ESMClassDeliveryAck marks an SME delivery acknowledgement.
	ESMClassDeliveryAck = 0x08
	// ESMClassManualAck marks an SME manual/user acknowledgement.
	ESMClassManualAck = 0x10
	// ESMClassConversationAbort marks a conversation abort (Korean CDMA).
	ESMClassConversationAbort = 0x18
	// ESMClassIntermediate marks an intermediate delivery notification.
	ESMClassIntermediate = 0x20

	// ESMClassUDHI says the short message starts with a user data header
	// (for example a concatenation header; see AppendConcatUDH).
	ESMClassUDHI = 0x40
	// ESMClassReplyPath asks for the GSM reply path.
	ESMClassReplyPath = 0x80
)

// IsReceipt reports whether esm_class marks an SMSC delivery receipt or an
// intermediate delivery notification.
func IsReceipt(esmClass byte) bool {
	t := esmClass & ESMClassTypeMask
	return t == ESMClassReceipt || t == ESMClassIntermediate
}

// registered_delivery bits (SMPP 3.4 §5.2.17).
const (
	// RegisteredDeliveryNone requests no receipt.
	RegisteredDeliveryNone = 0x00
	// RegisteredDeliveryReceipt requests an SMSC delivery receipt on final
	// success or failure.
	RegisteredDeliveryReceipt = 0x01
	// RegisteredDeliveryFailure requests a receipt on failure only.
	RegisteredDeliveryFailure = 0x02
	// RegisteredDeliveryReceiptMask selects the SMSC receipt bits.
	RegisteredDeliveryReceiptMask = 0x03
	// RegisteredDeliverySMEAck requests an SME delivery acknowledgement.
	RegisteredDeliverySMEAck = 0x04
	// RegisteredDeliverySMEManualAck requests an SME manual/user
	// acknowledgement.
	RegisteredDeliverySMEManualAck = 0x08
	// RegisteredDeliveryIntermediate requests intermediate notifications.
	RegisteredDeliveryIntermediate = 0x10
)

// data_coding values (SMPP 3.4 §5.2.19). Values with bits 7–4 set follow
// the GSM 03.38 data coding scheme and are passed through as they are.
const (
	// DataCodingDefault is the SMSC default alphabet, in practice usually
	// GSM 03.38 (see package smstext).
	DataCodingDefault = 0x00
	// DataCodingIA5 is IA5 (CCITT T.50) / ASCII.
	DataCodingIA5 = 0x01
	// DataCodingOctetUnspecified is octet unspecified (8-bit binary), the
	// older of the two binary values.
	DataCodingOctetUnspecified = 0x02
	// DataCodingLatin1 is ISO-8859-1.
	DataCodingLatin1 = 0x03
	// DataCodingBinary is octet unspecified (8-bit binary), the usual
	// value for binary content.
	DataCodingBinary = 0x04
	// DataCodingJIS is JIS (X 0208-1990).
	DataCodingJIS = 0x05
	// DataCodingCyrillic is ISO-8859-5.
	DataCodingCyrillic = 0x06
	// DataCodingHebrew is ISO-8859-8.
	DataCodingHebrew = 0x07
	// DataCodingUCS2 is UCS-2 (ISO/IEC-10646), big-endian.
	DataCodingUCS2 = 0x08
	// DataCodingPictogram is pictogram encoding.
	DataCodingPictogram = 0x09
	// DataCodingISO2022JP is ISO-2022-JP (music codes).
	DataCodingISO2022JP = 0x0A
	// DataCodingKanji is extended Kanji JIS (X 0212-1990).
	DataCodingKanji = 0x0D
	// DataCodingKSC5601 is KS C 5601.
	DataCodingKSC5601 = 0x0E
)

// Type of number values for the *TON fields (SMPP 3.4 §5.2.5).
const (
	TONUnknown         = 0x00
	TONInternational   = 0x01
	TONNational        = 0x02
	TONNetworkSpecific = 0x03
	TONSubscriber      = 0x04
	TONAlphanumeric    = 0x05
	TONAbbreviated     = 0x06
)

// Numbering plan indicator values for the *NPI fields (SMPP 3.4 §5.2.6).
const (
	NPIUnknown    = 0x00
	NPIISDN       = 0x01 // E.163/E.164
	NPIData       = 0x03 // X.121
	NPITelex      = 0x04 // F.69
	NPILandMobile = 0x06 // E.212
	NPINational   = 0x08
	NPIPrivate    = 0x09
	NPIERMES      = 0x0A
	NPIInternet   = 0x0E // IP
	NPIWAPClient  = 0x12
)

// priority_flag values (SMPP 3.4 §5.2.14); their meaning depends on the
// network, 0 being the lowest.
const (
	PriorityLevel0 = 0
	PriorityLevel1 = 1
	PriorityLevel2 = 2
	PriorityLevel3 = 3
)

// MessageState is a message's state as reported by query_sm_resp and the
// message_state TLV of delivery receipts (SMPP 3.4 §5.2.28).
type MessageState uint8

// The message states.
const (
	StateScheduled     MessageState = 0 // not in SMPP 3.4; SMPP 5.0 SCHEDULED
	StateEnroute       MessageState = 1
	StateDelivered     MessageState = 2
	StateExpired       MessageState = 3
	StateDeleted       MessageState = 4
	StateUndeliverable MessageState = 5
	StateAccepted      MessageState = 6
	StateUnknown       MessageState = 7
	StateRejected      MessageState = 8
)

var stateNames = [...]string{"SCHEDULED", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED",
	"UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED"}

// String returns the spec name of the state, such as "DELIVERED".
func (s MessageState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "MessageState(" + strconv.Itoa(int(s)) + ")"
}

// Final reports whether the state is final: the message will not change
// state again (delivered, expired, deleted, undeliverable, accepted or
// rejected).
func (s MessageState) Final() bool {
	switch s {
	case StateDelivered, StateExpired, StateDeleted, StateUndeliverable, StateAccepted, StateRejected:
		return true
	}
	return false
}
