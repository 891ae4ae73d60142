// Package privacy answers data-subject requests (PRIV-2) and runs the
// retention schedule (PRIV-1).
//
// A request is about one person's identifier — a phone number, an email
// address or a chat id — and is one of four kinds: access (an export of
// everything held, JSON and CSV in a zip), erasure (removed or
// irreversibly anonymised, keeping what law requires and saying what and
// why), restriction (nothing is processed or sent to the identifier, on
// any channel, until the request is closed: compliance rule
// privacy.restricted) and rectification (the account's contact records
// changed). An account's request covers that account's data; an
// operator's covers every account. Requests are answered at once where
// they can be; each has a 30-day deadline that can be extended once by 60
// days with a reason, reminders to the account 7 days before and when
// overdue, and a history.
//
// Erasure reaches the live database only. Backups are reached by
// crypto-shredding, which belongs to encryption at rest (issue 19 item 3),
// not to this package.
package privacy

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/notice"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// Deadlines (PRIV-2: one month, extendable by two).
const (
	Deadline  = 30 * 24 * time.Hour
	Extension = 60 * 24 * time.Hour
	RemindAt  = 7 * 24 * time.Hour // before the deadline
)

// Identifier kinds.
const (
	Phone = "phone"
	Email = "email"
	Chat  = "chat"
)

// Errors callers match with errors.Is; they are the caller's fault and their
// text says what to change.
var (
	ErrInvalid = errors.New("invalid request")
)

