package realtime

// AppConnections is how many connections an app has open on this node
// (the console shows it; across a cluster, each node counts its own).
func (s *Server) AppConnections(appID string) int {
	s.hub.mu.RLock()
	defer s.hub.mu.RUnlock()
	if a := s.hub.apps[appID]; a != nil {
		return len(a.conns)
	}
	return 0
}
