package webpush

import "testing"

func TestEndpointOrigin(t *testing.T) {
	for ep, want := range map[string]string{
		"https://fcm.googleapis.com/fcm/send/abc:def": "https://fcm.googleapis.com",
		"https://Push.Example:443/x?y=1":              "https://push.example",
		"https://push.example:8443/x":                 "https://push.example:8443",
		"http://127.0.0.1:80/wp/1":                    "http://127.0.0.1",
		"http://127.0.0.1:9000/wp/1":                  "http://127.0.0.1:9000",
		"http://[::1]:9000/wp/1":                      "http://[::1]:9000",
	} {
		got, err := endpointOrigin(ep)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", ep, got, err, want)
		}
	}
}
