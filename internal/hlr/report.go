package hlr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/webhook"
	"github.com/omnigate/omnigate/internal/worker"
)

// Defaults of ReportConfig.
const (
	DefaultReportTimeout     = 10 * time.Second
	DefaultReportMaxAttempts = 10
)

// ReportConfig tunes the delivery of HLR answers to accounts' HLR report
// URLs. Zero values mean the documented defaults.
type ReportConfig struct {
	// Pool tunes leasing of report jobs; its Kind is set to
	// store.JobHLRReport.
	Pool worker.Config
	// Timeout bounds one call; default 10 s.
	Timeout time.Duration
	// MaxAttempts calls a report URL this often before the report is
	// dropped (and logged); default 10, spaced by Retry (default 10 s
	// doubling to 1 hour).
	MaxAttempts int
	Retry       worker.Backoff
	// Client makes the calls; default an http.Client with Timeout that
	// follows no redirects.
	Client *http.Client
}

// reporter delivers HLR answers: a GET of the report URL with the query's
// fields as parameters (id, reference, msisdn, network, status,
// createdDatetime, statusDatetime), signed as status reports are
// (MessageBird-Signature-JWT and the legacy MessageBird-Signature).
type reporter struct {
	cfg   ReportConfig
	store store.Store
}

func newReporter(cfg ReportConfig, st store.Store) *reporter {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultReportTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultReportMaxAttempts
	}
	cfg.Retry, _ = worker.RetryDefaults(cfg.Retry, cfg.MaxAttempts)
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &reporter{cfg: cfg, store: st}
}

// report delivers one answer; an error is retried.
func (r *reporter) report(ctx context.Context, j *store.Job) error {
	var p struct {
		HLR string `json:"hlr"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return nil // undecodable: nothing to report
	}
	q, err := r.store.GetHLR(ctx, j.AccountID, p.HLR)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	set, err := r.store.GetHLRSettings(ctx, j.AccountID)
	if err != nil {
		return err
	}
	if set.ReportURL == "" {
		return nil // switched off since
	}
	acct, err := r.store.GetAccount(ctx, j.AccountID)
	if err != nil {
		return err
	}
	u, err := url.Parse(set.ReportURL)
	if err != nil {
		return nil // validated when set; nothing to call
	}
	query := u.Query()
	query.Set("id", q.ID)
	query.Set("reference", q.Reference)
	query.Set("msisdn", q.MSISDN)
	query.Set("network", strconv.Itoa(q.Network))
	query.Set("status", q.Status)
	query.Set("createdDatetime", q.CreatedAt.UTC().Format(message.TimeLayout))
	query.Set("statusDatetime", q.StatusAt.UTC().Format(message.TimeLayout))
	u.RawQuery = query.Encode()
	full := u.String()

	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, full, nil)
	if err != nil {
		return nil
	}
	webhook.SignRequest(req, acct, full, query, nil, time.Now())
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("calling the HLR report URL: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the HLR report URL answered %s", strings.TrimSpace(resp.Status))
	}
	return nil
}
