package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

const contactColumns = `c.id, c.msisdn, c.first_name, c.last_name, c.custom1, c.custom2, c.custom3, c.custom4, c.created_at, c.updated_at,
	(SELECT COUNT(*) FROM group_members m WHERE m.account_id = c.account_id AND m.contact_id = c.id)`

func scanContact(sc interface{ Scan(...any) error }, accountID string) (*store.Contact, error) {
	c := &store.Contact{AccountID: accountID}
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.MSISDN, &c.FirstName, &c.LastName, &c.Custom[0], &c.Custom[1], &c.Custom[2], &c.Custom[3],
		&created, &updated, &c.Groups); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

const groupColumns = `g.id, g.name, g.created_at, g.updated_at,
	(SELECT COUNT(*) FROM group_members m WHERE m.account_id = g.account_id AND m.group_id = g.id)`

func scanGroup(sc interface{ Scan(...any) error }, accountID string) (*store.Group, error) {
	g := &store.Group{AccountID: accountID}
	var created, updated int64
	if err := sc.Scan(&g.ID, &g.Name, &created, &updated, &g.Contacts); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return g, nil
}

func stamp(created, updated *time.Time) {
	if created.IsZero() {
		*created = time.Now().UTC().Truncate(time.Microsecond)
	}
	if updated.IsZero() {
		*updated = *created
	}
}

// CreateContact stores a new contact.
func (s *Store) CreateContact(ctx context.Context, c *store.Contact) error {
	stamp(&c.CreatedAt, &c.UpdatedAt)
	return s.inTx(ctx, "creating contact", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO contacts (id, account_id, msisdn, first_name, last_name, custom1, custom2, custom3, custom4, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), c.ID, c.AccountID, c.MSISDN, c.FirstName, c.LastName,
			c.Custom[0], c.Custom[1], c.Custom[2], c.Custom[3], micros(c.CreatedAt), micros(c.UpdatedAt))
		if err != nil {
			return fmt.Errorf("creating contact: %w", err)
		}
		return nil
	})
}

// GetContact reads one contact with its group count.
func (s *Store) GetContact(ctx context.Context, accountID, id string) (*store.Contact, error) {
	c, err := scanContact(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+contactColumns+` FROM contacts c WHERE c.account_id = ? AND c.id = ?`),
		accountID, id), accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading contact: %w", err)
	}
	return c, nil
}

// ListContacts lists contacts oldest first.
func (s *Store) ListContacts(ctx context.Context, accountID, msisdn string, limit, offset int) ([]*store.Contact, int, error) {
	where, args := `c.account_id = ?`, []any{accountID}
	if msisdn != "" {
		where += ` AND c.msisdn = ?`
		args = append(args, msisdn)
	}
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM contacts c WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting contacts: %w", err)
	}
	out, err := s.queryContacts(ctx, accountID, `SELECT `+contactColumns+` FROM contacts c WHERE `+where+
		` ORDER BY c.created_at, c.id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	return out, total, err
}

func (s *Store) queryContacts(ctx context.Context, accountID, q string, args ...any) ([]*store.Contact, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing contacts: %w", err)
	}
	defer rows.Close()
	out := []*store.Contact{}
	for rows.Next() {
		c, err := scanContact(rows, accountID)
		if err != nil {
			return nil, fmt.Errorf("listing contacts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Store) queryGroups(ctx context.Context, accountID, q string, args ...any) ([]*store.Group, error) {
	rows, err := s.r.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	defer rows.Close()
	out := []*store.Group{}
	for rows.Next() {
		g, err := scanGroup(rows, accountID)
		if err != nil {
			return nil, fmt.Errorf("listing groups: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UpdateContact writes a contact's fields.
func (s *Store) UpdateContact(ctx context.Context, c *store.Contact) error {
	c.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	return s.inTx(ctx, "updating contact", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE contacts SET msisdn = ?, first_name = ?, last_name = ?, custom1 = ?, custom2 = ?,
			custom3 = ?, custom4 = ?, updated_at = ? WHERE account_id = ? AND id = ?`), c.MSISDN, c.FirstName, c.LastName,
			c.Custom[0], c.Custom[1], c.Custom[2], c.Custom[3], micros(c.UpdatedAt), c.AccountID, c.ID)
		if err != nil {
			return fmt.Errorf("updating contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// DeleteContact deletes a contact and its memberships.
func (s *Store) DeleteContact(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "deleting contact", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM contacts WHERE account_id = ? AND id = ?`), accountID, id)
		if err != nil {
			return fmt.Errorf("deleting contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM group_members WHERE account_id = ? AND contact_id = ?`), accountID, id); err != nil {
			return fmt.Errorf("deleting contact: %w", err)
		}
		return nil
	})
}

// ContactGroups lists the groups a contact is in, oldest group first.
func (s *Store) ContactGroups(ctx context.Context, accountID, contactID string, limit, offset int) ([]*store.Group, int, error) {
	c, err := s.GetContact(ctx, accountID, contactID)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.queryGroups(ctx, accountID, `SELECT `+groupColumns+` FROM contact_groups g
		JOIN group_members gm ON gm.account_id = g.account_id AND gm.group_id = g.id
		WHERE g.account_id = ? AND gm.contact_id = ? ORDER BY g.created_at, g.id LIMIT ? OFFSET ?`, accountID, contactID, limit, offset)
	return out, c.Groups, err
}

