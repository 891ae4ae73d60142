package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// heldRunAt is the run_at of a held message's send job: never due until an
// operator releases it.
const heldRunAt = int64(1) << 62

// AddConsents appends to the consent ledger and keeps suppressions in step.
func (s *Store) AddConsents(ctx context.Context, cs []*store.Consent) error {
	for _, c := range cs {
		if len(c.Evidence) > 0 {
			if err := s.ensureScopes(ctx, c.AccountID); err != nil {
				return err
			}
		}
	}
	return s.inTx(ctx, "recording consent", func(tx *sql.Tx) error {
		for _, c := range cs {
			if c.CreatedAt.IsZero() {
				c.CreatedAt = time.Now().UTC()
			}
			ev, err := s.consentEvidence(ctx, c)
			if err != nil {
				return fmt.Errorf("recording consent: %w", err)
			}
			if err := tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO consents (account_id, recipient, purpose, action, legal_age, categories, source, evidence, actor, created_at, channel)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), c.AccountID, c.Recipient, c.Purpose, c.Action, c.LegalAge,
				strings.Join(c.Categories, ","), c.Source, ev, c.Actor, micros(c.CreatedAt), c.Channel).Scan(&c.ID); err != nil {
				return fmt.Errorf("recording consent: %w", err)
			}
			ch, addr := consentSuppression(c)
			switch c.Action {
			case store.OptOut:
				if _, err := s.addSuppression(ctx, tx, c.AccountID, store.Suppression{Channel: ch, Recipient: addr,
					Reason: store.SuppressOptOut, Actor: consentActor(c), CreatedAt: c.CreatedAt}); err != nil {
					return fmt.Errorf("suppressing: %w", err)
				}
			case store.OptIn:
				if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM suppressions WHERE account_id = ? AND channel = ? AND recipient = ? AND reason = ?`),
					c.AccountID, ch, addr, store.OptOut); err != nil {
					return fmt.Errorf("lifting suppression: %w", err)
				}
			}
		}
		return nil
	})
}

// consentEvidence is a consent's evidence as the ledger stores it: JSON,
// sealed with the account's key when there is any (a text, an IP, a form
// are personal data; msgcrypt.go).
func (s *Store) consentEvidence(ctx context.Context, c *store.Consent) (string, error) {
	evidence, err := json.Marshal(c.Evidence)
	if err != nil {
		return "", err
	}
	if len(c.Evidence) == 0 {
		return string(evidence), nil
	}
	return s.sealText(ctx, c.AccountID, consentAAD(c.AccountID, c.Recipient, micros(c.CreatedAt)), string(evidence))
}

// consentSuppression is the suppression a consent's opt-out adds and its
// opt-in lifts: on the entry's channel, else the address's (a phone
// number's opt-out, STOP, suppresses SMS, an email address's email, a STOP
// over WhatsApp WhatsApp), the address as the list keeps it.
func consentSuppression(c *store.Consent) (channel, address string) {
	channel = c.Channel
	if channel == "" {
		channel = store.AddressChannel(c.Recipient)
	}
	return channel, store.SuppressionAddress(channel, c.Recipient)
}

// consentActor says who an opt-out's suppression came from.
func consentActor(c *store.Consent) string {
	if c.Actor != "" {
		return c.Actor
	}
	return "consent:" + c.Source
}

const consentColumns = `id, account_id, recipient, purpose, action, legal_age, categories, source, evidence, actor, created_at, channel`

// consentAAD is the associated data of a consent's evidence: the entry's
// id is not known before it is inserted, so its account, recipient and
// time name it.
func consentAAD(accountID, recipient string, created int64) string {
	return fmt.Sprintf("consents.evidence/%s/%s/%d", accountID, recipient, created)
}

func (s *Store) scanConsent(ctx context.Context, row interface{ Scan(...any) error }) (store.Consent, error) {
	var c store.Consent
	var categories, evidence string
	var created int64
	if err := row.Scan(&c.ID, &c.AccountID, &c.Recipient, &c.Purpose, &c.Action, &c.LegalAge, &categories, &c.Source, &evidence, &c.Actor, &created, &c.Channel); err != nil {
		return c, err
	}
	if categories != "" {
		c.Categories = strings.Split(categories, ",")
	}
	erased, err := s.openText(ctx, consentAAD(c.AccountID, c.Recipient, created), &evidence)
	if err != nil {
		return c, err
	}
	if erased {
		c.Evidence = map[string]string{"erased": store.Erased}
	} else {
		json.Unmarshal([]byte(evidence), &c.Evidence)
	}
	c.CreatedAt = fromMicros(created)
	return c, nil
}

// Consents is a recipient's history, oldest first.
func (s *Store) Consents(ctx context.Context, accountID, recipient string) ([]store.Consent, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+consentColumns+` FROM consents WHERE account_id = ? AND recipient = ? ORDER BY id`), accountID, recipient)
	if err != nil {
		return nil, fmt.Errorf("reading consents: %w", err)
	}
	defer rows.Close()
	out := []store.Consent{}
	for rows.Next() {
		c, err := s.scanConsent(ctx, rows)
		if err != nil {
			return nil, fmt.Errorf("reading consents: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LatestConsents is the newest entry per recipient for a purpose.
func (s *Store) LatestConsents(ctx context.Context, accountID, purpose string, recipients []string) (map[string]store.Consent, error) {
	out := map[string]store.Consent{}
	if len(recipients) == 0 {
		return out, nil
	}
	args := append([]any{accountID, purpose}, strings2any(recipients)...)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+consentColumns+` FROM consents WHERE account_id = ? AND purpose = ? AND recipient IN (`+
		placeholders(len(recipients))+`) ORDER BY id`), args...)
	if err != nil {
		return nil, fmt.Errorf("reading consents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := s.scanConsent(ctx, rows)
		if err != nil {
			return nil, fmt.Errorf("reading consents: %w", err)
		}
		out[c.Recipient] = c // ordered by id: the last one wins
	}
	return out, rows.Err()
}

// AddSuppression adds a suppression; one that exists keeps its reason (a
// manual entry must not turn an opt-out into something removable).
func (s *Store) AddSuppression(ctx context.Context, accountID string, sp store.Suppression) error {
	if _, err := s.addSuppression(ctx, s.w, accountID, sp); err != nil {
		return fmt.Errorf("adding suppression: %w", err)
	}
	return nil
}

// execer is a database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// addSuppression inserts one suppression unless the address has one on the
// channel; it reports whether it was new.
func (s *Store) addSuppression(ctx context.Context, db execer, accountID string, sp store.Suppression) (bool, error) {
	if sp.CreatedAt.IsZero() {
		sp.CreatedAt = time.Now().UTC()
	}
	res, err := db.ExecContext(ctx, s.d.rebind(`INSERT INTO suppressions (account_id, channel, recipient, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, channel, recipient) DO NOTHING`), accountID, sp.Channel, store.SuppressionAddress(sp.Channel, sp.Recipient),
		sp.Reason, sp.Actor, micros(sp.CreatedAt))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// AddSuppressions adds many in one transaction.
func (s *Store) AddSuppressions(ctx context.Context, accountID string, ss []store.Suppression) (int, error) {
	added := 0
	err := s.inTx(ctx, "importing suppressions", func(tx *sql.Tx) error {
		added = 0
		for _, sp := range ss {
			ok, err := s.addSuppression(ctx, tx, accountID, sp)
			if err != nil {
				return fmt.Errorf("importing suppressions: %w", err)
			}
			if ok {
				added++
			}
		}
		return nil
	})
	return added, err
}

// RemoveSuppression deletes a suppression and records its removal in the
// same transaction.
func (s *Store) RemoveSuppression(ctx context.Context, accountID string, rm store.SuppressionRemoval) (*store.SuppressionRemoval, error) {
	if rm.RemovedAt.IsZero() {
		rm.RemovedAt = time.Now().UTC()
	}
	rm.Recipient = store.SuppressionAddress(rm.Channel, rm.Recipient)
	err := s.inTx(ctx, "removing suppression", func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, s.d.rebind(`DELETE FROM suppressions WHERE account_id = ? AND channel = ? AND recipient = ?
			RETURNING reason, actor, created_at`), accountID, rm.Channel, rm.Recipient).Scan(&rm.Reason, &rm.Actor, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("removing suppression: %w", err)
		}
		rm.CreatedAt = fromMicros(created)
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO suppression_removals (account_id, channel, recipient, reason, actor, created_at,
			removed_by, removal_reason, removed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), accountID, rm.Channel, rm.Recipient, rm.Reason, rm.Actor,
			created, rm.RemovedBy, rm.RemovalReason, micros(rm.RemovedAt)); err != nil {
			return fmt.Errorf("recording the removal: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rm, nil
}

// likePattern escapes s for LIKE … ESCAPE '\'.
func likePattern(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Suppressions lists an account's suppressions with filters.
func (s *Store) Suppressions(ctx context.Context, accountID string, f store.SuppressionFilter) ([]store.Suppression, error) {
	q := `SELECT channel, recipient, reason, actor, created_at FROM suppressions WHERE account_id = ?`
	args := []any{accountID}
	if f.Channel != "" {
		q += ` AND channel = ?`
		args = append(args, f.Channel)
	}
	if f.Reason != "" {
		q += ` AND reason = ?`
		args = append(args, f.Reason)
	}
	if f.Prefix != "" {
		q += ` AND recipient LIKE ? ESCAPE '\'`
		args = append(args, likePattern(f.Prefix)+"%")
	}
	if f.Contains != "" {
		q += ` AND LOWER(recipient) LIKE ? ESCAPE '\'`
		args = append(args, "%"+likePattern(strings.ToLower(f.Contains))+"%")
	}
	if !f.Since.IsZero() {
		q += ` AND created_at >= ?`
		args = append(args, micros(f.Since))
	}
	q += ` ORDER BY created_at DESC, channel, recipient`
	if f.Limit > 0 || f.Offset > 0 {
		limit := int64(f.Limit)
		if limit <= 0 {
			limit = 1 << 62
		}
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit, f.Offset)
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing suppressions: %w", err)
	}
	defer rows.Close()
	out := []store.Suppression{}
	for rows.Next() {
		var sp store.Suppression
		var created int64
		if err := rows.Scan(&sp.Channel, &sp.Recipient, &sp.Reason, &sp.Actor, &created); err != nil {
			return nil, fmt.Errorf("listing suppressions: %w", err)
		}
		sp.CreatedAt = fromMicros(created)
		out = append(out, sp)
	}
	return out, rows.Err()
}

