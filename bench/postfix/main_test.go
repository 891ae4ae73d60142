package main

import (
	"strings"
	"testing"
)

func TestDelays(t *testing.T) {
	log := `Dec 03 13:46:01 relay postfix/smtp[1]: 1A2B: to=<rcpt@sink.test>, relay=127.0.0.1[127.0.0.1]:46625, delay=0.5, delays=0.1/0.2/0.01/0.19, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Dec 03 13:46:01 relay postfix/smtp[1]: 1A2C: to=<rcpt@sink.test>, relay=127.0.0.1[127.0.0.1]:46625, delay=1.5, delays=0.3/1/0.02/0.18, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Dec 03 13:46:01 relay postfix/qmgr[2]: 1A2C: removed`
	got := delays(log)
	for _, want := range []string{"before the queue manager 0.10 / 0.30 s", "in the queue manager 0.20 / 1.00 s", "transmission 0.18 / 0.19 s"} {
		if !strings.Contains(got, want) {
			t.Errorf("delays: %q lacks %q", got, want)
		}
	}
	if delays("nothing") != "" {
		t.Error("delays of a log without deliveries")
	}
}

func TestPercentileAndBody(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3}
	if pct(v, 50) != 3 || pct(v, 100) != 5 || pct(v, 1) != 1 || pct(nil, 50) != -1 {
		t.Errorf("pct: %v %v %v", pct(v, 50), pct(v, 100), pct(v, 1))
	}
	b := body(5120)
	if len(b) != 5120 || strings.Contains(b, "\n.") {
		t.Errorf("body: %d bytes", len(b))
	}
	for _, l := range strings.Split(b, "\r\n") {
		if len(l) > 998 {
			t.Fatalf("a line of %d bytes", len(l))
		}
	}
}
