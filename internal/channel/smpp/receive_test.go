package smpp

import (
	"testing"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/smpp/dlr"
)

func TestReceiptStatus(t *testing.T) {
	for st, want := range map[dlr.State]message.Status{
		dlr.Delivered: message.Delivered, dlr.Expired: message.Expired, dlr.Undeliverable: message.DeliveryFailed,
		dlr.Rejected: message.DeliveryFailed, dlr.Deleted: message.DeliveryFailed, dlr.Unknown: message.DeliveryFailed,
		dlr.Enroute: message.Buffered, dlr.Accepted: message.Buffered, dlr.StateUnknownValue: message.Buffered,
	} {
		if got := receiptStatus(st); got != want {
			t.Errorf("%s → %s, want %s", st, got, want)
		}
		if st != dlr.StateUnknownValue && st.Final() != want.Final() {
			t.Errorf("%s: Final %v but status %s", st, st.Final(), want)
		}
	}
}
