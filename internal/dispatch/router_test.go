package dispatch_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/channel"
	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/dispatch"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// named is a connector that does what it is told.
type named struct {
	name    string
	err     error
	channel string // "" for sms
}

func (n *named) Name() string { return n.name }
func (n *named) Channel() string {
	if n.channel == "" {
		return message.ChannelSMS
	}
	return n.channel
}
func (n *named) Start()                         {}
func (n *named) Stop(ctx context.Context) error { return nil }
func (n *named) Up() int                        { return 1 }
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
	for _, n := range []string{"a", "b", "c", "d", "e", "s"} {
		reg[n] = &named{name: n}
	}
	for _, n := range []string{"mx1", "mx2"} {
		reg[n] = &named{name: n, channel: "email"}
	}
	sms := func(p destination.Pattern, conns ...string) store.Route {
		return store.Route{Channel: "sms", Pattern: p, Connectors: conns}
	}
	vip := sms(destination.Pattern{Country: "NL"}, "e")
	vip.AccountID = "vip"
	acme := sms(destination.Pattern{}, "s")
	acme.Sender = "Acme"
	r := dispatch.NewTableRouter(reg)
	r.SetRoutes([]store.Route{
		sms(destination.Pattern{}, "a"),                       // catch-all
		sms(destination.Pattern{Country: "NL"}, "b", "a"),     // a country
		sms(destination.Pattern{Prefix: "316"}, "c"),          // a prefix beats the country
		sms(destination.Pattern{Prefix: "3161"}, "d", "gone"), // the longest prefix wins; unknown names are skipped
		vip,
		acme, // a route for one sender comes before routes for any
		{Channel: "email", Connectors: []string{"mx1"}},
		{Channel: "email", Pattern: destination.Pattern{Domain: "example.com"}, Connectors: []string{"mx2", "a"}}, // a is not email: skipped
	})
	for _, tc := range []struct {
		account, channel, from, address, country string
		want                                     []string
	}{
		{"x", "sms", "", "4915112345678", "DE", []string{"a"}},
		{"x", "sms", "", "31201234567", "NL", []string{"b", "a"}},
		{"x", "sms", "", "31612345678", "NL", []string{"d"}},
		{"x", "sms", "", "31651234567", "NL", []string{"c"}},
		{"vip", "sms", "", "31612345678", "NL", []string{"e"}}, // an account's own routes come first
		{"vip", "sms", "", "4915112345678", "DE", []string{"a"}},
		{"x", "sms", "Acme", "31612345678", "NL", []string{"s"}},
		{"x", "email", "", "ann@example.com", "", []string{"mx2"}},
		{"x", "email", "", "bob@mail.example.com", "", []string{"mx2"}},
		{"x", "email", "", "cy@example.org", "", []string{"mx1"}},
	} {
		got, err := r.Route(&message.Message{AccountID: tc.account, Channel: tc.channel, Originator: tc.from},
			&message.Recipient{Address: tc.address, Country: tc.country})
		if err != nil || !slices.Equal(names(got), tc.want) {
			t.Errorf("%s %s → %s: %v, %v; want %v", tc.account, tc.channel, tc.address, names(got), err, tc.want)
		}
	}
	if _, err := r.Route(&message.Message{Channel: "whatsapp"}, &message.Recipient{Address: "31612345678"}); err != dispatch.ErrNoRoute {
		t.Errorf("a channel without routes: %v", err)
	}
	empty := dispatch.NewTableRouter(reg)
	sms1 := &message.Message{Channel: "sms"}
	if _, err := empty.Route(sms1, &message.Recipient{Address: "1"}); err != dispatch.ErrNoRoute {
		t.Errorf("no routes: %v", err)
	}
	empty.SetFallback(reg["e"])
	if got, _ := empty.Route(sms1, &message.Recipient{Address: "1"}); !slices.Equal(names(got), []string{"e"}) {
		t.Errorf("fallback: %v", names(got))
	}
	if _, err := empty.Route(&message.Message{Channel: "email"}, &message.Recipient{Address: "a@b.c"}); err != dispatch.ErrNoRoute {
		t.Errorf("the sms fallback took email: %v", err)
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
		router := dispatch.NewTableRouter(reg)
		router.SetRoutes([]store.Route{{Channel: "sms", Connectors: tc.route}})
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
