package smppserver

import (
	"strings"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/smpp"
)

// A long message arrives as parts (UDH or SAR); they are joined into one
// message before it is accepted. Every part's response waits for the last
// part and carries the message's id, so a client needs a window of at
// least the number of parts. Parts that do not complete within PartsWait
// are answered ESME_RSUBMITFAIL.
type concatKey struct {
	account, source, dest string
	ref, total            int
}

type partial struct {
	parts    []string
	have     int
	unicode  bool
	binary   bool
	receipts byte
	done     chan struct{}
	once     sync.Once
	// The completing part's result, read by the others after done.
	id     string
	status smpp.Status
}

func (p *partial) finish(id string, st smpp.Status) {
	p.once.Do(func() { p.id, p.status = id, st; close(p.done) })
}

// join adds a part. It returns the whole message when this part completes
// it (the caller accepts it and calls finish), or nil and the partial to
// wait on; nil, nil when too many long messages are incomplete.
func (s *Server) join(account string, in parsed) (*parsed, *partial) {
	k := concatKey{account, in.source, in.dest, in.ref, in.total}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.concats[k]
	if p == nil {
		if len(s.concats) >= maxPendingConcats {
			return nil, nil
		}
		p = &partial{parts: make([]string, in.total), done: make(chan struct{})}
		s.concats[k] = p
		time.AfterFunc(s.cfg.PartsWait, func() {
			s.mu.Lock()
			if s.concats[k] == p {
				delete(s.concats, k)
			}
			s.mu.Unlock()
			p.finish("", smpp.ESME_RSUBMITFAIL)
		})
	}
	if p.parts[in.seq-1] == "" {
		p.have++
	}
	p.parts[in.seq-1] = in.text
	p.unicode = p.unicode || in.unicode
	p.binary = p.binary || in.binary
	if p.receipts != smpp.RegisteredDeliveryReceipt && in.receipts != 0 {
		p.receipts = in.receipts // the part asking for most: all receipts, then failures
	}
	if p.have < in.total {
		return nil, p
	}
	delete(s.concats, k)
	whole := in
	whole.text = strings.Join(p.parts, "")
	whole.unicode, whole.binary, whole.receipts = p.unicode, p.binary, p.receipts
	whole.total, whole.seq = 1, 1
	return &whole, p
}
