package store

import (
	"context"
	"time"
)

// AuditEntry is one row of the audit log (internal/audit): a change made
// by an actor, chained to the row before it by PrevHash and Hash.
type AuditEntry struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	ActorKind string    `json:"actorKind"` // operator, key, user, cli, system
	ActorID   string    `json:"actorId"`
	AccountID string    `json:"account"`
	IP        string    `json:"ip"`
	Action    string    `json:"action"`
	Object    string    `json:"object"`
	Before    string    `json:"before"` // JSON with secrets masked; "" when unknown
	After     string    `json:"after"`
	PrevHash  string    `json:"prevHash"`
	Hash      string    `json:"hash"`
}

// AuditFilter selects audit rows, newest first: an account, an actor (its
// id, or kind:id), a time range [Since, Until), rows before seq Before
// (the cursor; 0: from the newest), at most Limit.
type AuditFilter struct {
	AccountID string
	Actor     string
	Since     time.Time
	Until     time.Time
	Before    int64
	Limit     int
}

// AuditLog is the append-only, hash-chained audit log. It has no update
// and no delete.
type AuditLog interface {
	// AppendAudit appends entries in one transaction that holds the
	// chain's head: each gets the next Seq and the head's hash as
	// PrevHash, then seal sets its Hash (which becomes the head).
	AppendAudit(ctx context.Context, entries []AuditEntry, seal func(*AuditEntry)) error
	// AuditEntries lists rows newest first (see AuditFilter).
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// AuditChain lists up to limit rows from seq after+1 on, oldest first,
	// for walking the chain.
	AuditChain(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// AuditHead is the seq and hash of the chain's last row (0 and 64
	// zeros when empty).
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
}

// BackupLease claims a scheduled backup's period for node: true when this
// call inserted the period's row (this node makes the backup), false when
// another node has it already.
type BackupLease interface {
	ClaimBackup(ctx context.Context, period, node string, at time.Time) (bool, error)
	FinishBackup(ctx context.Context, period, file, errText string, at time.Time) error
}
