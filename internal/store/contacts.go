package store

import (
	"context"
	"time"
)

// Contact is an entry of an account's address book (the MessageBird door's
// /contacts). Numbers need not be unique within an account, as on
// MessageBird. Its personal data lives in one table, so that erasing an
// account's data reaches all of it.
type Contact struct {
	ID        string
	AccountID string
	MSISDN    string // international digits without "+"
	FirstName string
	LastName  string
	Custom    [4]string // custom1 … custom4
	CreatedAt time.Time
	UpdatedAt time.Time
	// Groups is how many groups the contact is in (set when read).
	Groups int
}

// Group is a named set of an account's contacts.
type Group struct {
	ID        string
	AccountID string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Contacts is how many contacts the group has (set when read).
	Contacts int
}

// Contacts stores contacts, groups and group membership. Every method is
// scoped by account: another account's id answers ErrNotFound.
type Contacts interface {
	CreateContact(ctx context.Context, c *Contact) error
	GetContact(ctx context.Context, accountID, id string) (*Contact, error)
	// ListContacts lists contacts oldest first, only those with the number
	// msisdn when it is not empty, and says how many there are in all.
	ListContacts(ctx context.Context, accountID, msisdn string, limit, offset int) ([]*Contact, int, error)
	// UpdateContact writes c's number, names and custom fields, and sets
	// its UpdatedAt; ErrNotFound if there is no such contact.
	UpdateContact(ctx context.Context, c *Contact) error
	// DeleteContact deletes a contact and its group memberships.
	DeleteContact(ctx context.Context, accountID, id string) error
	// ContactGroups lists the groups a contact is in; ErrNotFound if there
	// is no such contact.
	ContactGroups(ctx context.Context, accountID, contactID string, limit, offset int) ([]*Group, int, error)

	CreateGroup(ctx context.Context, g *Group) error
	GetGroup(ctx context.Context, accountID, id string) (*Group, error)
	ListGroups(ctx context.Context, accountID string, limit, offset int) ([]*Group, int, error)
	// UpdateGroup renames a group and sets its UpdatedAt.
	UpdateGroup(ctx context.Context, g *Group) error
	// DeleteGroup deletes a group and its memberships (not its contacts).
	DeleteGroup(ctx context.Context, accountID, id string) error
	// GroupContacts lists a group's contacts; ErrNotFound if there is no
	// such group.
	GroupContacts(ctx context.Context, accountID, groupID string, limit, offset int) ([]*Contact, int, error)
	// AddGroupContacts adds contacts to a group (those in it already stay),
	// all or none: ErrNotFound if the group or one of the contacts does not
	// exist.
	AddGroupContacts(ctx context.Context, accountID, groupID string, contactIDs []string) error
	// RemoveGroupContact takes a contact out of a group; ErrNotFound if it
	// is not in it.
	RemoveGroupContact(ctx context.Context, accountID, groupID, contactID string) error
	// GroupNumbers is the distinct numbers of the groups' contacts, at most
	// max+1 of them (more than max tells the caller the groups are too
	// big). ErrNotFound if one of the groups does not exist.
	GroupNumbers(ctx context.Context, accountID string, groupIDs []string, max int) ([]string, error)
}
