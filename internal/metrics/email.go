package metrics

import "github.com/prometheus/client_golang/prometheus"

// MailMetrics count what omnigate's own SMTP listeners took: the inbound
// listener (bounces, complaints, unsubscribes) and the submission door.
type MailMetrics struct {
	// Inbound counts mails the inbound listener answered, by result
	// (bounce, delay, complaint, unsubscribe, ignored, unknown_message,
	// refused_rcpt, error).
	Inbound *prometheus.CounterVec
	// Bounces counts bounces by category (internal/email/bounce).
	Bounces *prometheus.CounterVec
	// Submissions counts messages the submission door was given, by
	// result (accepted, refused, invalid, error).
	Submissions *prometheus.CounterVec
	// Sessions counts SMTP sessions by listener (inbound, submission).
	Sessions *prometheus.CounterVec
}

func newMailMetrics(reg prometheus.Registerer) MailMetrics {
	m := MailMetrics{
		Inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_mail_inbound_total", Help: "Mails taken by the inbound SMTP listener, by result.",
		}, []string{"result"}),
		Bounces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_mail_bounces_total", Help: "Email bounces recorded, by category.",
		}, []string{"category"}),
		Submissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_smtp_submissions_total", Help: "Messages given to the SMTP submission door, by result.",
		}, []string{"result"}),
		Sessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_smtp_sessions_total", Help: "SMTP sessions opened, by listener (inbound, submission).",
		}, []string{"listener"}),
	}
	reg.MustRegister(m.Inbound, m.Bounces, m.Submissions, m.Sessions)
	return m
}
