package twilio

import (
	"net/url"
	"testing"
)

// Twilio's published example of a request signature
// (https://www.twilio.com/docs/usage/security#validating-requests).
func TestSignaturePublishedExample(t *testing.T) {
	params := url.Values{}
	params.Set("CallSid", "CA1234567890ABCDE")
	params.Set("Caller", "+12349013030")
	params.Set("Digits", "1234")
	params.Set("From", "+12349013030")
	params.Set("To", "+18005551212")
	got := Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
}
