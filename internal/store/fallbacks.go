package store

import (
	"context"
	"time"
)

// States of a message's fallback (POST /v1/send fallback{from, after}).
const (
	FallbackWaiting = "waiting" // due at DueAt
	FallbackClaimed = "claimed" // a runner is deciding, until ClaimedUntil
	FallbackSent    = "sent"    // the fallback message was accepted (in the same commit)
	FallbackSkipped = "skipped" // the message was delivered in time: nothing sent
	FallbackRefused = "refused" // the fallback channel's compliance or billing refused it
)

// Fallback is a message's fallback to another channel, stored with the
// message in its accept commit (Accept.Fallback) and fired by a runner
// once due: exactly once, whichever node or runner gets there first.
type Fallback struct {
	AccountID string
	MessageID string // the primary message
	// FallbackID is the id the fallback message gets when it is sent
	// (known at acceptance, so the API can answer it).
	FallbackID string
	ChannelID  string // the fallback channel
	// Spec is the fallback message, as its door built and checked it
	// (opaque to the store).
	Spec         []byte
	DueAt        time.Time
	State        string
	Reason       string
	ClaimedBy    string
	ClaimedUntil time.Time
}

// FallbackClaim marks an Accept as the fallback of message MessageID,
// claimed by Owner (ClaimFallback): the store writes it only if the claim
// still holds, and marks the fallback sent in the same commit; otherwise
// the Accept's Err is ErrConflict and nothing of it is written.
type FallbackClaim struct {
	AccountID, MessageID, Owner string
	ID                          string // the fallback message's (Fallback.FallbackID)
}

// Fallbacks stores messages' fallbacks.
type Fallbacks interface {
	// DueFallbacks lists at most limit fallbacks due at now: waiting ones
	// whose DueAt has come, claimed ones whose claim ran out (their
	// runner died).
	DueFallbacks(ctx context.Context, now time.Time, limit int) ([]Fallback, error)
	// ClaimFallback claims a due fallback for owner until until, with a
	// conditional update: ErrConflict if it is not due or someone else
	// holds it (or has settled it), ErrNotFound if there is none.
	ClaimFallback(ctx context.Context, accountID, messageID, owner string, now, until time.Time) (*Fallback, error)
	// SettleFallback ends a claimed fallback without sending it (state
	// FallbackSkipped or FallbackRefused, with reason): ErrConflict if
	// owner no longer holds the claim. The primary's details show it, and
	// a refusal is reported on the primary (event "fallback").
	SettleFallback(ctx context.Context, accountID, messageID, owner, state, reason string, at time.Time) error
	// CancelForFallback cancels the recipients of a message that no
	// connector has taken yet and whose send job is not running: the job
	// goes, they end delivery_failed with reason, and what they were
	// charged is refunded, reported as any status change. It says how
	// many it cancelled (0: the message had left already).
	CancelForFallback(ctx context.Context, accountID, messageID, reason string, at time.Time) (int, error)
}

// CancelledForFallback is the status reason of a recipient cancelled
// because its message's fallback, fallbackID, was sent instead.
func CancelledForFallback(fallbackID string) string {
	return "cancelled: sent as " + fallbackID + " on the fallback channel"
}
