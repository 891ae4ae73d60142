package message

// Status is a recipient's delivery status, with MessageBird's names.
type Status string

// Statuses a recipient moves through.
const (
	Scheduled      Status = "scheduled"       // waiting for its scheduled time
	Sent           Status = "sent"            // accepted by the platform or handed to a carrier
	Buffered       Status = "buffered"        // the carrier holds it; not delivered yet
	Delivered      Status = "delivered"       // final: the handset has it
	Expired        Status = "expired"         // final: validity passed before delivery
	DeliveryFailed Status = "delivery_failed" // final: it will not be delivered
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	switch s {
	case Scheduled, Sent, Buffered, Delivered, Expired, DeliveryFailed:
		return true
	}
	return false
}

// Final reports whether no further change can follow s.
func (s Status) Final() bool {
	return s == Delivered || s == Expired || s == DeliveryFailed
}

// rank orders statuses so that a late or duplicate report never moves a
// recipient backwards (a receipt can overtake the submit response).
func (s Status) rank() int {
	switch s {
	case Scheduled:
		return 0
	case Sent:
		return 1
	case Buffered:
		return 2
	case Delivered, Expired, DeliveryFailed:
		return 3
	}
	return -1
}

// CanTransition reports whether a recipient in status from may move to to.
// Final statuses never change; otherwise a status may only move forward.
// Sent→sent is allowed so a submit can record its connector.
func CanTransition(from, to Status) bool {
	if !from.Valid() || !to.Valid() || from.Final() {
		return false
	}
	if to == Scheduled {
		return false
	}
	return to.rank() >= from.rank()
}

// DefaultReason is the statusReason MessageBird shows for a status when no
// carrier-specific reason is known.
func (s Status) DefaultReason() string {
	switch s {
	case Scheduled:
		return "scheduled"
	case Sent:
		return "successfully sent"
	case Buffered:
		return "pending DLR"
	case Delivered:
		return "successfully delivered"
	case Expired:
		return "expired"
	case DeliveryFailed:
		return "delivery failed"
	}
	return ""
}

// Predecessors lists the statuses from which a recipient changes when it
// moves to to: every non-final status ranked below it. Stores use it to
// apply a transition with one conditional update.
func Predecessors(to Status) []Status {
	var out []Status
	for _, s := range []Status{Scheduled, Sent, Buffered} {
		if s.rank() < to.rank() {
			out = append(out, s)
		}
	}
	return out
}

// RollUp derives a recipient's status from the statuses of its parts (a
// long SMS is several submissions, each with its own receipt): failed if
// any part failed, expired if any expired, delivered when every part is,
// buffered while some are on their way, sent before any receipt.
func RollUp(parts []Status) Status {
	if len(parts) == 0 {
		return Sent
	}
	delivered, progressed := 0, false
	expired := false
	for _, p := range parts {
		switch p {
		case DeliveryFailed:
			return DeliveryFailed
		case Expired:
			expired = true
		case Delivered:
			delivered++
			progressed = true
		case Buffered:
			progressed = true
		}
	}
	switch {
	case expired:
		return Expired
	case delivered == len(parts):
		return Delivered
	case progressed:
		return Buffered
	}
	return Sent
}