// SuppressionRemovals is the removal history, newest first.
func (s *Store) SuppressionRemovals(ctx context.Context, accountID, channel, recipient string, limit int) ([]store.SuppressionRemoval, error) {
	q := `SELECT channel, recipient, reason, actor, created_at, removed_by, removal_reason, removed_at FROM suppression_removals WHERE account_id = ?`
	args := []any{accountID}
	if channel != "" {
		q += ` AND channel = ?`
		args = append(args, channel)
	}
	if recipient != "" {
		q += ` AND recipient = ?`
		args = append(args, store.SuppressionAddress(channel, recipient))
	}
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q+` ORDER BY id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading suppression removals: %w", err)
	}
	defer rows.Close()
	out := []store.SuppressionRemoval{}
	for rows.Next() {
		var r store.SuppressionRemoval
		var created, removed int64
		if err := rows.Scan(&r.Channel, &r.Recipient, &r.Reason, &r.Actor, &created, &r.RemovedBy, &r.RemovalReason, &removed); err != nil {
			return nil, fmt.Errorf("reading suppression removals: %w", err)
		}
		r.CreatedAt, r.RemovedAt = fromMicros(created), fromMicros(removed)
		out = append(out, r)
	}
	return out, rows.Err()
}

// matchKeys are the stored forms of recipients on a channel, and the
// recipients each one stands for.
func matchKeys(channel string, recipients []string) ([]string, map[string][]string) {
	keys := make([]string, 0, len(recipients))
	back := make(map[string][]string, len(recipients))
	for _, r := range recipients {
		k := store.SuppressionAddress(channel, r)
		if _, ok := back[k]; !ok {
			keys = append(keys, k)
		}
		back[k] = append(back[k], r)
	}
	return keys, back
}

// Suppressed reports which recipients are suppressed on a channel.
func (s *Store) Suppressed(ctx context.Context, accountID, channel string, recipients []string) (map[string]string, error) {
	out := map[string]string{}
	if len(recipients) == 0 {
		return out, nil
	}
	keys, back := matchKeys(channel, recipients)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT recipient, reason FROM suppressions WHERE account_id = ? AND channel = ? AND recipient IN (`+
		placeholders(len(keys))+`)`), append([]any{accountID, channel}, strings2any(keys)...)...)
	if err != nil {
		return nil, fmt.Errorf("reading suppressions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r, why string
		if err := rows.Scan(&r, &why); err != nil {
			return nil, fmt.Errorf("reading suppressions: %w", err)
		}
		for _, orig := range back[r] {
			out[orig] = why
		}
	}
	return out, rows.Err()
}

