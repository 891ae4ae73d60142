package metrics

import "github.com/prometheus/client_golang/prometheus"

// AuthMetrics count authentication failures and the attempts refused for
// them (internal/authguard).
type AuthMetrics struct {
	// Failures counts failed authentications by door (api, admin,
	// pusher) and reason (unknown_key, revoked_key, bad_token,
	// bad_signature …).
	Failures *prometheus.CounterVec
	// Limited counts attempts refused (429) because their source address
	// or credential prefix failed too often, by door and scope (address,
	// prefix).
	Limited *prometheus.CounterVec
}

func newAuthMetrics(reg prometheus.Registerer) AuthMetrics {
	m := AuthMetrics{
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_auth_failures_total", Help: "Failed authentications, by door (api, admin, pusher) and reason.",
		}, []string{"door", "reason"}),
		Limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_auth_limited_total", Help: "Authentication attempts refused for too many failures, by door and scope (address, prefix).",
		}, []string{"door", "scope"}),
	}
	reg.MustRegister(m.Failures, m.Limited)
	return m
}

// WatchAuditTrail exports how many audit records were dropped because the
// log could not keep up; dropped reads the count.
func (m *Metrics) WatchAuditTrail(dropped func() int64) {
	m.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "omnigate_audit_dropped_total", Help: "Audit trail records dropped because the log could not keep up.",
	}, func() float64 { return float64(dropped()) }))
}
