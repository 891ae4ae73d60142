package logging

import (
	"bytes"
	"strings"
	"testing"
)

func TestRedacts(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, Config{Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("sending", "recipient", "31612345678", "body", "secret text", "key", "live_abc", "message", "m1")
	out := buf.String()
	for _, leak := range []string{"31612345678", "secret text", "live_abc"} {
		if strings.Contains(out, leak) {
			t.Errorf("log line leaks %q: %s", leak, out)
		}
	}
	if !strings.Contains(out, `"message":"m1"`) {
		t.Errorf("log line lost a harmless attribute: %s", out)
	}
}

func TestRejectsUnknownSettings(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, Config{Level: "loud"}); err == nil {
		t.Error("accepted level loud")
	}
	if _, err := New(&bytes.Buffer{}, Config{Format: "xml"}); err == nil {
		t.Error("accepted format xml")
	}
}
