// Package metrics holds omnigate's Prometheus collectors. One *Metrics is
// made per process by the app wiring and handed to each component; nothing is
// registered globally.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/omnigate/omnigate/internal/store"
)

// Metrics are the platform's counters, gauges and histograms.
type Metrics struct {
	Registry *prometheus.Registry

	// Accepted counts recipients accepted, by channel.
	Accepted *prometheus.CounterVec
	// Refused counts messages billing refused, by channel and reason
	// (balance, usage_limit).
	Refused *prometheus.CounterVec
	// Compliance counts compliance decisions by rule and outcome.
	Compliance *prometheus.CounterVec
	// Inbound counts messages received from handsets, by channel.
	Inbound *prometheus.CounterVec
	// Statuses counts recipients reaching a status, by channel, connector
	// and status (sent, delivered, delivery_failed, expired …).
	Statuses *prometheus.CounterVec
	// SendErrors counts submissions a connector refused, by connector and
	// kind (temporary, permanent).
	SendErrors *prometheus.CounterVec
	// Receipts counts carriers' delivery receipts by connector and result
	// (matched a part, or kept pending).
	Receipts *prometheus.CounterVec
	// Webhooks counts webhook calls by kind (report, inbound) and result
	// (ok, retry, wait, dropped).
	Webhooks *prometheus.CounterVec
	// HTTPDuration observes API request latency by route, method and status.
	HTTPDuration *prometheus.HistogramVec
	// CommitBatch observes how many rows each group commit wrote.
	CommitBatch *prometheus.HistogramVec
	// UnknownParams counts request parameters a door ignored because it
	// does not know them, by door and parameter name; count them with
	// UnknownParam, which bounds the names.
	UnknownParams *prometheus.CounterVec
	// ConnectionsRefused counts connections refused by a limit, by
	// listener (api, realtime) and reason (http_per_ip: the address holds
	// its TCP connections; ws_per_ip: its WebSockets; ws_full: WebSockets
	// hold all the descriptors they may).
	ConnectionsRefused *prometheus.CounterVec
	// Auth counts failed authentications and the attempts refused for them.
	Auth AuthMetrics
	// Mail counts the SMTP listeners' work (inbound, submission).
	Mail MailMetrics
	// OutcomeCommitRetries counts what became of jobs' outcomes whose
	// commit failed, by job kind and result: retry (an attempt failed and
	// another follows), extended (the job's lease was extended meanwhile),
	// recovered (recorded after failing), abandoned (given up; the job
	// runs again when its lease ends).
	OutcomeCommitRetries *prometheus.CounterVec

	unknownMu    sync.Mutex
	unknownNames map[string]bool // parameter names with a series of their own
}

// Parameter names are chosen by clients, so the label set is bounded: the
// first MaxUnknownParamNames distinct names a process sees (of at most 64
// letters, digits and . _ -) get a series of their own; any other name is
// counted as OtherParam.
const (
	MaxUnknownParamNames = 50
	OtherParam           = "_other"
)

// UnknownParam counts one unknown parameter a door ignored.
func (m *Metrics) UnknownParam(door, name string) {
	m.UnknownParams.WithLabelValues(door, m.unknownLabel(name)).Inc()
}

func (m *Metrics) unknownLabel(name string) string {
	if !plainName(name) {
		return OtherParam
	}
	m.unknownMu.Lock()
	defer m.unknownMu.Unlock()
	if m.unknownNames[name] {
		return name
	}
	if len(m.unknownNames) >= MaxUnknownParamNames {
		return OtherParam
	}
	m.unknownNames[name] = true
	return name
}

// plainName reports whether a parameter name is short and made of letters,
// digits and . _ - only.
func plainName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// New makes the collectors and registers them, with Go and process metrics.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_messages_accepted_total", Help: "Recipients accepted for sending.",
		}, []string{"channel"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_messages_refused_total", Help: "Messages refused by billing (not enough balance, usage limit).",
		}, []string{"channel", "reason"}),
		Compliance: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_compliance_decisions_total", Help: "Compliance decisions by rule and outcome.",
		}, []string{"rule", "outcome"}),
		Inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_messages_inbound_total", Help: "Messages received from handsets.",
		}, []string{"channel"}),
		Statuses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_recipient_status_total", Help: "Recipients reaching a status.",
		}, []string{"channel", "connector", "status"}),
		SendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_send_errors_total", Help: "Submissions a connector refused.",
		}, []string{"connector", "kind"}),
		Receipts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_receipts_total", Help: "Delivery receipts received, by connector and result (matched, pending).",
		}, []string{"connector", "result"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_webhook_deliveries_total", Help: "Webhook calls (status reports, inbound messages) by result.",
		}, []string{"kind", "result"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "omnigate_http_request_duration_seconds", Help: "API request latency.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "code"}),
		CommitBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "omnigate_commit_batch_rows", Help: "Rows written per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}, []string{"what"}),
		UnknownParams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_api_unknown_parameters_total",
			Help: "Request parameters a door ignored because it does not know them (the first 50 names get their own series, the rest _other).",
		}, []string{"door", "parameter"}),
		ConnectionsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_connections_refused_total",
			Help: "Connections refused by a connection limit, by listener and reason (http_per_ip, ws_per_ip, ws_full).",
		}, []string{"listener", "reason"}),
		OutcomeCommitRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "omnigate_outcome_commit_retries_total",
			Help: "Jobs' outcomes whose commit failed, by kind and result (retry, extended, recovered, abandoned: the job runs again).",
		}, []string{"kind", "result"}),
		unknownNames: map[string]bool{},
	}
	m.Registry.MustRegister(m.Accepted, m.Refused, m.Compliance, m.Inbound, m.Statuses, m.Receipts, m.SendErrors, m.Webhooks, m.HTTPDuration, m.CommitBatch, m.UnknownParams, m.ConnectionsRefused, m.OutcomeCommitRetries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Auth = newAuthMetrics(m.Registry)
	m.Mail = newMailMetrics(m.Registry)
	return m
}

// WatchQueue exports queue depth and the age of the oldest due job, read
// from the store at each scrape.
func (m *Metrics) WatchQueue(q store.Queue, log *slog.Logger) {
	m.Registry.MustRegister(&queueCollector{q: q, log: log})
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

var (
	depthDesc  = prometheus.NewDesc("omnigate_queue_jobs", "Jobs in the queue, by kind.", []string{"kind"}, nil)
	oldestDesc = prometheus.NewDesc("omnigate_queue_oldest_due_seconds", "Age of the oldest due job, by kind.", []string{"kind"}, nil)
)

type queueCollector struct {
	q   store.Queue
	log *slog.Logger
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.q.QueueStats(ctx)
	if err != nil {
		c.log.Warn("metrics: reading queue stats", "err", err)
		return
	}
	for _, kind := range []string{store.JobSend, store.JobReport, store.JobInbound, store.JobAlert, store.JobTopUp} {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(st.Depth[kind]), kind)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, st.OldestDue[kind].Seconds(), kind)
	}
}