// Screen answers the engine's three questions with one statement.
func (s *Store) Screen(ctx context.Context, accountID, channel string, recipients []string, marketing bool, since time.Time) (*store.Screening, error) {
	out := &store.Screening{Latest: map[string]store.Consent{}, Suppressed: map[string]string{}, Listed: map[string]string{},
		Originators: map[string][]string{}, Restricted: map[string]string{}}
	if len(recipients) == 0 {
		return out, nil
	}
	keys, back := matchKeys(channel, recipients)
	q := `SELECT 1, recipient, reason, FALSE, 0 FROM suppressions WHERE account_id = ? AND channel = ? AND recipient IN (` + placeholders(len(keys)) + `)`
	args := append([]any{accountID, channel}, strings2any(keys)...)
	// Restrictions hold identifiers as privacy requests normalise them:
	// email addresses lower-cased, whatever the channel.
	lower, backLower := restrictionKeys(recipients)
	q += ` UNION ALL SELECT 4, identifier, request_id, FALSE, 0 FROM privacy_restrictions WHERE account_id IN (?, '') AND identifier IN (` + placeholders(len(lower)) + `)`
	args = append(append(args, accountID), strings2any(lower)...)
	dndQuery, dndArgs := dndLookup(&s.d, `2, d.prefix, d.registry, FALSE, 0`, recipients)
	q += ` UNION ALL ` + dndQuery
	args = append(args, dndArgs...)
	if !marketing {
		q += ` AND d.scope = 'all'`
	} else {
		q += ` UNION ALL SELECT 0, recipient, action, legal_age, id FROM consents WHERE account_id = ? AND purpose = 'marketing' AND channel IN ('', ?) AND recipient IN (` +
			placeholders(len(recipients)) + `)`
		args = append(append(args, accountID, channel), strings2any(recipients)...)
		if !since.IsZero() {
			q += ` UNION ALL SELECT 3, recipient, originator, FALSE, 0 FROM marketing_senders
				WHERE account_id = ? AND recipient IN (` + placeholders(len(recipients)) + `) AND last_at >= ?`
			args = append(append(append(args, accountID), strings2any(recipients)...), micros(since))
		}
	}
	rows, err := s.rQuery(ctx, q+` ORDER BY 1, 5`, args...)
	if err != nil {
		return nil, fmt.Errorf("screening recipients: %w", err)
	}
	defer rows.Close()
	listed := map[string]string{}
	for rows.Next() {
		var kind int
		var key, text string
		var legalAge bool
		var id int64
		if err := rows.Scan(&kind, &key, &text, &legalAge, &id); err != nil {
			return nil, fmt.Errorf("screening recipients: %w", err)
		}
		switch kind {
		case 0:
			out.Latest[key] = store.Consent{ID: id, Recipient: key, Purpose: "marketing", Action: text, LegalAge: legalAge} // by id: the last wins
		case 1:
			for _, r := range back[key] {
				out.Suppressed[r] = text
			}
		case 2:
			listed[key] = text
		case 3:
			out.Originators[key] = append(out.Originators[key], text)
		case 4:
			for _, r := range backLower[key] {
				out.Restricted[r] = text
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("screening recipients: %w", err)
	}
	matchPrefixes(recipients, listed, out.Listed)
	return out, nil
}

// dndLookup is the SELECT (with its arguments) of cols from the registry
// entries d that are prefixes of numbers: each number is looked up at the
// prefix lengths the registries hold (dnd_prefix_lengths), one index
// lookup per number and length, rather than at every length of the
// number. The numbers are padded to a multiple of 8 (repeating the first)
// so that the statement's text, and its prepared form, is shared by
// batches of similar size.
//
// PostgreSQL is given the prefixes as an array (= ANY): one index scan
// whose plan it soon keeps for all runs, where an IN list of expressions
// is an OR of index scans that it plans anew each run (measured: 1
// recipient 200 → 300 µs with IN, against a 1M-number registry).
func dndLookup(d *Dialect, cols string, numbers []string) (string, []any) {
	args := make([]any, 0, len(numbers)+7)
	for _, n := range numbers {
		args = append(args, n)
	}
	for len(args)%8 != 0 {
		args = append(args, numbers[0])
	}
	var q strings.Builder
	open, end := "IN (", ")"
	if d.Name == "postgres" {
		open, end = "= ANY (ARRAY[", "])"
	}
	q.WriteString(`SELECT ` + cols + ` FROM dnd_prefix_lengths l JOIN dnd d ON d.prefix ` + open)
	for i := range args {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("substr(?, 1, l.digits)")
	}
	q.WriteString(end)
	return q.String(), args
}

// noteDNDLengths records the prefix lengths of entries about to be added
// to dnd, in the transaction that adds them, so that screening looks
// numbers up at those lengths (dndLookup).
func (s *Store) noteDNDLengths(ctx context.Context, tx *sql.Tx, entries []store.DNDEntry) error {
	seen := map[int]bool{}
	var lengths []any
	for _, e := range entries {
		if n := len(e.Prefix); !seen[n] {
			seen[n] = true
			lengths = append(lengths, n)
		}
	}
	if len(lengths) == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO dnd_prefix_lengths (digits) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?), ", len(lengths)), ", ")+` ON CONFLICT (digits) DO NOTHING`), lengths...)
	if err != nil {
		return fmt.Errorf("noting do-not-disturb prefix lengths: %w", err)
	}
	// PostgreSQL plans screening with this table's statistics, which no
	// row-count rule refreshes for a table this small (migration 061).
	if added, _ := res.RowsAffected(); added > 0 && s.d.Name == "postgres" {
		if _, err := tx.ExecContext(ctx, `ANALYZE dnd_prefix_lengths`); err != nil {
			return fmt.Errorf("noting do-not-disturb prefix lengths: %w", err)
		}
	}
	return nil
}

// ImportDND stores a registry's entries, all or none; the scope is set
// for the whole registry.
func (s *Store) ImportDND(ctx context.Context, imp store.DNDImport) error {
	return s.inTx(ctx, "importing do-not-disturb entries", func(tx *sql.Tx) error {
		if imp.Replace {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM dnd WHERE registry = ?`), imp.Registry); err != nil {
				return fmt.Errorf("replacing do-not-disturb entries: %w", err)
			}
		} else if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE dnd SET scope = ? WHERE registry = ?`), imp.Scope, imp.Registry); err != nil {
			return fmt.Errorf("importing do-not-disturb entries: %w", err)
		}
		if err := s.noteDNDLengths(ctx, tx, imp.Entries); err != nil {
			return err
		}
		for _, e := range imp.Entries {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO dnd (registry, prefix, listed_at, imported_at, scope) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (registry, prefix) DO UPDATE SET listed_at = excluded.listed_at, imported_at = excluded.imported_at, scope = excluded.scope`),
				imp.Registry, e.Prefix, micros(e.ListedAt), micros(e.ImportedAt), imp.Scope); err != nil {
				return fmt.Errorf("importing do-not-disturb entries: %w", err)
			}
		}
		return nil
	})
}

// DNDListed finds numbers listed on a registry, whole or by a prefix.
func (s *Store) DNDListed(ctx context.Context, numbers []string) (map[string]string, error) {
	out := map[string]string{}
	if len(numbers) == 0 {
		return out, nil
	}
	q, args := dndLookup(&s.d, `d.prefix, d.registry`, numbers)
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("reading do-not-disturb registries: %w", err)
	}
	defer rows.Close()
	listed := map[string]string{}
	for rows.Next() {
		var p, reg string
		if err := rows.Scan(&p, &reg); err != nil {
			return nil, fmt.Errorf("reading do-not-disturb registries: %w", err)
		}
		listed[p] = reg
	}
	matchPrefixes(numbers, listed, out)
	return out, rows.Err()
}

// matchPrefixes sets out[n] to the registry of the shortest listed prefix
// of each number n that has one.
func matchPrefixes(numbers []string, listed, out map[string]string) {
	for _, n := range numbers {
		for i := 1; i <= len(n); i++ {
			if reg, ok := listed[n[:i]]; ok {
				out[n] = reg
				break
			}
		}
	}
}

// SaveSender creates or updates a sender identity.
func (s *Store) SaveSender(ctx context.Context, sd *store.Sender) error {
	_, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO senders (account_id, originator, status, requested_by, decided_by, note, created_at, decided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, originator) DO UPDATE SET status = excluded.status,
		decided_by = excluded.decided_by, note = excluded.note, decided_at = excluded.decided_at`),
		sd.AccountID, sd.Originator, sd.Status, sd.RequestedBy, sd.DecidedBy, sd.Note, micros(sd.CreatedAt), micros(sd.DecidedAt))
	if err != nil {
		return fmt.Errorf("saving sender: %w", err)
	}
	return nil
}

// Senders lists an account's sender identities.
func (s *Store) Senders(ctx context.Context, accountID string) ([]store.Sender, error) {
	return s.querySenders(ctx, `WHERE account_id = ? ORDER BY originator`, accountID)
}

// SendersWithStatus implements store.Compliance.
func (s *Store) SendersWithStatus(ctx context.Context, status string, limit int) ([]store.Sender, error) {
	return s.querySenders(ctx, `WHERE status = ? ORDER BY created_at, account_id, originator LIMIT ?`, status, limit)
}

// querySenders reads the sender identities that where (a WHERE clause
// and its order) selects.
func (s *Store) querySenders(ctx context.Context, where string, args ...any) ([]store.Sender, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT account_id, originator, status, requested_by, decided_by, note, created_at, decided_at
		FROM senders `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("listing senders: %w", err)
	}
	defer rows.Close()
	out := []store.Sender{}
	for rows.Next() {
		var sd store.Sender
		var created, decided int64
		if err := rows.Scan(&sd.AccountID, &sd.Originator, &sd.Status, &sd.RequestedBy, &sd.DecidedBy, &sd.Note, &created, &decided); err != nil {
			return nil, fmt.Errorf("listing senders: %w", err)
		}
		sd.CreatedAt, sd.DecidedAt = fromMicros(created), fromMicros(decided)
		out = append(out, sd)
	}
	return out, rows.Err()
}

// GetPolicy reads an account's compliance settings.
func (s *Store) GetPolicy(ctx context.Context, accountID string) (*store.Policy, error) {
	var p store.Policy
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT default_purpose, transactional_to_opted_out, help_text, optout_instruction,
		window_start, window_end, sender_relaxed, suspended, country_windows, sender_fallback, content_rules, postal_address, role_addresses
		FROM accounts WHERE id = ?`), accountID).
		Scan(&p.DefaultPurpose, &p.TransactionalToOptedOut, &p.HelpText, &p.OptOutInstruction, &p.WindowStart, &p.WindowEnd, &p.SenderRelaxed, &p.Suspended,
			&p.CountryWindows, &p.SenderFallback, &p.ContentRules, &p.PostalAddress, &p.RoleAddresses)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return &p, nil
}

