package dispatch_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/dispatch"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// named is a connector that does what it is told.
type named struct {
	name string
	err  error
}

func (n *named) Name() string { return n.name }
func (n *named) Send(context.Context, channel.Submission) (channel.Result, error) {
	if n.err != nil {
		return channel.Result{}, n.err
	}
	return channel.Result{Status: message.Sent, PartIDs: []string{n.name + "-1"}}, nil
}

type registry map[string]channel.Connector

func (r registry) Connector(name string) (channel.Connector, bool) { c, ok := r[name]; return c, ok }

func names(cs []channel.Connector) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name())
	}
	return out
}

func TestTableRouter(t *testing.T) {
	reg := registry{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		reg[n] = &named{name: n}
	}
	r := dispatch.NewTableRouter(reg, nil)
	r.SetRoutes([]store.Route{
		{Connectors: []string{"a"}},                         // catch-all
		{Country: "NL", Connectors: []string{"b", "a"}},     // a country
		{Prefix: "316", Connectors: []string{"c"}},          // a prefix beats the country
		{Prefix: "3161", Connectors: []string{"d", "gone"}}, // the longest prefix wins; unknown names are skipped
		{AccountID: "vip", Country: "NL", Connectors: []string{"e"}},
	})
	for _, tc := range []struct {
		account, address, country string
		want                      []string
	}{
		{"x", "4915112345678", "DE", []string{"a"}},
		{"x", "31201234567", "NL", []string{"b", "a"}},
		{"x", "31612345678", "NL", []string{"d"}},
		{"x", "31651234567", "NL", []string{"c"}},
		{"vip", "31612345678", "NL", []string{"e"}}, // an account's own routes come first
		{"vip", "4915112345678", "DE", []string{"a"}},
	} {
		got, err := r.Route(&message.Message{AccountID: tc.account}, &message.Recipient{Address: tc.address, Country: tc.country})
		if err != nil || !slices.Equal(names(got), tc.want) {
			t.Errorf("%s → %s: %v, %v; want %v", tc.account, tc.address, names(got), err, tc.want)
		}
	}
	empty := dispatch.NewTableRouter(reg, nil)
	if _, err := empty.Route(&message.Message{}, &message.Recipient{Address: "1"}); err != dispatch.ErrNoRoute {
		t.Errorf("no routes: %v", err)
	}
	empty.SetFallback(reg["e"])
	if got, _ := empty.Route(&message.Message{}, &message.Recipient{Address: "1"}); !slices.Equal(names(got), []string{"e"}) {
		t.Errorf("fallback: %v", names(got))
	}
}

// A recipient goes to the next connector when one is down or refuses the
// route, and fails when every connector refuses it.
func TestFailover(t *testing.T) {
	down := &named{name: "down", err: &channel.TemporaryError{Reason: "not bound", Err: channel.ErrUnavailable}}
	refuses := &named{name: "refuses", err: &channel.RouteError{Code: 11, Reason: "ESME_RINVDSTADR"}}
	ok := &named{name: "ok"}
	reg := registry{"down": down, "refuses": refuses, "ok": ok}
	for _, tc := range []struct {
		route     []string
		status    message.Status
		connector string
		code      int
	}{
		{[]string{"down", "refuses", "ok"}, message.Sent, "ok", 0},
		{[]string{"refuses", "refuses"}, message.DeliveryFailed, "", 11},
	} {
		router := dispatch.NewTableRouter(reg, nil)
		router.SetRoutes([]store.Route{{Connectors: tc.route}})
		st, d, a := setupWith(t, router)
		m := msg(a, "31612345678")
		if err := st.AcceptMessages(context.Background(), []*message.Message{m}); err != nil {
			t.Fatal(err)
		}
		d.Notify()
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := statuses(t, st, a, m.ID)["31612345678"]
			if r.Status == tc.status && (tc.connector == "" || r.Connector == tc.connector) && r.StatusErrorCode == tc.code {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("route %v: recipient %+v, want %s via %q code %d", tc.route, r, tc.status, tc.connector, tc.code)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
