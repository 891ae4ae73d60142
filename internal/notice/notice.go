// Package notice tells account owners what concerns their account — usage
// alerts, compliance notices (a suspension, a proof request, a
// reinstatement), realtime usage — by a signed webhook to the account's
// alert URL and by email (SMTP) to its alert addresses. Each notice is a
// job of kind store.JobAlert, written in the transaction of the change it
// reports (Job), so none is lost; the Notifier delivers and retries them.
package notice

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
	"github.com/omnigate/omnigate/internal/worker"
)

// Notice is a word to an account — a compliance case opened, an account
// suspended — posted to the account's alert URL and mailed to its alert
// addresses.
type Notice struct {
	Type    string         `json:"type"` // e.g. "compliance.proof_requested"
	Subject string         `json:"subject"`
	Text    string         `json:"text"`
	Data    map[string]any `json:"data,omitempty"`
}

// Job is the job that delivers a notice; enqueue it with the change it
// reports.
func Job(accountID string, nt Notice, now time.Time) *store.Job {
	payload, _ := json.Marshal(nt)
	return &store.Job{Kind: store.JobAlert, AccountID: accountID, Payload: payload, RunAt: now, CreatedAt: now}
}

// UsageAlert is what a usage-alert job carries (the store writes it when a
// charge crosses 80 % or 100 % of a limit) and what the alert webhook
// posts (plus the account id and the time).
type UsageAlert struct {
	Metric      string `json:"metric"`
	Channel     string `json:"channel"`
	Period      string `json:"period"`
	PeriodStart string `json:"periodStart"`
	Threshold   int    `json:"threshold"`
	Used        int64  `json:"used"`
	Limit       int64  `json:"limit"`
	Policy      string `json:"policy"`
}

// Config says how accounts are told.
type Config struct {
	// Pool tunes leasing of notice jobs; its Kind is set to store.JobAlert.
	Pool worker.Config
	// SMTPAddr is the mail server (host:port) notice emails go through;
	// empty: no email is sent (webhooks still are).
	SMTPAddr string
	// SMTPFrom is the sender address of notice emails; default
	// "omnigate@localhost".
	SMTPFrom string
	// Timeout bounds one webhook or SMTP exchange; default 10 s.
	Timeout time.Duration
	// Retry spaces attempts; default 10 s doubling to 1 hour.
	Retry worker.Backoff
	// MaxAttempts before a notice is dropped; default 12.
	MaxAttempts int
}

// Notifier delivers notices and usage alerts from their jobs.
type Notifier struct {
	cfg    Config
	store  store.Store
	client *http.Client
	log    *slog.Logger
	pool   *worker.Pool
}

