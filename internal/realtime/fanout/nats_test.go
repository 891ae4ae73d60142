package fanout_test

import (
	"strings"
	"testing"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/realtime/fanout"
	"github.com/omnigate/omnigate/internal/realtime/fanout/fanouttest"
	"github.com/omnigate/omnigate/internal/realtime/natstest"
)

func TestNATS(t *testing.T) {
	url := natstest.URL(t)
	fanouttest.Run(t, func(t *testing.T) func() fanout.Broker {
		prefix := "test." + strings.ToLower(ids.New()[12:]) // a cluster of its own
		return func() fanout.Broker {
			b, err := fanout.NewNATS(fanout.NATSConfig{URL: url, Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	})
}

func TestNATSRejectsBadPrefix(t *testing.T) {
	for _, p := range []string{"a..b", "a.*", "with space", ".x", "x>"} {
		if _, err := fanout.NewNATS(fanout.NATSConfig{Prefix: p}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}
