package smpp

import (
	"strings"
	"testing"
)

// TestSettingsBounds: every number and duration of a connector's settings
// has bounds; one outside them is refused, naming it.
func TestSettingsBounds(t *testing.T) {
	base := `"host":"smsc.example.com","system_id":"omnigate"`
	for extra, name := range map[string]string{
		`"port":70000`:                              "port",
		`"binds":65`:                                "binds",
		`"window":1001`:                             "window",
		`"throughput":-1`:                           "throughput",
		`"throughput":1e9`:                          "throughput",
		`"resp_timeout":"-1s"`:                      "resp_timeout",
		`"resp_timeout":"11m"`:                      "resp_timeout",
		`"enquire_interval":"2h"`:                   "enquire_interval",
		`"enquire_interval":9223372036854775807`:    "enquire_interval",
		`"reconnect_max":"100000h"`:                 "reconnect_max",
		`"reconnect_min":"-5s"`:                     "reconnect_min",
		`"reconnect_min":"2m","reconnect_max":"1m"`: "reconnect_min",
	} {
		_, err := ParseSettings([]byte("{" + base + "," + extra + "}"))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming %s", extra, err, name)
		}
	}
	for _, extra := range []string{`"throughput":100000`, `"resp_timeout":"10m","enquire_interval":"1h","reconnect_min":"1s","reconnect_max":"1h"`, `"port":0`} {
		if _, err := ParseSettings([]byte("{" + base + "," + extra + "}")); err != nil {
			t.Errorf("%s refused: %v", extra, err)
		}
	}
}
