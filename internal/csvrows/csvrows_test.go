package csvrows

import (
	"strings"
	"testing"
)

func TestHeaded(t *testing.T) {
	cr, col, err := Headed(strings.NewReader(" Price, channel\n0.05,sms\n"), "channel,price", "channel", "price")
	if err != nil || col["price"] != 0 || col["channel"] != 1 {
		t.Fatalf("columns %v, %v", col, err)
	}
	if rec, err := cr.Read(); err != nil || rec[0] != "0.05" {
		t.Fatalf("first record %v, %v", rec, err)
	}
	_, _, err = Headed(strings.NewReader("channel\n"), "channel,price", "channel", "price")
	if err == nil || err.Error() != `the header row has no "price" column (want channel,price)` {
		t.Fatalf("missing column: %v", err)
	}
	if _, _, err := Headed(strings.NewReader(""), "x", "x"); err == nil || !strings.HasPrefix(err.Error(), "reading the header row") {
		t.Fatalf("empty file: %v", err)
	}
}
