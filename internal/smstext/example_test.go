package smstext_test

import (
	"fmt"

	"github.com/omnigate/omnigate/internal/smstext"
)

// Example shows the accept path: parse the requested data coding, then
// report the coding and part count for each body.
func Example() {
	mode, err := smstext.ParseMode("auto")
	if err != nil {
		panic(err)
	}
	for _, body := range []string{
		"Your code is 123456",
		"Total: 5€",
		"مرحبا بك في أومنيجيت",
		"Party time 😀",
	} {
		info := smstext.Analyze(body, mode)
		fmt.Printf("%s: units=%d chars=%d parts=%d\n", info.Coding, info.Units, info.Chars, info.Parts)
	}
	// Output:
	// plain: units=19 chars=19 parts=1
	// plain: units=10 chars=9 parts=1
	// unicode: units=20 chars=20 parts=1
	// unicode: units=13 chars=12 parts=1
}

// ExampleSegments shows the send path: split a long body and encode each
// part for an SMPP short_message behind an 8-bit concatenation header.
func ExampleSegments() {
	body := ""
	for range 20 {
		body += "0123456789"
	}
	info := smstext.Analyze(body, smstext.ModeAuto)
	parts := smstext.Segments(body, info.Coding, smstext.UDH8)
	for i, part := range parts {
		septets := smstext.EncodeGSM7(part)
		udh := []byte{0x05, 0x00, 0x03, 0x2A, byte(len(parts)), byte(i + 1)}
		fmt.Printf("part %d/%d: %d septets, header % X\n", i+1, len(parts), len(septets), udh)
	}
	// Output:
	// part 1/2: 153 septets, header 05 00 03 2A 02 01
	// part 2/2: 47 septets, header 05 00 03 2A 02 02
}

// ExamplePackSeptets packs GSM7 septets eight to seven octets.
func ExamplePackSeptets() {
	packed := smstext.PackSeptets(smstext.EncodeGSM7("hellohello"))
	fmt.Printf("% X\n", packed)
	fmt.Println(smstext.DecodeGSM7(smstext.UnpackSeptets(packed, 10)))
	// Output:
	// E8 32 9B FD 46 97 D9 EC 37
	// hellohello
}

// ExamplePackSeptetsWithFill packs text that follows a 6-byte user data
// header, which needs one fill bit to reach a septet boundary.
func ExamplePackSeptetsWithFill() {
	udh := []byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01}
	fill := smstext.SeptetFillBits(len(udh))
	packed := smstext.PackSeptetsWithFill(smstext.EncodeGSM7("hellohello"), fill)
	fmt.Println(fill)
	fmt.Printf("% X\n", append(udh, packed...))
	// Output:
	// 1
	// 05 00 03 2A 02 01 D0 65 36 FB 8D 2E B3 D9 6F
}

// ExampleDecodeUCS2 decodes a UTF-16BE payload (data_coding 0x08).
func ExampleDecodeUCS2() {
	s, err := smstext.DecodeUCS2([]byte{0x00, 0x48, 0x00, 0x69, 0xD8, 0x3D, 0xDE, 0x00})
	fmt.Println(s, err)
	// Output: Hi😀 <nil>
}
