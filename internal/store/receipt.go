package store

import "time"

// ReceiptClockSkew is how far after a receipt's arrival the carrier's own
// time for the status may lie and still be believed.
const ReceiptClockSkew = time.Minute

// StatusTime is the time to record for the receipt's status, given the
// recipient's previous status time: the carrier's own time (At) when it is
// plausible — not later than the receipt's arrival by more than
// ReceiptClockSkew, and not before prev — otherwise the arrival. (An SMPP
// done date has minute precision and the SMSC's unknown time zone: hours
// off, or before the submission it reports on.) The store still records no
// status time before the recipient's previous one or its creation.
func (r Receipt) StatusTime(prev time.Time) time.Time {
	arrived := r.ReceivedAt
	if arrived.IsZero() {
		arrived = time.Now()
	}
	if !r.At.IsZero() && !r.At.After(arrived.Add(ReceiptClockSkew)) && !r.At.Before(prev) {
		return r.At.UTC()
	}
	return arrived.UTC()
}