// Service answers requests over a store.
type Service struct {
	Store store.Store
	Log   *slog.Logger
	// Now is the clock (tests move it); default time.Now.
	Now func() time.Time
	// Notify is called after notices were enqueued or a restriction
	// changed (the app wakes its notifier).
	Notify func()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// Normalize says what an identifier is and gives it in the form the store
// holds it: international digits for a phone number, an email address
// lower-cased, a chat id as given. kind may be "" to infer it.
func Normalize(identifier, kind string) (string, string, error) {
	id := strings.TrimSpace(identifier)
	if id == "" {
		return "", "", fmt.Errorf("%w: identifier is required (a phone number, an email address or a chat id)", ErrInvalid)
	}
	if len(id) > 320 || !utf8.ValidString(id) {
		return "", "", fmt.Errorf("%w: identifier is too long or not UTF-8", ErrInvalid)
	}
	if kind == "" {
		switch {
		case strings.Contains(id, "@"):
			kind = Email
		default:
			if _, err := phone.Parse(id); err == nil {
				kind = Phone
			} else {
				kind = Chat
			}
		}
	}
	switch kind {
	case Phone:
		n, err := phone.Parse(id)
		if err != nil {
			return "", "", fmt.Errorf("%w: %q is not a phone number in international form (e.g. +31612345678)", ErrInvalid, id)
		}
		return n.MSISDN, Phone, nil
	case Email:
		a, err := mail.ParseAddress(id)
		if err != nil || a.Address != id {
			return "", "", fmt.Errorf("%w: %q is not an email address", ErrInvalid, id)
		}
		return strings.ToLower(id), Email, nil
	case Chat:
		if strings.ContainsAny(id, " \t\r\n") {
			return "", "", fmt.Errorf("%w: a chat id has no spaces", ErrInvalid)
		}
		return id, Chat, nil
	}
	return "", "", fmt.Errorf("%w: type %q: use phone, email or chat", ErrInvalid, kind)
}

// Open is a new request.
type Open struct {
	AccountID  string // "" for an operator's request over every account
	Identifier string
	Type       string // phone, email, chat or "" to infer
	Kind       string // access, erasure, restriction, rectification
	Note       string
	// Changes are a rectification's new contact fields.
	Changes *store.ContactChanges
	Actor   string
}

// Open stores a request and answers it at once where it can.
func (s *Service) Open(ctx context.Context, o Open) (*store.PrivacyRequest, error) {
	switch o.Kind {
	case store.PrivacyAccess, store.PrivacyErasure, store.PrivacyRestriction, store.PrivacyRectification:
	default:
		return nil, fmt.Errorf("%w: kind %q: use access, erasure, restriction or rectification", ErrInvalid, o.Kind)
	}
	id, kind, err := Normalize(o.Identifier, o.Type)
	if err != nil {
		return nil, err
	}
	if len(o.Note) > 2000 {
		return nil, fmt.Errorf("%w: note is longer than 2000 characters", ErrInvalid)
	}
	var changes string
	if o.Kind == store.PrivacyRectification {
		if o.Changes == nil || (o.Changes.FirstName == nil && o.Changes.LastName == nil && o.Changes.Custom == [4]*string{}) {
			return nil, fmt.Errorf("%w: a rectification needs changes (firstName, lastName, custom1…custom4)", ErrInvalid)
		}
		if kind != Phone {
			return nil, fmt.Errorf("%w: contact records are kept by phone number; a %s cannot be rectified (nothing else about it is editable)", ErrInvalid, kind)
		}
		b, _ := json.Marshal(changesJSON(o.Changes))
		changes = string(b)
	}
	now := s.now()
	r := &store.PrivacyRequest{ID: ids.New(), AccountID: o.AccountID, Identifier: id, IDKind: kind, Kind: o.Kind,
		Status: store.PrivacyOpen, OpenedBy: o.Actor, Note: o.Note, Changes: changes, CreatedAt: now, DueAt: now.Add(Deadline)}
	if err := s.Store.CreatePrivacyRequest(ctx, r); err != nil {
		return nil, err
	}
	if err := s.process(ctx, r, o.Changes, o.Actor); err != nil {
		return nil, err
	}
	return s.Store.GetPrivacyRequest(ctx, "*", r.ID)
}

func changesJSON(c *store.ContactChanges) map[string]string {
	m := map[string]string{}
	if c.FirstName != nil {
		m["firstName"] = *c.FirstName
	}
	if c.LastName != nil {
		m["lastName"] = *c.LastName
	}
	for i, v := range c.Custom {
		if v != nil {
			m[fmt.Sprintf("custom%d", i+1)] = *v
		}
	}
	return m
}

// accounts are the accounts a request covers.
func (s *Service) accounts(ctx context.Context, r *store.PrivacyRequest) ([]string, error) {
	if r.AccountID != "" {
		return []string{r.AccountID}, nil
	}
	return s.Store.PrivacyAccounts(ctx)
}

// process answers a request that is open or in progress.
func (s *Service) process(ctx context.Context, r *store.PrivacyRequest, changes *store.ContactChanges, actor string) error {
	now := s.now()
	complete := func(outcome string, export []byte) error {
		return s.Store.UpdatePrivacyRequest(ctx, r.ID, store.PrivacyRequestChange{Status: store.PrivacyCompleted, Outcome: outcome,
			Export: export, CompletedAt: now, Event: store.PrivacyEvent{Status: store.PrivacyCompleted, Detail: outcome, Actor: actor, At: now}})
	}
	accounts, err := s.accounts(ctx, r)
	if err != nil {
		return err
	}
	switch r.Kind {
	case store.PrivacyAccess:
		zip, rows, err := s.export(ctx, r, accounts)
		if err != nil {
			return err
		}
		outcome := fmt.Sprintf("export of %d records across %d accounts", rows, len(accounts))
		if rows == 0 {
			outcome = "nothing is held about this identifier; the export is empty"
		}
		return complete(outcome, zip)
	case store.PrivacyErasure:
		return s.erase(ctx, r, accounts, actor)
	case store.PrivacyRestriction:
		if err := s.Store.Restrict(ctx, r.AccountID, r.Identifier, r.ID, now); err != nil {
			return err
		}
		if s.Notify != nil {
			s.Notify()
		}
		scope := "this account"
		if r.AccountID == "" {
			scope = "every account"
		}
		return complete("restricted: nothing is processed or sent to this identifier on any channel by "+scope+" (rule "+
			"privacy.restricted) until the request is closed", nil)
	case store.PrivacyRectification:
		if changes == nil {
			var m map[string]string
			if err := json.Unmarshal([]byte(r.Changes), &m); err != nil {
				return fmt.Errorf("request %s: changes: %w", r.ID, err)
			}
			changes = &store.ContactChanges{}
			for k, v := range m {
				v := v
				switch k {
				case "firstName":
					changes.FirstName = &v
				case "lastName":
					changes.LastName = &v
				default:
					var i int
					if _, err := fmt.Sscanf(k, "custom%d", &i); err == nil && i >= 1 && i <= 4 {
						changes.Custom[i-1] = &v
					}
				}
			}
		}
		total := 0
		for _, a := range accounts {
			n, err := s.Store.RectifyContacts(ctx, a, r.Identifier, *changes, now)
			if err != nil {
				return err
			}
			total += n
		}
		outcome := fmt.Sprintf("%d contact records changed. Messages, receipts, consents and decisions are records of what happened and are not rewritten.", total)
		if total == 0 {
			outcome = "no contact record holds this number: nothing to rectify. Messages, receipts, consents and decisions are records of what happened and are not rewritten."
		}
		return complete(outcome, nil)
	}
	return nil
}

// Why each kind of data an erasure keeps is kept.
var keptWhy = map[string]string{
	"consents":             "consent proof is kept for its retention period (5 years by default), then purged by the retention schedule",
	"suppressions":         "kept so that the person is never contacted again (an opt-out must outlive erasure)",
	"suppression_removals": "kept with the suppression list as the record of its changes",
	"proof_cases":          "kept as the record of a compliance investigation of the account",
	"shared_bodies":        "messages also sent to other recipients keep their text for them; this person's address in them is erased",
	"billing":              "ledger entries and statements are kept (10 years) and hold no number",
}

// erase erases in every account the request covers. A send in flight
// leaves the request in progress; the maintenance loop tries again.
func (s *Service) erase(ctx context.Context, r *store.PrivacyRequest, accounts []string, actor string) error {
	now := s.now()
	erased, kept := map[string]int{}, map[string]int{}
	cancelled, inflight := 0, 0
	for _, a := range accounts {
		e, err := s.Store.EraseSubject(ctx, a, r.Identifier, now)
		if err != nil {
			return err
		}
		cancelled += e.Cancelled
		inflight += e.InFlight
		for k, v := range e.Erased {
			erased[k] += v
		}
		for k, v := range e.Kept {
			kept[k] += v
		}
	}
	if inflight > 0 {
		detail := fmt.Sprintf("%d messages to this identifier are being sent right now; erasure runs once they settle", inflight)
		if r.Status == store.PrivacyInProgress {
			return nil
		}
		return s.Store.UpdatePrivacyRequest(ctx, r.ID, store.PrivacyRequestChange{Status: store.PrivacyInProgress, Outcome: detail,
			Event: store.PrivacyEvent{Status: store.PrivacyInProgress, Detail: detail, Actor: actor, At: now}})
	}
	// Backups made before hold what was just erased: the journal beside
	// them has `omnigate restore` erase it again. Not journalled, the
	// request is not complete (the maintenance loop erases and journals
	// again). The wall clock, not the service's: restore compares it with
	// when a backup's copy began.
	for _, a := range accounts {
		if _, err := s.Store.JournalErasure(ctx, a, r.ID, r.Identifier, time.Now()); err != nil {
			return fmt.Errorf("recording the erasure for backups: %w", err)
		}
	}
	kept["billing"] = 1
	var b strings.Builder
	total := 0
	for _, v := range erased {
		total += v
	}
	if total == 0 && cancelled == 0 {
		b.WriteString("nothing to erase: no message, contact, decision or lookup holds this identifier (erased before, or never held).")
	} else {
		fmt.Fprintf(&b, "erased %d records", total)
		if cancelled > 0 {
			fmt.Fprintf(&b, "; %d queued messages to this identifier were cancelled first", cancelled)
		}
		b.WriteString(" (" + counts(erased) + ").")
	}
	b.WriteString(" Kept:")
	for _, k := range sortedKeys(kept) {
		if k == "billing" {
			fmt.Fprintf(&b, " billing — %s;", keptWhy[k])
			continue
		}
		fmt.Fprintf(&b, " %s (%d) — %s;", k, kept[k], keptWhy[k])
	}
	b.WriteString(" Backups: this erasure is recorded, the identifier encrypted, in the erasure journal beside them, and `omnigate restore` applies it again to a backup made before it.")
	return s.Store.UpdatePrivacyRequest(ctx, r.ID, store.PrivacyRequestChange{Status: store.PrivacyCompleted, Outcome: b.String(),
		CompletedAt: now, Event: store.PrivacyEvent{Status: store.PrivacyCompleted, Detail: b.String(), Actor: actor, At: now}})
}

func sortedKeys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func counts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// export builds the access export: per kind a JSON file (an array of
// objects) and a CSV file, and request.json saying what it is.
func (s *Service) export(ctx context.Context, r *store.PrivacyRequest, accounts []string) ([]byte, int, error) {
	merged := map[string]*store.SubjectTable{}
	var order []string
	for _, a := range accounts {
		tables, err := s.Store.SubjectData(ctx, a, r.Identifier)
		if err != nil {
			return nil, 0, err
		}
		for _, t := range tables {
			m := merged[t.Name]
			if m == nil {
				m = &store.SubjectTable{Name: t.Name, Columns: append([]string{"account_id"}, t.Columns...)}
				merged[t.Name] = m
				order = append(order, t.Name)
			}
			for _, row := range t.Rows {
				m.Rows = append(m.Rows, append([]string{a}, row...))
			}
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	rows := 0
	summary := map[string]int{}
	for _, name := range order {
		t := merged[name]
		rows += len(t.Rows)
		summary[name] = len(t.Rows)
		objs := make([]map[string]string, len(t.Rows))
		for i, row := range t.Rows {
			o := make(map[string]string, len(row))
			for j, c := range t.Columns {
				o[c] = row[j]
			}
			objs[i] = o
		}
		w, err := zw.Create(name + ".json")
		if err != nil {
			return nil, 0, err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(objs); err != nil {
			return nil, 0, err
		}
		w, err = zw.Create(name + ".csv")
		if err != nil {
			return nil, 0, err
		}
		cw := csv.NewWriter(w)
		cw.Write(t.Columns)
		cw.WriteAll(t.Rows)
		if err := cw.Error(); err != nil {
			return nil, 0, err
		}
	}
	w, err := zw.Create("request.json")
	if err != nil {
		return nil, 0, err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"id": r.ID, "identifier": r.Identifier, "type": r.IDKind, "accounts": accounts,
		"createdAt": r.CreatedAt.Format(time.RFC3339), "exportedAt": s.now().Format(time.RFC3339), "records": summary}); err != nil {
		return nil, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), rows, nil
}

// Extend moves a request's deadline by 60 days, once, with a reason.
func (s *Service) Extend(ctx context.Context, accountID, id, reason, actor string) (*store.PrivacyRequest, error) {
	r, err := s.Store.GetPrivacyRequest(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return nil, fmt.Errorf("%w: an extension needs a reason (it is told to the person)", ErrInvalid)
	case !r.ExtendedAt.IsZero():
		return nil, fmt.Errorf("%w: the deadline was already extended on %s; it can be extended once", ErrInvalid, r.ExtendedAt.Format(time.RFC3339))
	case r.Done():
		return nil, fmt.Errorf("%w: the request is %s; only a running request can be extended", ErrInvalid, r.Status)
	}
	now := s.now()
	due := r.DueAt.Add(Extension)
	if err := s.Store.UpdatePrivacyRequest(ctx, id, store.PrivacyRequestChange{DueAt: due, ExtendedAt: now, ExtensionReason: reason, ResetReminder: true,
		Event: store.PrivacyEvent{Status: "extended", Detail: "deadline moved to " + due.Format(time.RFC3339) + ": " + reason, Actor: actor, At: now}}); err != nil {
		return nil, err
	}
	return s.Store.GetPrivacyRequest(ctx, "*", id)
}

// Close ends a request; a restriction is lifted.
func (s *Service) Close(ctx context.Context, accountID, id, note, actor string) (*store.PrivacyRequest, error) {
	r, err := s.Store.GetPrivacyRequest(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if r.Status == store.PrivacyClosed {
		return r, nil
	}
	now := s.now()
	if r.Kind == store.PrivacyRestriction {
		if err := s.Store.Unrestrict(ctx, id); err != nil {
			return nil, err
		}
		if note == "" {
			note = "restriction lifted"
		} else {
			note = "restriction lifted: " + note
		}
	}
	ch := store.PrivacyRequestChange{Status: store.PrivacyClosed, Event: store.PrivacyEvent{Status: store.PrivacyClosed, Detail: note, Actor: actor, At: now}}
	if r.CompletedAt.IsZero() {
		ch.CompletedAt = now
	}
	if err := s.Store.UpdatePrivacyRequest(ctx, id, ch); err != nil {
		return nil, err
	}
	if s.Notify != nil {
		s.Notify()
	}
	return s.Store.GetPrivacyRequest(ctx, "*", id)
}

// Maintain finishes erasures that waited for sends in flight and sends
// deadline reminders: 7 days before, and once overdue. It returns the
// notices it enqueued.
func (s *Service) Maintain(ctx context.Context) (int, error) {
	now := s.now()
	running, err := s.Store.ListPrivacyRequests(ctx, store.PrivacyFilter{AccountID: "*", Status: store.PrivacyInProgress, Limit: 100})
	if err != nil {
		return 0, err
	}
	for _, r := range running {
		if r.Kind != store.PrivacyErasure {
			continue
		}
		accounts, err := s.accounts(ctx, r)
		if err != nil {
			return 0, err
		}
		if err := s.erase(ctx, r, accounts, "maintenance"); err != nil {
			s.log().Warn("privacy: erasing", "request", r.ID, "err", err)
		}
	}
	due, err := s.Store.PrivacyDue(ctx, now.Add(RemindAt), 500)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, r := range due {
		var ch store.PrivacyRequestChange
		var nt notice.Notice
		switch {
		case r.DueAt.Before(now) && r.OverdueAt.IsZero():
			ch = store.PrivacyRequestChange{OverdueAt: now, Event: store.PrivacyEvent{Status: "overdue", Detail: "the deadline " + r.DueAt.Format(time.RFC3339) + " has passed", Actor: "maintenance", At: now}}
			nt = notice.Notice{Type: "privacy.request_overdue", Subject: "A data-subject request is overdue",
				Text: fmt.Sprintf("Data-subject request %s (%s) was due on %s and is not answered. Answer it, or record why it is refused.", r.ID, r.Kind, r.DueAt.Format("2006-01-02"))}
		case !r.DueAt.Before(now) && r.RemindedAt.IsZero():
			ch = store.PrivacyRequestChange{RemindedAt: now, Event: store.PrivacyEvent{Status: "reminded", Detail: "due on " + r.DueAt.Format(time.RFC3339), Actor: "maintenance", At: now}}
			nt = notice.Notice{Type: "privacy.request_due", Subject: "A data-subject request is due in 7 days",
				Text: fmt.Sprintf("Data-subject request %s (%s) is due on %s. It can be extended once by 60 days, with a reason.", r.ID, r.Kind, r.DueAt.Format("2006-01-02"))}
		default:
			continue
		}
		nt.Data = map[string]any{"request": r.ID, "kind": r.Kind, "dueAt": r.DueAt.Format(time.RFC3339)}
		if err := s.Store.UpdatePrivacyRequest(ctx, r.ID, ch); err != nil {
			return sent, err
		}
		if r.AccountID == "" {
			s.log().Warn("privacy: "+nt.Subject, "request", r.ID, "kind", r.Kind, "due", r.DueAt)
			continue
		}
		if err := s.Store.EnqueueJob(ctx, notice.Job(r.AccountID, nt, time.Now().UTC())); err != nil {
			return sent, err
		}
		sent++
	}
	return sent, nil
}

// RequestView is a request as the APIs and the CLI show it.
type RequestView struct {
	ID              string      `json:"id"`
	AccountID       string      `json:"accountId,omitempty"`
	Identifier      string      `json:"identifier"`
	Type            string      `json:"type"`
	Kind            string      `json:"kind"`
	Status          string      `json:"status"`
	OpenedBy        string      `json:"openedBy"`
	Note            string      `json:"note,omitempty"`
	Changes         any         `json:"changes,omitempty"`
	Outcome         string      `json:"outcome,omitempty"`
	Export          bool        `json:"export"`
	CreatedAt       string      `json:"createdDatetime"`
	DueAt           string      `json:"dueDatetime"`
	ExtendedAt      string      `json:"extendedDatetime,omitempty"`
	ExtensionReason string      `json:"extensionReason,omitempty"`
	CompletedAt     string      `json:"completedDatetime,omitempty"`
	History         []EventView `json:"history,omitempty"`
}

// EventView is one step of a request's history.
type EventView struct {
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Actor  string `json:"actor,omitempty"`
	At     string `json:"datetime"`
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// View is r as shown, with its history when given. A phone number is
// shown in E.164 (with "+").
func View(r *store.PrivacyRequest, history []store.PrivacyEvent) RequestView {
	v := RequestView{ID: r.ID, AccountID: r.AccountID, Identifier: r.Identifier, Type: r.IDKind, Kind: r.Kind, Status: r.Status,
		OpenedBy: r.OpenedBy, Note: r.Note, Outcome: r.Outcome, Export: r.HasExport, CreatedAt: rfc(r.CreatedAt), DueAt: rfc(r.DueAt),
		ExtendedAt: rfc(r.ExtendedAt), ExtensionReason: r.ExtensionReason, CompletedAt: rfc(r.CompletedAt)}
	if r.IDKind == Phone {
		v.Identifier = "+" + r.Identifier
	}
	if r.Changes != "" {
		var m map[string]string
		if json.Unmarshal([]byte(r.Changes), &m) == nil {
			v.Changes = m
		}
	}
	for _, e := range history {
		v.History = append(v.History, EventView{Status: e.Status, Detail: e.Detail, Actor: e.Actor, At: rfc(e.At)})
	}
	return v
}

// ChangesFrom reads a rectification's fields (firstName, lastName,
// custom1…custom4); other names are an error.
func ChangesFrom(m map[string]string) (*store.ContactChanges, error) {
	if len(m) == 0 {
		return nil, nil
	}
	c := &store.ContactChanges{}
	for k, v := range m {
		v := v
		if len(v) > 255 {
			return nil, fmt.Errorf("%w: changes.%s is longer than 255 bytes", ErrInvalid, k)
		}
		switch k {
		case "firstName":
			c.FirstName = &v
		case "lastName":
			c.LastName = &v
		case "custom1", "custom2", "custom3", "custom4":
			c.Custom[k[6]-'1'] = &v
		default:
			return nil, fmt.Errorf("%w: changes.%s: contacts have firstName, lastName and custom1…custom4", ErrInvalid, k)
		}
	}
	return c, nil
}

// Validate checks a request without storing it (a test key's).
func Validate(o Open) error {
	switch o.Kind {
	case store.PrivacyAccess, store.PrivacyErasure, store.PrivacyRestriction, store.PrivacyRectification:
	default:
		return fmt.Errorf("%w: kind %q: use access, erasure, restriction or rectification", ErrInvalid, o.Kind)
	}
	_, kind, err := Normalize(o.Identifier, o.Type)
	if err != nil {
		return err
	}
	if o.Kind == store.PrivacyRectification && (o.Changes == nil || kind != Phone) {
		return fmt.Errorf("%w: a rectification needs changes and a phone number (contact records are kept by number)", ErrInvalid)
	}
	return nil
}

// Invalid reads an ErrInvalid error for an API's answer: the parameter it
// is about ("" when none is named) and the description without the
// "invalid request: " prefix; ok is false for other errors.
func Invalid(err error) (param, desc string, ok bool) {
	if !errors.Is(err, ErrInvalid) {
		return "", "", false
	}
	desc = strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
	for _, p := range []string{"identifier", "kind", "type", "changes", "reason", "note", "accountId"} {
		if strings.Contains(desc, p) {
			return p, desc, true
		}
	}
	return "", desc, true
}
