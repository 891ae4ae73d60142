//go:build !linux

package realtime

// idlePoller is Linux only (epoll): elsewhere every connection keeps its
// reader goroutine.
type idlePoller struct{}

func sharedIdlePoller() *idlePoller { return nil }

func (p *idlePoller) register(c *conn) bool { return false }

func (p *idlePoller) arm(c *conn, add bool) bool { return false }

func (p *idlePoller) forget(c *conn) {}
