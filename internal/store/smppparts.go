package store

import (
	"context"
	"errors"
	"time"
)

// SMPPPartKey names a set of parts of a long message submitted to the SMPP
// server: the account, the addresses and the concatenation reference and
// count (UDH or SAR).
type SMPPPartKey struct {
	AccountID    string
	Source, Dest string
	Ref, Total   int
}

// SMPPPart is one part of a long message submitted over SMPP, waiting for
// the rest.
type SMPPPart struct {
	SMPPPartKey
	Seq int
	// MessageID is the set's id, fixed by the part staged first.
	MessageID string
	Text      string
	Unicode   bool
	Binary    bool
	Receipts  int // registered_delivery's receipt bits
	// UDH is a binary part's header but concatenation (hex); ScheduledAt
	// and Validity (seconds) are the part's schedule and validity period.
	UDH         string
	ScheduledAt time.Time
	Validity    int
	CreatedAt   time.Time
	// ExpiresAt is when the set, still incomplete, is swept: the first
	// part's time and the server's wait.
	ExpiresAt time.Time
}

// ErrPartsFull: the account has too many parts of long messages waiting
// to start another set.
var ErrPartsFull = errors.New("too many parts of long messages waiting")

// SMPPParts keeps the parts of long messages submitted to the SMPP server
// until the last one arrives.
type SMPPParts interface {
	// StagePart stores p in one transaction: a part stored before under
	// the same key and Seq is replaced (a resent part); the set's id is the
	// one its parts hold, or p.MessageID when p is the first (and then
	// p.ExpiresAt is the set's; otherwise the set keeps its own). It
	// returns the set's id and how many distinct parts it holds. A new set
	// of an account already holding maxParts parts is refused with
	// ErrPartsFull. Parts of one set staged at once see each other: one of
	// them returns the whole count.
	StagePart(ctx context.Context, p SMPPPart, maxParts int) (id string, have int, err error)
	// SMPPPartSet reads a set's parts by Seq; none is not an error.
	SMPPPartSet(ctx context.Context, k SMPPPartKey) ([]SMPPPart, error)
	// DeleteSMPPParts drops a set's parts holding the id (a set started
	// again under the same key since keeps its parts); how many went.
	DeleteSMPPParts(ctx context.Context, k SMPPPartKey, id string) (int, error)
	// DeleteSMPPPartsByID drops the parts of the account's set with the
	// id (cancel_sm); how many went.
	DeleteSMPPPartsByID(ctx context.Context, accountID, id string) (int, error)
	// SMPPPartsWaiting reports whether the account has parts of a set with
	// the id waiting (query_sm of a message not whole yet).
	SMPPPartsWaiting(ctx context.Context, accountID, id string) (bool, error)
	// ExpiredSMPPParts reads the parts of up to limit sets that expired
	// before the time, by set and Seq; they stay until deleted.
	ExpiredSMPPParts(ctx context.Context, before time.Time, limit int) ([][]SMPPPart, error)
}
