package smpp

import "sync/atomic"

// Sequence hands out sequence numbers 1, 2, … [MaxSeq], then 1 again, as
// SMPP 3.4 §5.1.2.4 requires. The zero value is ready to use and starts at
// 1. It is safe for concurrent use.
type Sequence struct {
	n atomic.Uint32
}

// Next returns the next sequence number.
func (s *Sequence) Next() uint32 {
	for {
		old := s.n.Load()
		next := old + 1
		if next > MaxSeq {
			next = 1
		}
		if s.n.CompareAndSwap(old, next) {
			return next
		}
	}
}