// New makes a notifier; Start runs it.
func New(cfg Config, st store.Store, log *slog.Logger) *Notifier {
	if cfg.SMTPFrom == "" {
		cfg.SMTPFrom = "omnigate@localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cfg.Retry, cfg.MaxAttempts = worker.RetryDefaults(cfg.Retry, cfg.MaxAttempts)
	n := &Notifier{cfg: cfg, store: st, log: log,
		client: &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cfg.Pool.Kind = store.JobAlert
	handle := worker.Retrying(n.deliver, cfg.Retry, cfg.MaxAttempts, log, "notice: dropped after retries")
	n.pool = worker.New(cfg.Pool, st, handle, nil, log)
	return n
}

// Start runs the notifier until Stop.
func (n *Notifier) Start() { n.pool.Start() }

// Notify wakes the notifier after a commit that queued notices or alerts.
func (n *Notifier) Notify() { n.pool.Notify() }

// Stop finishes what is in progress.
func (n *Notifier) Stop(ctx context.Context) error { return n.pool.Stop(ctx) }

// deliver makes one attempt at a notice or usage alert.
func (n *Notifier) deliver(ctx context.Context, j *store.Job) error {
	var kind struct {
		Type string `json:"type"`
	}
	var p UsageAlert
	var nt Notice
	err := json.Unmarshal(j.Payload, &kind)
	if err == nil && kind.Type != "" {
		err = json.Unmarshal(j.Payload, &nt)
	} else if err == nil {
		err = json.Unmarshal(j.Payload, &p)
	}
	if err != nil {
		n.log.Error("notice: undecodable alert job dropped", "err", err)
		return nil
	}
	a, err := n.store.GetAccount(ctx, j.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if nt.Type == "" {
		nt = usageNotice(a, p)
	}
	var errs []error
	if a.AlertURL != "" {
		errs = append(errs, n.post(ctx, a, nt, p))
	}
	if len(a.AlertEmails) > 0 && n.cfg.SMTPAddr != "" {
		errs = append(errs, n.mail(a, nt))
	}
	return errors.Join(errs...)
}

// post sends the alert or notice as JSON, signed like status reports. A
// usage alert carries its figures at the top level, as it always has.
func (n *Notifier) post(ctx context.Context, a *store.Account, nt Notice, p UsageAlert) error {
	now := time.Now().UTC().Format(time.RFC3339)
	var body []byte
	if nt.Type == "usage_alert" {
		body, _ = json.Marshal(struct {
			Type      string `json:"type"`
			AccountID string `json:"accountId"`
			UsageAlert
			Time string `json:"createdDatetime"`
		}{nt.Type, a.ID, p, now})
	} else {
		body, _ = json.Marshal(struct {
			AccountID string `json:"accountId"`
			Notice
			Time string `json:"createdDatetime"`
		}{a.ID, nt, now})
	}
	token := webhook.SignJWT(a.SigningKey, a.AlertURL, body, time.Now())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.AlertURL, bytes.NewReader(body))
	if err != nil {
		n.log.Warn("notice: alert URL is unusable", "account", a.ID, "err", err)
		return nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderSignatureJWT, token)
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting alert: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alert URL answered %s", resp.Status)
	}
	return nil
}

// usageNotice words a usage alert.
func usageNotice(a *store.Account, p UsageAlert) Notice {
	what := fmt.Sprintf("%s %s", p.Channel, p.Metric)
	if p.Metric == store.MetricSpend {
		what = "spend"
	}
	after := "Sending continues (overage is allowed on this limit)."
	if p.Policy == store.PolicyBlock && p.Threshold >= 100 {
		after = "Further sending is blocked until the period ends or the limit is raised."
	}
	return Notice{Type: "usage_alert",
		Subject: fmt.Sprintf("Usage alert: %d%% of your %s limit for this %s", p.Threshold, what, p.Period),
		Text: fmt.Sprintf("Account %s (%s) has used %d of its %s limit of %d for the %s starting %s.\n%s",
			a.Name, a.ID, p.Used, what, p.Limit, p.Period, p.PeriodStart, after)}
}

// mail sends the notice to the account's addresses.
func (n *Notifier) mail(a *store.Account, nt Notice) error {
	subject := mime.QEncoding.Encode("utf-8", strings.NewReplacer("\r", " ", "\n", " ").Replace(nt.Subject))
	body := strings.ReplaceAll(strings.ReplaceAll(nt.Text, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
	msg := "From: " + n.cfg.SMTPFrom + "\r\nTo: " + strings.Join(a.AlertEmails, ", ") + "\r\nSubject: " + subject +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
	if err := n.sendMail(a.AlertEmails, []byte(msg)); err != nil {
		return fmt.Errorf("mailing alert: %w", err)
	}
	return nil
}

// MailTo mails a plain-text message to the addresses given (a console
// invitation to its invitee, a compromise report to an account's owners),
// through the notice mail server. Without one (Config.SMTPAddr empty) it
// sends nothing and says so.
func (n *Notifier) MailTo(to []string, subject, text string) error {
	if n.cfg.SMTPAddr == "" {
		return errors.New("notice: no mail server is configured")
	}
	for _, a := range to {
		if strings.ContainsAny(a, "\r\n,") {
			return fmt.Errorf("notice: %q is not one address", a)
		}
	}
	subject = mime.QEncoding.Encode("utf-8", strings.NewReplacer("\r", " ", "\n", " ").Replace(subject))
	body := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
	msg := "From: " + n.cfg.SMTPFrom + "\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: " + subject +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
	if err := n.sendMail(to, []byte(msg)); err != nil {
		return fmt.Errorf("mailing: %w", err)
	}
	return nil
}

// sendMail is smtp.SendMail with a deadline on the whole exchange.
func (n *Notifier) sendMail(to []string, msg []byte) error {
	conn, err := net.DialTimeout("tcp", n.cfg.SMTPAddr, n.cfg.Timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(n.cfg.Timeout))
	host, _, _ := net.SplitHostPort(n.cfg.SMTPAddr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if err := c.Mail(n.cfg.SMTPFrom); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
