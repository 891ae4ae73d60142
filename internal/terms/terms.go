// Package terms keeps what the platform's operator promises accounts
// besides prices: the versions of the terms of service and each account's
// acceptance of them (ACCT-7), and the list of sub-processors that handle
// personal data (PRIV-7). Publishing a version or changing the list
// announces it to every account through notices, written in the same
// transaction as the change.
package terms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/store"
)

// Notice types.
const (
	NoticePublished            = "terms.published"
	NoticeSubprocessorsChanged = "subprocessors.changed"
	maxVersion, maxSummary     = 64, 2000
	maxSubprocessors, maxField = 200, 200
	maxURL                     = 2048
)

// InvalidError names the parameter that is wrong and why.
type InvalidError struct{ Param, Msg string }

func (e *InvalidError) Error() string { return e.Param + ": " + e.Msg }

func invalid(param, format string, a ...any) error {
	return &InvalidError{Param: param, Msg: fmt.Sprintf(format, a...)}
}

// Publish stores a new version of the terms, effective at effective
// (zero: now), and announces it to every account.
func Publish(ctx context.Context, st store.Store, version, link, summary string, effective, now time.Time) (*store.TermsVersion, error) {
	version, summary = strings.TrimSpace(version), strings.TrimSpace(summary)
	if version == "" || len(version) > maxVersion || strings.IndexFunc(version, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_')
	}) >= 0 {
		return nil, invalid("version", "a version is 1–%d letters, digits, dots, dashes or underscores", maxVersion)
	}
	if u, err := url.Parse(link); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(link) > maxURL {
		return nil, invalid("url", "url is the absolute http(s) address of the terms' text")
	}
	if summary == "" || utf8.RuneCountInString(summary) > maxSummary {
		return nil, invalid("summary", "a summary of what changed is required, at most %d characters", maxSummary)
	}
	if effective.IsZero() {
		effective = now
	}
	v := store.TermsVersion{Version: version, URL: link, Summary: summary, EffectiveAt: effective.UTC(), PublishedAt: now.UTC()}
	nt := notice.Notice{Type: NoticePublished, Subject: "Our terms of service change on " + v.EffectiveAt.Format("2 January 2006"),
		Text: fmt.Sprintf("Version %s of the terms of service takes effect on %s: %s\n\nRead it at %s and accept it (POST /terms/accept).",
			version, v.EffectiveAt.Format(time.RFC3339), summary, link),
		Data: map[string]any{"version": version, "url": link, "summary": summary, "effectiveAt": v.EffectiveAt.Format(time.RFC3339)}}
	jobs, err := toEveryAccount(ctx, st, nt, now)
	if err != nil {
		return nil, err
	}
	if err := st.PublishTerms(ctx, v, jobs); errors.Is(err, store.ErrConflict) {
		return nil, invalid("version", "version %s is published already; versions do not change", version)
	} else if err != nil {
		return nil, err
	}
	return &v, nil
}

// Current is the newest published version and the account's acceptance
// of it (nil if not accepted); nil, nil when none was ever published.
func Current(ctx context.Context, st store.Store, accountID string) (*store.TermsVersion, *store.TermsAcceptance, error) {
	list, err := st.ListTerms(ctx)
	if err != nil || len(list) == 0 {
		return nil, nil, err
	}
	v := list[0]
	acc, err := st.TermsAcceptances(ctx, accountID, v.Version)
	if err != nil || len(acc) == 0 {
		return &v, nil, err
	}
	return &v, &acc[0], nil
}

// Accept records the account's acceptance of version by who, from ip.
func Accept(ctx context.Context, st store.Store, accountID, version, by, ip string, now time.Time) (*store.TermsAcceptance, error) {
	a := store.TermsAcceptance{AccountID: accountID, Version: strings.TrimSpace(version), AcceptedBy: by, IP: ip, AcceptedAt: now.UTC()}
	if a.Version == "" {
		return nil, invalid("version", "say which version you accept (GET /terms)")
	}
	if err := st.AcceptTerms(ctx, a); errors.Is(err, store.ErrNotFound) {
		return nil, invalid("version", "no version %s; GET /terms names the current one", a.Version)
	} else if err != nil {
		return nil, err
	}
	got, err := st.TermsAcceptances(ctx, accountID, a.Version)
	if err != nil || len(got) == 0 {
		return &a, err
	}
	return &got[0], nil // an earlier acceptance stays the record
}

// SetSubprocessors replaces the sub-processor list and, when it changed,
// tells every account what was added and removed.
func SetSubprocessors(ctx context.Context, st store.Store, list []store.Subprocessor, now time.Time) (changed bool, err error) {
	if len(list) > maxSubprocessors {
		return false, invalid("subprocessors", "at most %d sub-processors", maxSubprocessors)
	}
	seen := map[string]bool{}
	for i := range list {
		p := &list[i]
		p.Name, p.Purpose, p.Location = strings.TrimSpace(p.Name), strings.TrimSpace(p.Purpose), strings.TrimSpace(p.Location)
		for _, f := range []struct{ name, v string }{{"name", p.Name}, {"purpose", p.Purpose}, {"location", p.Location}} {
			if f.v == "" || utf8.RuneCountInString(f.v) > maxField {
				return false, invalid(fmt.Sprintf("subprocessors[%d].%s", i, f.name), "%s is required, at most %d characters", f.name, maxField)
			}
		}
		if seen[strings.ToLower(p.Name)] {
			return false, invalid(fmt.Sprintf("subprocessors[%d].name", i), "%s is listed twice", p.Name)
		}
		seen[strings.ToLower(p.Name)] = true
	}
	old, _, err := st.Subprocessors(ctx)
	if err != nil {
		return false, err
	}
	added, removed := diff(list, old), diff(old, list)
	if len(added) == 0 && len(removed) == 0 && len(old) == len(list) {
		return false, nil
	}
	var text strings.Builder
	text.WriteString("The list of sub-processors that handle personal data for us changed.\n")
	for _, p := range added {
		fmt.Fprintf(&text, "\nAdded: %s (%s, %s)", p.Name, p.Purpose, p.Location)
	}
	for _, p := range removed {
		fmt.Fprintf(&text, "\nRemoved: %s (%s, %s)", p.Name, p.Purpose, p.Location)
	}
	text.WriteString("\n\nThe whole list: GET /subprocessors.")
	nt := notice.Notice{Type: NoticeSubprocessorsChanged, Subject: "Our sub-processors changed", Text: text.String(),
		Data: map[string]any{"added": nonNil(added), "removed": nonNil(removed)}}
	jobs, err := toEveryAccount(ctx, st, nt, now)
	if err != nil {
		return false, err
	}
	return true, st.SetSubprocessors(ctx, list, now.UTC(), jobs)
}

// diff is what a has that b does not (compared whole).
func diff(a, b []store.Subprocessor) []store.Subprocessor {
	var out []store.Subprocessor
	for _, p := range a {
		if !slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}

func nonNil(l []store.Subprocessor) []store.Subprocessor {
	if l == nil {
		return []store.Subprocessor{}
	}
	return l
}

// toEveryAccount makes the notice jobs that announce nt to every account.
func toEveryAccount(ctx context.Context, st store.Store, nt notice.Notice, now time.Time) ([]*store.Job, error) {
	accts, err := st.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	jobs := make([]*store.Job, 0, len(accts))
	for _, a := range accts {
		jobs = append(jobs, notice.Job(a.ID, nt, now.UTC()))
	}
	return jobs, nil
}