// CreateGroup stores a new group.
func (s *Store) CreateGroup(ctx context.Context, g *store.Group) error {
	stamp(&g.CreatedAt, &g.UpdatedAt)
	return s.inTx(ctx, "creating group", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO contact_groups (id, account_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
			g.ID, g.AccountID, g.Name, micros(g.CreatedAt), micros(g.UpdatedAt)); err != nil {
			return fmt.Errorf("creating group: %w", err)
		}
		return nil
	})
}

// GetGroup reads one group with its contact count.
func (s *Store) GetGroup(ctx context.Context, accountID, id string) (*store.Group, error) {
	g, err := scanGroup(s.r.QueryRowContext(ctx, s.d.rebind(`SELECT `+groupColumns+` FROM contact_groups g WHERE g.account_id = ? AND g.id = ?`),
		accountID, id), accountID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading group: %w", err)
	}
	return g, nil
}

// ListGroups lists groups oldest first.
func (s *Store) ListGroups(ctx context.Context, accountID string, limit, offset int) ([]*store.Group, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM contact_groups WHERE account_id = ?`), accountID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting groups: %w", err)
	}
	out, err := s.queryGroups(ctx, accountID, `SELECT `+groupColumns+` FROM contact_groups g WHERE g.account_id = ?
		ORDER BY g.created_at, g.id LIMIT ? OFFSET ?`, accountID, limit, offset)
	return out, total, err
}

// UpdateGroup renames a group.
func (s *Store) UpdateGroup(ctx context.Context, g *store.Group) error {
	g.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	return s.inTx(ctx, "updating group", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE contact_groups SET name = ?, updated_at = ? WHERE account_id = ? AND id = ?`),
			g.Name, micros(g.UpdatedAt), g.AccountID, g.ID)
		if err != nil {
			return fmt.Errorf("updating group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// DeleteGroup deletes a group and its memberships.
func (s *Store) DeleteGroup(ctx context.Context, accountID, id string) error {
	return s.inTx(ctx, "deleting group", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM contact_groups WHERE account_id = ? AND id = ?`), accountID, id)
		if err != nil {
			return fmt.Errorf("deleting group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM group_members WHERE account_id = ? AND group_id = ?`), accountID, id); err != nil {
			return fmt.Errorf("deleting group: %w", err)
		}
		return nil
	})
}

// GroupContacts lists a group's contacts in the order they were added.
func (s *Store) GroupContacts(ctx context.Context, accountID, groupID string, limit, offset int) ([]*store.Contact, int, error) {
	g, err := s.GetGroup(ctx, accountID, groupID)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.queryContacts(ctx, accountID, `SELECT `+contactColumns+` FROM contacts c
		JOIN group_members gm ON gm.account_id = c.account_id AND gm.contact_id = c.id
		WHERE c.account_id = ? AND gm.group_id = ? ORDER BY gm.added_at, c.id LIMIT ? OFFSET ?`, accountID, groupID, limit, offset)
	return out, g.Contacts, err
}

// AddGroupContacts adds contacts to a group, all or none.
func (s *Store) AddGroupContacts(ctx context.Context, accountID, groupID string, contactIDs []string) error {
	now := micros(time.Now())
	return s.inTx(ctx, "adding contacts to group", func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT 1 FROM contact_groups WHERE account_id = ? AND id = ?`), accountID, groupID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("adding contacts to group: %w", err)
		}
		for _, id := range contactIDs {
			err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT 1 FROM contacts WHERE account_id = ? AND id = ?`), accountID, id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("contact %s: %w", id, store.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("adding contacts to group: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO group_members (account_id, group_id, contact_id, added_at) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`), accountID, groupID, id, now); err != nil {
				return fmt.Errorf("adding contacts to group: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE contact_groups SET updated_at = ? WHERE account_id = ? AND id = ?`), now, accountID, groupID); err != nil {
			return fmt.Errorf("adding contacts to group: %w", err)
		}
		return nil
	})
}

// RemoveGroupContact takes a contact out of a group.
func (s *Store) RemoveGroupContact(ctx context.Context, accountID, groupID, contactID string) error {
	return s.inTx(ctx, "removing contact from group", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM group_members WHERE account_id = ? AND group_id = ? AND contact_id = ?`),
			accountID, groupID, contactID)
		if err != nil {
			return fmt.Errorf("removing contact from group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, s.d.rebind(`UPDATE contact_groups SET updated_at = ? WHERE account_id = ? AND id = ?`),
			micros(time.Now()), accountID, groupID)
		return err
	})
}

// GroupNumbers is the distinct numbers of the groups' contacts, at most
// max+1.
func (s *Store) GroupNumbers(ctx context.Context, accountID string, groupIDs []string, max int) ([]string, error) {
	seen := map[string]bool{}
	uniq := groupIDs[:0:0]
	for _, id := range groupIDs {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	groupIDs = uniq
	if len(groupIDs) == 0 {
		return nil, nil
	}
	var n int
	if err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM contact_groups WHERE account_id = ? AND id IN (`+
		placeholders(len(groupIDs))+`)`), append([]any{accountID}, strings2any(groupIDs)...)...).Scan(&n); err != nil {
		return nil, fmt.Errorf("reading groups: %w", err)
	}
	if n != len(groupIDs) {
		return nil, store.ErrNotFound
	}
	rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT DISTINCT c.msisdn FROM contacts c
		JOIN group_members gm ON gm.account_id = c.account_id AND gm.contact_id = c.id
		WHERE c.account_id = ? AND gm.group_id IN (`+placeholders(len(groupIDs))+`) ORDER BY c.msisdn LIMIT ?`),
		append(append([]any{accountID}, strings2any(groupIDs)...), max+1)...)
	if err != nil {
		return nil, fmt.Errorf("reading group numbers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, fmt.Errorf("reading group numbers: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
