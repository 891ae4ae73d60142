package smsc

import (
	"context"
	"errors"
	"testing"

	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smpp/session"
)

// MaxBinds refuses a third bind of one system_id with ESME_RBINDFAIL, as
// carriers do, lets another system_id bind, and takes a bind again once
// one of the two has gone.
func TestMaxBindsPerSystemID(t *testing.T) {
	srv, err := Start(Config{Listen: "127.0.0.1:0", MaxBinds: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	ctx := context.Background()
	bind := func(id string) (*session.Session, error) {
		return session.Dial(ctx, srv.Addr(), &codec.Bind{Kind: codec.BindTransceiver, SystemID: id, InterfaceVersion: codec.InterfaceVersion34},
			session.Config{}, session.HandlerFunc(func(context.Context, *session.Session, codec.PDU) codec.PDU { return nil }))
	}
	var open []*session.Session
	for i := 0; i < 2; i++ {
		s, err := bind("acme")
		if err != nil {
			t.Fatalf("bind %d: %v", i+1, err)
		}
		open = append(open, s)
	}
	_, err = bind("acme")
	var refused *session.BindError
	if !errors.As(err, &refused) || refused.Status != codec.ESME_RBINDFAIL {
		t.Fatalf("third bind: %v, want ESME_RBINDFAIL", err)
	}
	if got := srv.Stats().Refused.Load(); got != 1 {
		t.Fatalf("refused = %d, want 1", got)
	}
	other, err := bind("other")
	if err != nil {
		t.Fatalf("another system_id: %v", err)
	}
	defer other.Close(ctx)
	if err := open[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	<-open[0].Done()
	// The server forgets the session when it sees it end; bind until it has.
	var again *session.Session
	for again == nil {
		if again, err = bind("acme"); err != nil && !errors.As(err, &refused) {
			t.Fatal(err)
		}
	}
	again.Close(ctx)
	open[1].Close(ctx)
}
