package connlimit

import "sync/atomic"

// Gate bounds how many of something are held at once (the WebSocket
// sockets a server holds: see Reserve). It is safe for concurrent use.
type Gate struct {
	max int64
	n   atomic.Int64
}

// NewGate makes a gate of max (max <= 0: no bound, only counting).
func NewGate(max int) *Gate { return &Gate{max: int64(max)} }

// Acquire takes one, or returns false when max are held. Every true must
// be followed by one Release.
func (g *Gate) Acquire() bool {
	for {
		n := g.n.Load()
		if g.max > 0 && n >= g.max {
			return false
		}
		if g.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Release gives back what Acquire took.
func (g *Gate) Release() { g.n.Add(-1) }

// Held is how many are held now.
func (g *Gate) Held() int { return int(g.n.Load()) }

// Max is the bound; 0 means none.
func (g *Gate) Max() int { return int(max(g.max, 0)) }
