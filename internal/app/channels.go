package app

import (
	"github.com/omnigate/omnigate/internal/channel"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/channel/sms"
)

// Channels is the registry of the channels and connector kinds omnigate
// runs, filled here and nowhere else: a new channel or connector kind is
// one line in this function (see docs/architecture.md).
func Channels() *channel.Registry {
	reg := channel.NewRegistry()
	reg.AddChannel(sms.Spec(sms.Config{}))
	reg.AddKind(smppconn.Kind())
	return reg
}