// SetPolicy changes an account's compliance settings.
func (s *Store) SetPolicy(ctx context.Context, accountID string, p *store.Policy) error {
	res, err := s.w.ExecContext(ctx, s.d.rebind(`UPDATE accounts SET default_purpose = ?, transactional_to_opted_out = ?, help_text = ?,
		optout_instruction = ?, window_start = ?, window_end = ?, sender_relaxed = ?, suspended = ?, country_windows = ?, sender_fallback = ?,
		content_rules = ?, postal_address = ?, role_addresses = ? WHERE id = ?`),
		p.DefaultPurpose, p.TransactionalToOptedOut, p.HelpText, p.OptOutInstruction, p.WindowStart, p.WindowEnd, p.SenderRelaxed, p.Suspended,
		p.CountryWindows, p.SenderFallback, p.ContentRules, p.PostalAddress, p.RoleAddresses, accountID)
	if err != nil {
		return fmt.Errorf("setting policy: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// RecordDecisions stores decisions.
func (s *Store) RecordDecisions(ctx context.Context, ds []store.Decision) error {
	if len(ds) == 0 {
		return nil
	}
	return s.inTx(ctx, "recording decisions", func(tx *sql.Tx) error {
		for _, d := range ds {
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO compliance_decisions (account_id, message_id, recipient, rule, outcome, reason, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`), d.AccountID, d.MessageID, d.Recipient, d.Rule, d.Outcome, d.Reason, micros(d.CreatedAt)); err != nil {
				return fmt.Errorf("recording decisions: %w", err)
			}
		}
		return nil
	})
}

// Decisions lists an account's recent decisions, newest first.
func (s *Store) Decisions(ctx context.Context, accountID string, limit int) ([]store.Decision, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT account_id, message_id, recipient, rule, outcome, reason, created_at FROM compliance_decisions
		WHERE account_id = ? ORDER BY id DESC LIMIT ?`), accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("reading decisions: %w", err)
	}
	defer rows.Close()
	out := []store.Decision{}
	for rows.Next() {
		var d store.Decision
		var created int64
		if err := rows.Scan(&d.AccountID, &d.MessageID, &d.Recipient, &d.Rule, &d.Outcome, &d.Reason, &created); err != nil {
			return nil, fmt.Errorf("reading decisions: %w", err)
		}
		d.CreatedAt = fromMicros(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// holdMessages parks accepted messages in the review queue: their send jobs
// are never due until released.
func (s *Store) holdMessages(ctx context.Context, tx *sql.Tx, held []*store.Accept) error {
	for _, it := range held {
		r := it.Hold
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO reviews (message_id, account_id, rule, reason, status, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			it.Message.ID, it.Message.AccountID, r.Rule, r.Reason, store.ReviewPending, micros(it.Message.CreatedAt)); err != nil {
			return fmt.Errorf("holding message: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE jobs SET run_at = ? WHERE message_id = ? AND kind = ?`), heldRunAt, it.Message.ID, store.JobSend); err != nil {
			return fmt.Errorf("holding message: %w", err)
		}
	}
	return nil
}

const reviewColumns = `message_id, account_id, rule, reason, status, decided_by, created_at, decided_at`

func scanReview(row interface{ Scan(...any) error }) (*store.Review, error) {
	var r store.Review
	var created, decided int64
	if err := row.Scan(&r.MessageID, &r.AccountID, &r.Rule, &r.Reason, &r.Status, &r.DecidedBy, &created, &decided); err != nil {
		return nil, err
	}
	r.CreatedAt, r.DecidedAt = fromMicros(created), fromMicros(decided)
	return &r, nil
}

// Reviews lists held messages.
func (s *Store) Reviews(ctx context.Context, status string, limit int) ([]store.Review, error) {
	q, args := `SELECT `+reviewColumns+` FROM reviews ORDER BY created_at LIMIT ?`, []any{limit}
	if status != "" {
		q, args = `SELECT `+reviewColumns+` FROM reviews WHERE status = ? ORDER BY created_at LIMIT ?`, []any{status, limit}
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing reviews: %w", err)
	}
	defer rows.Close()
	out := []store.Review{}
	for rows.Next() {
		r, err := scanReview(rows)
		if err != nil {
			return nil, fmt.Errorf("listing reviews: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// DecideReview releases or rejects a held message.
func (s *Store) DecideReview(ctx context.Context, messageID, status, actor string) (*store.Review, error) {
	if status != store.ReviewReleased && status != store.ReviewRejected {
		return nil, fmt.Errorf("deciding review: status %q", status)
	}
	var r *store.Review
	err := s.inTx(ctx, "deciding review", func(tx *sql.Tx) error {
		now := time.Now().UTC()
		var err error
		r, err = scanReview(tx.QueryRowContext(ctx, s.d.rebind(`UPDATE reviews SET status = ?, decided_by = ?, decided_at = ?
			WHERE message_id = ? AND status = ? RETURNING `+reviewColumns), status, actor, micros(now), messageID, store.ReviewPending))
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM reviews WHERE message_id = ?`), messageID).Scan(&n)
			if n == 0 {
				return store.ErrNotFound
			}
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("deciding review: %w", err)
		}
		if status == store.ReviewReleased {
			_, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE jobs SET run_at = ? WHERE message_id = ? AND kind = ?`), micros(now), messageID, store.JobSend)
			return err
		}
		// Rejected: nothing will be sent; the charge goes back.
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM jobs WHERE message_id = ? AND kind = ?`), messageID, store.JobSend); err != nil {
			return err
		}
		why := "rejected in compliance review: " + r.Reason
		rows, err := tx.QueryContext(ctx, s.d.rebind(`UPDATE recipients SET status = ?, status_at = ?, status_reason = ? WHERE message_id = ? AND status IN (?, ?)
			RETURNING seq`), string(message.DeliveryFailed), micros(now), why, messageID, string(message.Sent), string(message.Scheduled))
		if err != nil {
			return err
		}
		var reports []any
		for rows.Next() {
			u := store.StatusUpdate{AccountID: r.AccountID, MessageID: messageID, Status: message.DeliveryFailed, Reason: why, At: now}
			if err := rows.Scan(&u.Seq); err != nil {
				rows.Close()
				return err
			}
			args, err := reportArgs(&u)
			if err != nil {
				rows.Close()
				return err
			}
			reports = append(reports, args...)
		}
		rows.Close()
		// The account hears of the failure as of any other (status report).
		if err := s.enqueueReports(ctx, tx, reports); err != nil {
			return err
		}
		var charged int64
		if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(SUM(price), 0) FROM recipients WHERE message_id = ?`), messageID).Scan(&charged); err != nil {
			return err
		}
		return s.refund(ctx, tx, r.AccountID, messageID, charged, "message rejected in compliance review", actor, "review:"+messageID)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

const caseColumns = `id, account_id, recipient, reason, opened_by, status, due_at, proof, created_at, answered_at`

func scanCase(row interface{ Scan(...any) error }) (*store.ProofCase, error) {
	var c store.ProofCase
	var due, created, answered int64
	if err := row.Scan(&c.ID, &c.AccountID, &c.Recipient, &c.Reason, &c.OpenedBy, &c.Status, &due, &c.Proof, &created, &answered); err != nil {
		return nil, err
	}
	c.DueAt, c.CreatedAt, c.AnsweredAt = fromMicros(due), fromMicros(created), fromMicros(answered)
	return &c, nil
}

// OpenProofCase opens a case.
func (s *Store) OpenProofCase(ctx context.Context, c *store.ProofCase) error {
	_, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO proof_cases (`+caseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.ID, c.AccountID, c.Recipient, c.Reason, c.OpenedBy, c.Status, micros(c.DueAt), c.Proof, micros(c.CreatedAt), micros(c.AnsweredAt))
	if err != nil {
		return fmt.Errorf("opening proof case: %w", err)
	}
	return nil
}

// AnswerProofCase records the account's proof on an open case.
func (s *Store) AnswerProofCase(ctx context.Context, accountID, id, proof string) (*store.ProofCase, error) {
	c, err := scanCase(s.w.QueryRowContext(ctx, s.d.rebind(`UPDATE proof_cases SET status = ?, proof = ?, answered_at = ?
		WHERE id = ? AND account_id = ? AND status = ? RETURNING `+caseColumns), store.CaseAnswered, proof, micros(time.Now()), id, accountID, store.CaseOpen))
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM proof_cases WHERE id = ? AND account_id = ?`), id, accountID).Scan(&n)
		if n == 0 {
			return nil, store.ErrNotFound
		}
		return nil, store.ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("answering proof case: %w", err)
	}
	return c, nil
}

// ProofCases lists an account's cases, newest first ("" for all accounts).
func (s *Store) ProofCases(ctx context.Context, accountID string) ([]store.ProofCase, error) {
	q, args := `SELECT `+caseColumns+` FROM proof_cases ORDER BY created_at DESC`, []any{}
	if accountID != "" {
		q, args = `SELECT `+caseColumns+` FROM proof_cases WHERE account_id = ? ORDER BY created_at DESC`, []any{accountID}
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing proof cases: %w", err)
	}
	defer rows.Close()
	out := []store.ProofCase{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("listing proof cases: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// ExpireProofCases suspends accounts that did not answer in time.
func (s *Store) ExpireProofCases(ctx context.Context, now time.Time) ([]store.ProofCase, error) {
	out := []store.ProofCase{}
	err := s.inTx(ctx, "expiring proof cases", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.d.rebind(`UPDATE proof_cases SET status = ? WHERE status = ? AND due_at <= ? RETURNING `+caseColumns),
			store.CaseExpired, store.CaseOpen, micros(now))
		if err != nil {
			return fmt.Errorf("expiring proof cases: %w", err)
		}
		for rows.Next() {
			c, err := scanCase(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("expiring proof cases: %w", err)
			}
			out = append(out, *c)
		}
		rows.Close()
		for _, c := range out {
			why := fmt.Sprintf("no proof of consent by %s for case %s (%s)", c.DueAt.UTC().Format(time.RFC3339), c.ID, c.Reason)
			if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE accounts SET suspended = ? WHERE id = ? AND suspended = ''`), why, c.AccountID); err != nil {
				return fmt.Errorf("suspending account: %w", err)
			}
		}
		return nil
	})
	return out, err
}

// AddComplaint records a complaint and counts recent ones.
func (s *Store) AddComplaint(ctx context.Context, accountID, recipient, source, note string, since time.Time) (int, error) {
	var n int
	err := s.inTx(ctx, "recording complaint", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO complaints (account_id, recipient, source, note, created_at) VALUES (?, ?, ?, ?, ?)`),
			accountID, recipient, source, note, micros(time.Now())); err != nil {
			return fmt.Errorf("recording complaint: %w", err)
		}
		return tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM complaints WHERE account_id = ? AND created_at >= ?`), accountID, micros(since)).Scan(&n)
	})
	return n, err
}

// noteMarketingSenders records, in the accept transaction, which
// originators sent marketing to which recipients (the rotation check).
// Rows go in key order, once each, so concurrent transactions lock them in
// the same order.
func (s *Store) noteMarketingSenders(ctx context.Context, tx *sql.Tx, msgs []*message.Message) error {
	type key struct{ account, recipient, originator string }
	last := map[key]int64{}
	for _, m := range msgs {
		if m.Purpose != "marketing" || m.Direction != message.MT {
			continue
		}
		at := micros(m.CreatedAt)
		for _, r := range m.Recipients {
			k := key{m.AccountID, r.Address, m.Originator}
			if at > last[k] {
				last[k] = at
			}
		}
	}
	if len(last) == 0 {
		return nil
	}
	keys := make([]key, 0, len(last))
	for k := range last {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.recipient, b.recipient), cmp.Compare(a.originator, b.originator))
	})
	args := make([]any, 0, 4*len(keys))
	for _, k := range keys {
		args = append(args, k.account, k.recipient, k.originator, last[k])
	}
	if err := s.insertMarketingSenders.exec(ctx, tx, &s.d, args); err != nil {
		return fmt.Errorf("recording marketing senders: %w", err)
	}
	return nil
}

// PurgeMarketingSenders drops the rotation check's rows last used before
// the time.
func (s *Store) PurgeMarketingSenders(ctx context.Context, before time.Time) (int, error) {
	return s.purge(ctx, "marketing senders", `DELETE FROM marketing_senders WHERE last_at < ?`, before)
}

// restrictionKeys are the recipients as restrictions hold them: email
// addresses lower-cased, other identifiers as they are.
func restrictionKeys(recipients []string) ([]string, map[string][]string) {
	keys := make([]string, 0, len(recipients))
	back := make(map[string][]string, len(recipients))
	for _, r := range recipients {
		k := r
		if strings.Contains(r, "@") {
			k = strings.ToLower(r)
		}
		if _, ok := back[k]; !ok {
			keys = append(keys, k)
		}
		back[k] = append(back[k], r)
	}
	return keys, back
}
