// Package accounts creates tenants and their access keys — the operations
// behind `omnigate account create`, `omnigate key create` and the demo.
package accounts

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/auth"
	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/store"
)

// New describes an account to create.
type New struct {
	Name     string
	Currency string // ISO 4217; default "EUR"
	Balance  int64  // micro-units
	// ReportURL is the default status-report URL; "" for none.
	ReportURL string
}

// Created is a new account with the keys that are shown only now.
type Created struct {
	Account *store.Account
	LiveKey string
	TestKey string
}

// Create stores an account with one live and one test key.
func Create(ctx context.Context, st store.Accounts, n New) (*Created, error) {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" || len(n.Name) > 200 {
		return nil, fmt.Errorf("account name must be 1 to 200 characters")
	}
	if n.Currency == "" {
		n.Currency = "EUR"
	}
	n.Currency = strings.ToUpper(n.Currency)
	if !billing.ValidCurrency(n.Currency) {
		return nil, fmt.Errorf("currency %q is not an ISO 4217 code such as EUR", n.Currency)
	}
	if n.Balance < 0 {
		return nil, fmt.Errorf("a starting balance cannot be negative")
	}
	if err := CheckReportURL(n.ReportURL); err != nil {
		return nil, err
	}
	a := &store.Account{
		ID:         ids.New(),
		Name:       n.Name,
		Currency:   n.Currency,
		Balance:    n.Balance,
		ReportURL:  n.ReportURL,
		SigningKey: ids.Secret(40),
		CreatedAt:  time.Now().UTC(),
	}
	live, liveKey := auth.NewKey(a.ID, false)
	test, testKey := auth.NewKey(a.ID, true)
	if err := st.CreateAccount(ctx, a, []*store.AccessKey{liveKey, testKey}); err != nil {
		return nil, err
	}
	return &Created{Account: a, LiveKey: live, TestKey: test}, nil
}

// CreateKey adds a key to an account and returns its text, shown only now.
// store.ErrNotFound if the account does not exist.
func CreateKey(ctx context.Context, st store.Accounts, accountID string, test bool) (string, error) {
	text, k := auth.NewKey(accountID, test)
	if err := st.CreateAccessKey(ctx, k); err != nil {
		return "", err
	}
	return text, nil
}

// SetInboundURL changes where an account's inbound messages are forwarded.
func SetInboundURL(ctx context.Context, st store.Inbound, id, inboundURL string) error {
	if err := CheckReportURL(inboundURL); err != nil {
		return err
	}
	return st.SetInboundURL(ctx, id, inboundURL)
}

// CheckReportURL accepts "" or an absolute http(s) URL.
func CheckReportURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || len(u) > 2048 {
		return fmt.Errorf("report URL %q is not an absolute http or https URL", u)
	}
	return nil
}

// SetReportURL changes an account's default status-report URL.
func SetReportURL(ctx context.Context, st store.Accounts, id, reportURL string) error {
	if err := CheckReportURL(reportURL); err != nil {
		return err
	}
	return st.SetReportURL(ctx, id, reportURL)
}
