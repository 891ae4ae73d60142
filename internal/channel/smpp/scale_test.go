package smpp_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/smsc"
)

// A leased connector opens no bind at Start, then as many as Scale says
// (tx+rx: a transmitter and a receiver per slot), closing the newest
// first, never more than its binds; after Stop, Scale opens nothing.
func TestScale(t *testing.T) {
	srv, err := smsc.Start(smsc.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	host, port, _ := net.SplitHostPort(srv.Addr())
	p, _ := strconv.Atoi(port)
	c, err := smppconn.New("carrier", smppconn.Settings{Host: host, Port: p, SystemID: "omnigate", Binds: 3, BindMode: smppconn.BindTxRx,
		ReconnectMin: smppconn.Duration(20 * time.Millisecond)}, &sink{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total() != 3 {
		t.Fatalf("Total = %d, want 3", c.Total())
	}
	c.Leased()
	c.Start()
	time.Sleep(100 * time.Millisecond) // long enough to bind, had it tried
	if n := srv.Bound(); n != 0 {
		t.Fatalf("a leased connector bound %d sessions at Start, want 0", n)
	}
	for _, step := range []struct{ scale, senders, sessions int }{{2, 2, 4}, {5, 3, 6}, {1, 1, 2}, {0, 0, 0}, {1, 1, 2}} {
		c.Scale(step.scale)
		waitFor(t, "binds after Scale("+strconv.Itoa(step.scale)+")", func() bool {
			return c.Bound() == step.senders && srv.Bound() == step.sessions
		})
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Scale(3)
	waitFor(t, "no session after Stop", func() bool { return srv.Bound() == 0 })
}
