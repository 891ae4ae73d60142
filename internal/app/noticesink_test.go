package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// noticeSink is an account's alert URL: it keeps the notices and usage
// alerts omnigate posts to it, in the order they came.
type noticeSink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []map[string]any
}

func newNoticeSink(t *testing.T) *noticeSink {
	n := &noticeSink{}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		json.NewDecoder(r.Body).Decode(&v)
		n.mu.Lock()
		n.got = append(n.got, v)
		n.mu.Unlock()
	}))
	t.Cleanup(n.srv.Close)
	return n
}

// all is what came so far.
func (n *noticeSink) all() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]map[string]any(nil), n.got...)
}

// has says whether a notice of type typ came whose data matches data.
func (n *noticeSink) has(typ string, data map[string]any) bool {
	for _, v := range n.all() {
		d, _ := v["data"].(map[string]any)
		match := v["type"] == typ
		for k, want := range data {
			match = match && d[k] == want
		}
		if match {
			return true
		}
	}
	return false
}
