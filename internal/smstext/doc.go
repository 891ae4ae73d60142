// Package smstext handles the text side of SMS: choosing a data coding,
// counting how many units and segments a body needs, splitting a body into
// concatenated segments, and converting between Go strings and the byte
// forms used on the wire.
//
// Two data codings are supported:
//
//   - [GSM7]: the GSM 03.38 / 3GPP TS 23.038 7-bit default alphabet plus its
//     extension table (characters such as '€', '[' and '{' that take an escape
//     septet, so they cost two septets). A single SMS holds 160 septets.
//   - [UCS2]: UTF-16BE. Strictly, UCS-2 cannot hold characters outside the
//     Basic Multilingual Plane, but in practice SMSCs and handsets pass UTF-16,
//     so characters such as emoji are encoded as surrogate pairs and cost two
//     units. A single SMS holds 70 units.
//
// # Accepting a message
//
// The REST API calls [Analyze] on the accept path to report the coding and
// part count for a body. [ParseMode] turns the MessageBird "datacoding"
// value ("plain", "unicode" or "auto") into a [Mode]; [Coding.String]
// returns the MessageBird name of the coding that was chosen. Analyze does
// not allocate.
//
// # Sending a message
//
// An SMPP connector splits the body with [Segments] (or [Split] for custom
// limits), then encodes each part with [EncodeGSM7] or [EncodeUCS2].
// For GSM7 the septets are sent one per byte (unpacked, the usual SMPP
// form) or packed with [PackSeptets]. When a user data header comes before
// packed septets, [SeptetFillBits] gives the padding bits to pass to
// [PackSeptetsWithFill].
//
// Segment counts and splits always agree: for any body and mode,
// Analyze(body, mode).Parts == len(Segments(body, coding, UDH8)), where
// coding is the coding Analyze chose.
//
// # Receiving a message
//
// Inbound messages and receipts are decoded with [DecodeGSM7] (after
// [UnpackSeptets] for packed data), [DecodeUCS2] or [DecodeLatin1]
// (SMPP data_coding 0x03). The decoders accept any input without
// panicking.
//
// National language shift tables (3GPP TS 23.038 section 6.2.1.2.4) are
// not supported; text that needs them is sent as UCS2.
package smstext
