package fanout_test

import (
	"testing"

	"github.com/omnigate/omnigate/internal/realtime/fanout"
	"github.com/omnigate/omnigate/internal/realtime/fanout/fanouttest"
)

func TestMemory(t *testing.T) {
	fanouttest.Run(t, func(t *testing.T) func() fanout.Broker {
		bus := fanout.NewMemoryBus()
		return func() fanout.Broker { return bus.Broker() }
	})
}
