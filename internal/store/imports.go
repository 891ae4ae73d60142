package store

import (
	"context"
	"time"
)

// Import kinds.
const (
	ImportDND          = "dnd"          // a national do-not-disturb registry (operator)
	ImportPrices       = "prices"       // a price list (operator)
	ImportNumbers      = "numbers"      // the numbers inventory (operator)
	ImportConsents     = "consents"     // an account's consents
	ImportSuppressions = "suppressions" // an account's suppressions
)

// Import states: running until it is done (everything imported) or failed
// (nothing imported).
const (
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// MaxImportErrors bounds the bad rows an import keeps (by line); the count
// of all of them is kept beside.
const MaxImportErrors = 1000

// Import is one bulk import and how far it got.
type Import struct {
	ID        string
	AccountID string // "" for an operator's import
	Test      bool   // made with a test key: checked, never stored
	Kind      string
	Params    string // the import's options, JSON (registry, scope, replace…)
	Origin    string // who started it and how ("admin api", "cli", "api key K")
	State     string
	Size      int64 // bytes of the file, 0 if not known
	BytesRead int64
	RowsRead  int64
	Imported  int64 // rows imported, once done
	// ErrorCount counts the bad rows; Errors are the first MaxImportErrors
	// of them ("line N: why"), or why the import failed.
	ErrorCount int64
	Errors     []string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
}

// Imports stores import jobs and the staged rows of large imports.
type Imports interface {
	// CreateImport stores a new import (its ID, kind and state set).
	CreateImport(ctx context.Context, im *Import) error
	// ImportProgress records how far a running import got (its heartbeat).
	ImportProgress(ctx context.Context, id string, bytesRead, rowsRead int64, at time.Time) error
	// FinishImport ends a running import that imported nothing of its own
	// staging (state done or failed, Imported, ErrorCount, Errors, times
	// from im) and drops its staged rows. ErrConflict if it is not running.
	FinishImport(ctx context.Context, im *Import) error
	// GetImport reads an import of the account ("" for an operator's)
	// made with a test key or not. ErrNotFound if there is none.
	GetImport(ctx context.Context, accountID string, test bool, id string) (*Import, error)
	// ListImports lists an account's imports, newest first.
	ListImports(ctx context.Context, accountID string, test bool, limit int) ([]Import, error)
	// FailStaleImports fails running imports not heard of since before
	// (their process stopped: a restart), drops their staged rows and says
	// how many it failed.
	FailStaleImports(ctx context.Context, before, at time.Time) (int, error)

	// StageDND adds a registry file's entries to an import's staging
	// (a prefix staged twice keeps the last date).
	StageDND(ctx context.Context, importID string, entries []DNDEntry) error
	// MergeDND merges an import's staged entries into the registry in one
	// transaction, marks the import done (im: Imported, times) in it and
	// drops the staging. ErrConflict if the import is not running any more.
	MergeDND(ctx context.Context, im *Import, imp DNDImport) (int64, error)

	// StageSuppressions adds rows of an account's suppression file to an
	// import's staging (an address staged twice keeps its first row).
	StageSuppressions(ctx context.Context, importID string, list []Suppression) error
	// MergeSuppressions adds an import's staged suppressions to its
	// account's list (an address listed already keeps its row) in one
	// transaction, marks the import done in it (Imported: the rows staged)
	// and drops the staging; it says how many were new. ErrConflict if the
	// import is not running any more.
	MergeSuppressions(ctx context.Context, im *Import) (int64, error)
	// StageConsents adds entries of an account's consent file to an
	// import's staging, in the file's order from seq (the first entry's).
	StageConsents(ctx context.Context, importID string, seq int64, cs []*Consent) error
	// MergeConsents appends an import's staged entries to its account's
	// consent ledger in their order, with the suppressions they add and
	// lift as AddConsents would one by one, in one transaction; marks the
	// import done in it (Imported: the entries) and drops the staging.
	// ErrConflict if the import is not running any more.
	MergeConsents(ctx context.Context, im *Import) (int64, error)

	// StagePrices adds rows of a price file to an import's staging.
	StagePrices(ctx context.Context, importID string, rows []Lined[Price]) error
	// MergePrices stores an import's staged prices (a destination priced
	// already takes the new price) in one transaction, marks the import
	// done in it (Imported: the rows) and drops the staging. ErrConflict if
	// the import is not running any more.
	MergePrices(ctx context.Context, im *Import) (int64, error)
	// StageStock adds rows of an inventory file to an import's staging.
	StageStock(ctx context.Context, importID string, rows []Lined[StockNumber]) error
	// MergeStock adds an import's staged numbers to the inventory, or
	// updates those in it (all but when they were added), in one
	// transaction, marks the import done in it (Imported: the rows) and
	// drops the staging; it says how many were new. ErrConflict if the
	// import is not running any more.
	MergeStock(ctx context.Context, im *Import) (int64, error)
	// StagedDuplicates finds the staged rows of an import (of prices or
	// numbers) whose key a row before them has: the first limit in line
	// order, each with the line of the first, and how many there are.
	StagedDuplicates(ctx context.Context, im *Import, limit int) ([]Duplicate, int64, error)
}

// Lined is a row of an import's file with its line.
type Lined[T any] struct {
	Line int
	Row  T
}

// Duplicate is a row of an import's file whose key (a price's
// destination, an inventory number) is on an earlier line, First. Number
// is the inventory number.
type Duplicate struct {
	Line, First int
	Number      string
}
