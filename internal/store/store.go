// Package store defines omnigate's storage contract: accounts and their keys,
// messages and recipients, and the durable job queue that lives beside them.
//
// The database is the source of truth and the queue. Accepting a message
// writes the message, its recipients and its dispatch job in one transaction,
// so a 2xx answer means the message survives a crash. Two engines implement
// the contract: SQLite (package store/sqlite, the embedded default) and
// PostgreSQL (package store/postgres, for production and several nodes).
// Both share their SQL in store/sqlstore and pass the suite in store/storetest.
//
// Every method that reads or changes customer data takes the account id and
// scopes its query by it: another account's id answers ErrNotFound, exactly
// like an id that does not exist.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/omnigate/omnigate/internal/destination"
	"github.com/omnigate/omnigate/internal/message"
)

// Errors callers match with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Account is a tenant.
type Account struct {
	ID        string
	Name      string
	Currency  string // ISO 4217, e.g. "EUR"
	Balance   int64  // micro-units of Currency (1 EUR = 1_000_000)
	ReportURL string // default status-report URL; empty means none
	// InboundURL receives the account's inbound messages; empty: none.
	InboundURL string

	// Billing settings.
	Payment        string   // "prepaid" (default) or "postpaid"
	CreditLimit    int64    // postpaid: how far below zero the balance may go
	AlertURL       string   // usage alerts are POSTed here
	AlertEmails    []string // and mailed here
	TopUpEnabled   bool     // automatic top-up is on
	TopUpThreshold int64    // below this balance a top-up is requested
	TopUpAmount    int64    // of this amount
	TopUpConsent   string   // who switched automatic top-up on, and when
	// StrictNumbers refuses recipients libphonenumber does not know as
	// valid; by default every possible number is accepted (phone.Parse).
	StrictNumbers bool
	// LegacySignature is how the account's receiver canonicalises the query
	// when it checks the legacy MessageBird-Signature of a status report:
	// "node" (the default), "go", "php" or "ruby", after the SDK whose verifier it
	// uses (see webhook.SignLegacy).
	LegacySignature string
	// SigningKey signs status reports (MessageBird-Signature-JWT). It is a
	// secret the customer needs in clear to verify, so it cannot be hashed:
	// the store encrypts it at rest (docs/operations.md, "Secrets at
	// rest") and gives it here in clear.
	SigningKey string
	CreatedAt  time.Time
}

// AccessKey is an API key. Only its SHA-256 hash is stored.
type AccessKey struct {
	ID        string
	AccountID string
	Hash      []byte // sha256 of the key
	Test      bool
	Hint      string // last characters, so a person can tell keys apart
	CreatedAt time.Time
	// RevokedAt is when the key was revoked (zero: it is valid), by whom
	// ("api key KEYID", "cli").
	RevokedAt time.Time
	RevokedBy string
	// LastUsedAt is about when the key last authenticated a request (zero:
	// unknown); nodes record it every few minutes, not per request.
	LastUsedAt time.Time
}

// Revoked says whether the key is revoked.
func (k *AccessKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Job kinds: one queue table, several kinds of work.
const (
	JobSend    = "send"    // dispatch a message's pending recipients
	JobReport  = "report"  // deliver one status report to a webhook
	JobInbound = "inbound" // forward one inbound message to the account's URL
	JobAlert   = "alert"   // tell an account it reached 80 % or 100 % of a limit
	JobTopUp   = "topup"   // ask the payment provider for an automatic top-up
)

// Lease asks for up to N due jobs of a kind for For, on behalf of Owner (a
// node id that is stable across restarts of the same node).
type Lease struct {
	Kind  string
	N     int
	For   time.Duration
	Owner string
}

// Job is a leased unit of work. Payload is kind-specific JSON.
type Job struct {
	ID        int64
	Kind      string
	AccountID string
	MessageID string
	Payload   []byte
	Attempts  int // including the current one
	RunAt     time.Time
	CreatedAt time.Time
	// Message is the job's message when the worker pool read it for the
	// whole leased batch (worker.Config.Preload); nil: read it yourself.
	Message *message.Message
}

// StatusUpdate moves one recipient to a new status.
type StatusUpdate struct {
	AccountID string
	MessageID string
	Seq       int
	Status    message.Status
	Reason    string // empty: the status's default reason
	ErrorCode int
	At        time.Time
	Connector string // set when a connector took the recipient
	Channel   string // the message's channel (for metrics); not stored
	// Parts are the carrier's ids for the recipient's parts, in order, when
	// a connector took it; receipts are matched against them.
	Parts []string
	// PartsEchoed: the provider echoes the message id in the parts'
	// receipts (channel.Result.EchoesMessageID), so they are matched
	// through it and the parts stay out of the index of carrier ids.
	PartsEchoed bool
	// Notify asks for a status report (a JobReport) when the status changes.
	Notify bool
	// Applied is set by the store: whether the status changed.
	Applied bool
	// ReportHandoff asks for a report (with Notify) also when a connector
	// takes a recipient already shown as sent: doors whose status names
	// tell accepted from sent (the Conversations door) report the hand-off.
	// HandedOff is set by the store when such a report was queued.
	ReportHandoff, HandedOff bool
}

// Report is the payload of a JobReport: what changed, for the webhook
// worker, which reads the rest (reference, address, URL) when it delivers.
type Report struct {
	Seq       int            `json:"seq"`
	Status    message.Status `json:"status"`
	Reason    string         `json:"reason,omitempty"`
	ErrorCode int            `json:"errorCode,omitempty"`
	At        time.Time      `json:"at"`
	// Event, when set, is what the report is about (an email event; see
	// Events); Status is then the recipient's status at the time.
	Event  string            `json:"event,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// Outcome is what became of a leased job and of the recipients it touched.
type Outcome struct {
	// JobID is the leased job; 0 when the updates come from elsewhere (a
	// carrier's delivery receipt).
	JobID int64
	// RetryAt, when set, makes the job due again then; otherwise it is done
	// and deleted.
	RetryAt   time.Time
	LastError string
	// HandedBack, with RetryAt: the lease that ends was not an attempt
	// (the node could not send it and gave it back for another): its
	// attempt is not counted, so backoffs stay what they were.
	HandedBack bool
	Updates    []StatusUpdate
	// Attempt, when set, is the webhook call the job made, logged in the
	// same transaction (store.WebhookAttempts).
	Attempt *WebhookAttempt
	// Early is set by Finish: the statuses of receipts that came before
	// the updates' carrier ids were recorded, applied with them (a
	// delivered that beat its submit's answer), for the caller to count
	// as it counts the updates.
	Early []StatusUpdate
}

// MessageFilter selects messages for listing. Zero fields do not filter.
type MessageFilter struct {
	// Channel keeps one channel's messages (a door lists what it can
	// render: the MessageBird door SMS); "" is every channel.
	Channel    string
	Originator string
	Direction  message.Direction
	Type       message.Type
	Status     message.Status
	Recipient  string
	Reference  string
	From       time.Time // created at or after
	Until      time.Time // created before
	Limit      int
	Offset     int
	// CountLimit, when above 0, stops counting the matches there (the
	// total is then at most CountLimit): a page that says "more than N"
	// need not count a million messages.
	CountLimit int
	// StatusRare says few recipients have Status (the caller knows from
	// the roll-up): the search then starts from those recipients
	// (recipients_account_status) instead of testing every message.
	StatusRare bool
	// ConversationID keeps one Conversations conversation's messages;
	// ExcludeChannels leaves those channels' messages out.
	ConversationID  string
	ExcludeChannels []string
	// ConversationsDoor keeps what the Conversations door lists: the email
	// it sent and the messages of conversations (both directions).
	ConversationsDoor bool
}

// QueueStats describes the job queue for metrics.
type QueueStats struct {
	Depth     map[string]int64         // jobs per kind
	OldestDue map[string]time.Duration // age of the oldest due job per kind
}

// Accounts stores tenants and their keys.
type Accounts interface {
	// CreateAccount stores an account together with its first keys, all or
	// nothing.
	CreateAccount(ctx context.Context, a *Account, keys []*AccessKey) error
	GetAccount(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	// SetReportURL changes an account's default status-report URL ("" for
	// none). ErrNotFound if there is no such account.
	SetReportURL(ctx context.Context, id, reportURL string) error
	// SetAccountSettings changes an account's switches (StrictNumbers,
	// LegacySignature) to
	// a's. ErrNotFound if there is no such account.
	SetAccountSettings(ctx context.Context, a *Account) error
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	// AccessKeyByHash finds a key by the SHA-256 of its text, revoked or
	// not.
	AccessKeyByHash(ctx context.Context, hash []byte) (*AccessKey, error)
	// AccessKeys lists an account's keys, oldest first, revoked ones
	// included.
	AccessKeys(ctx context.Context, accountID string) ([]*AccessKey, error)
	// RevokeAccessKey revokes one of an account's keys and, in the same
	// transaction, increments the revocation generation, then returns the
	// key. A key revoked already is returned as it is, unchanged.
	// ErrNotFound if the account has no such key.
	RevokeAccessKey(ctx context.Context, accountID, id, by string, at time.Time) (*AccessKey, error)
	// KeyRevocations is the revocation generation: it changes whenever a
	// key is revoked, by any node or the CLI. Reading it is one indexed row.
	KeyRevocations(ctx context.Context) (int64, error)
	// TouchAccessKeys records that the keys were used at about at (never
	// moving LastUsedAt back).
	TouchAccessKeys(ctx context.Context, ids []string, at time.Time) error
}

// MessageKey names a message to read with GetMessages: its account and id.
// Seqs, when set, are the only recipients the reader needs (a batch of
// status reports): the store may then read just those, so that reports on
// a few recipients of a message sent to a thousand do not read a thousand.
// The message's Recipients then hold those alone, in seq order; find one
// with message.Message.Recipient. A message whose reports carry it whole
// (message.Details.ReportsWhole) is read whole all the same.
type MessageKey struct {
	AccountID, ID string
	Seqs          []int
}

// Messages stores messages and recipients.
type Messages interface {
	// AcceptMessages stores the messages, their recipients and one JobSend
	// per message in a single transaction: all of them or none.
	AcceptMessages(ctx context.Context, msgs []*message.Message) error
	GetMessage(ctx context.Context, accountID, id string) (*message.Message, error)
	// GetMessages reads the messages of a batch of jobs, with their
	// recipients, in a few queries rather than one pair per message. The
	// map is keyed by message id; a message that is gone, or is not of the
	// key's account, is absent. Keys may repeat a message: its recipients
	// read are then those any of its keys asks for (all, if one has no
	// Seqs).
	GetMessages(ctx context.Context, keys []MessageKey) (map[string]*message.Message, error)
	ListMessages(ctx context.Context, accountID string, f MessageFilter) ([]*message.Message, int, error)
	// MessageAccount is the account a message belongs to, ErrNotFound if
	// none: mail coming back names a message (its return path) but not
	// its account.
	MessageAccount(ctx context.Context, id string) (string, error)
	// CancelScheduled deletes a message whose recipients are all still
	// scheduled, with its job. ErrNotFound if there is no such message,
	// ErrConflict if sending has started.
	CancelScheduled(ctx context.Context, accountID, id string) error
	// RedactMessage replaces the body (and content) of a message whose
	// recipients are all final with "". DeleteMessage removes such a
	// message's record: the message, its recipients, their parts and
	// events (ledger entries and compliance decisions stay). Both answer
	// ErrNotFound if there is no such message, ErrConflict if a recipient
	// is not final yet.
	RedactMessage(ctx context.Context, accountID, id string) error
	DeleteMessage(ctx context.Context, accountID, id string) error
}

// Queue is the durable job queue.
type Queue interface {
	// LeaseJobs takes due jobs, hiding them from other workers until the
	// lease has passed. A job whose lease expires (its worker crashed)
	// becomes due again.
	LeaseJobs(ctx context.Context, l Lease) ([]*Job, error)
	// ReleaseLeases makes every job leased by owner due now. A node calls
	// it when it starts, so that jobs it held when it died do not wait for
	// their leases to expire.
	ReleaseLeases(ctx context.Context, owner string) (int, error)
	// WakeJobs makes the account's unleased jobs of a kind that wait with
	// lastError as their last error due now, and says how many: reports
	// waiting for a customer's SMPP receiver, when one binds.
	WakeJobs(ctx context.Context, kind, accountID, lastError string) (int, error)
	// ExtendLeases moves the end of the leases owner holds on jobs to until,
	// and says which jobs it extended: those still leased by owner as they
	// were when leased (same Attempts) and whose lease has not ended. A
	// worker whose outcome cannot be recorded yet keeps its jobs this way,
	// so that no other worker runs them again meanwhile.
	ExtendLeases(ctx context.Context, owner string, jobs []*Job, until time.Time) ([]int64, error)
	// Finish records outcomes in one transaction: each status update is
	// applied only when it moves the recipient forward (see
	// message.Predecessors) and marked Applied; an update to the status the
	// recipient already has only records its Connector; each applied update
	// with Notify enqueues a JobReport; each job is deleted or rescheduled.
	Finish(ctx context.Context, outcomes []*Outcome) error
	// EnqueueJob adds a job.
	EnqueueJob(ctx context.Context, j *Job) error
	QueueStats(ctx context.Context) (*QueueStats, error)
	// QueueStatsUpTo is QueueStats counting at most limit jobs of each
	// kind: a Depth of limit means at least that many. It costs at most
	// limit rows per kind, where QueueStats reads every job (a page a
	// person waits for uses it; the metrics count every job).
	QueueStatsUpTo(ctx context.Context, limit int64) (*QueueStats, error)
}

// Receipt is a provider's later word on one part it took: an SMSC's
// delivery receipt, an email bounce or delivery notice, a chat app's status
// callback. Every channel's receipts come back this one way.
type Receipt struct {
	Connector string
	// Channel is the connector's channel (for metrics).
	Channel string
	// ProviderIDs are the forms the provider's id for the part may take,
	// the exact one first (see dlr.IDForms): an SMSC's receipt may write an
	// id in decimal that its submit response gave in hex. Parts are matched
	// by any of them.
	ProviderIDs []string
	// MessageID, when set, is the message the provider says the part
	// belongs to (echoed from the send, see StatusUpdate.PartsEchoed):
	// the part is looked for among that message's parts only. Parts sent
	// with PartsEchoed are found only so.
	MessageID string
	Status    message.Status
	Reason    string
	ErrorCode int
	// At is the provider's own time for the status (an SMPP receipt's done
	// date), zero when it gave none. Providers' clocks, time zones and
	// precision are their own, so the store uses it only when it is
	// plausible (see StatusTime).
	At time.Time
	// ReceivedAt is when the receipt arrived; zero means now.
	ReceivedAt time.Time
	// Event, when set, is an event of the part's recipient ("bounced",
	// "complained", "unsubscribed", "opened", "clicked"; see Events),
	// recorded with Detail and reported, besides any status change the
	// receipt also carries. Status may then be empty: no status change.
	// An event whose part is not known is dropped (events follow sending).
	Event  string
	Detail map[string]string
}

// ReceiptOutcome says what a receipt did.
type ReceiptOutcome struct {
	Matched   bool // a part had this id; otherwise the receipt is pending
	AccountID string
	MessageID string
	Seq       int
	Changed   bool // the recipient's status changed
	Status    message.Status
	// Reported: a status report (a JobReport) was queued for the change
	// or the event, the message or its account having a report URL.
	Reported bool
}

// Receipts matches carriers' receipts to the parts they are about.
type Receipts interface {
	// ApplyReceipts records receipts in one transaction. A receipt whose
	// part is known updates the part and rolls the recipient's parts up to
	// its status (message.RollUp, forward only, with a status report when
	// the message or its account has a report URL); one
	// whose part is not known yet is kept as pending and applied when the
	// part is recorded (a receipt can beat the submit response).
	ApplyReceipts(ctx context.Context, rs []Receipt) ([]ReceiptOutcome, error)
	// ApplyReceiptsLeased is ApplyReceipts that stores up to lease.N of the
	// status report jobs it queues already leased (to lease.Owner, for
	// lease.For, as if LeaseJobs had taken them): the report sender runs
	// them at once, without a transaction to lease them. It returns those
	// jobs, with their ids, and how many report jobs it queued besides
	// (due now: the sender should be woken for them). A nil lease leases
	// none.
	ApplyReceiptsLeased(ctx context.Context, rs []Receipt, lease *Lease) (outs []ReceiptOutcome, leased []*Job, queued int, err error)
	// PurgePendingReceipts drops pending receipts received before the
	// time, returning how many: they matched nothing.
	PurgePendingReceipts(ctx context.Context, before time.Time) (int, error)
	// AwaitingReceipt lists at most limit recipients that a connector took
	// and that are still sent or buffered although their deadline
	// (message.Message.Deadline) is before the time, earliest first.
	AwaitingReceipt(ctx context.Context, before time.Time, limit int) ([]Awaiting, error)
	// Silent lists at most limit recipients of the channel that a
	// connector took before the time (their first part's submit time) and
	// that are still sent; Awaiting.Deadline is that submit time.
	// It serves channels whose silence means something (channel.Silence).
	Silent(ctx context.Context, channel string, before time.Time, limit int) ([]Awaiting, error)
}

// Awaiting is a recipient whose receipt has not come.
type Awaiting struct {
	AccountID, MessageID string
	Seq                  int
	Channel, Connector   string
	Deadline             time.Time
	// Notify: the message or its account has a report URL.
	Notify bool
}

// Number is an inbound number assigned to an account.
type Number struct {
	Number    string // MSISDN digits or a short code
	AccountID string
	CreatedAt time.Time
}

// InboundPart is one part of a concatenated inbound message.
type InboundPart struct {
	Connector, Source, Destination string
	Ref, Total, Part               int // Part counts from 1
	Body                           string
	ReceivedAt                     time.Time
}

// Inbound stores what inbound traffic needs.
type Inbound interface {
	// AddNumber assigns a number; ErrConflict if another account has it.
	AddNumber(ctx context.Context, n Number) error
	// RemoveNumber releases a number; ErrNotFound if it is not assigned.
	RemoveNumber(ctx context.Context, number string) error
	// ListNumbers lists an account's numbers, or all with accountID "".
	ListNumbers(ctx context.Context, accountID string) ([]Number, error)
	// NumberOwner is the account a number belongs to; ErrNotFound if none.
	NumberOwner(ctx context.Context, number string) (string, error)
	// SetInboundURL sets where an account's inbound messages are forwarded.
	SetInboundURL(ctx context.Context, accountID, url string) error
	// AddInboundPart keeps a part of a concatenated message. When every
	// part is there it calls assemble with the bodies in order and, in the
	// same transaction, forgets the parts and stores the message assemble
	// returns (as AcceptMessages would), which it then returns; until then
	// it returns nil. An error from assemble changes nothing.
	AddInboundPart(ctx context.Context, p InboundPart, assemble func(bodies []string) (*message.Message, error)) (*message.Message, error)
	// PurgeInboundParts drops parts received before the time (their
	// siblings never came), returning how many.
	PurgeInboundParts(ctx context.Context, before time.Time) (int, error)
}

// ConnectorConfig is a configured connector.
type ConnectorConfig struct {
	Name      string
	Kind      string // a connector kind the channel registry knows, e.g. "smpp"
	Settings  []byte // JSON in the kind's shape; encrypted at rest, whole (it may hold a password)
	Enabled   bool
	UpdatedAt time.Time
	// Suspended says why the provider's answers suspended the connector
	// (its account is gone); "" is active. SuspendedCode is the
	// provider's error code.
	Suspended     string
	SuspendedCode int
	SuspendedAt   time.Time
}

// Route sends a channel's messages to connectors, in order of preference,
// by destination (a number prefix or country for phone channels, a domain
// for email) and, when Sender is set, only those from that originator (a
// chat app's channel id, an SMS sender).
type Route struct {
	ID        int64
	AccountID string // "" for the default table
	Channel   string
	Sender    string // "" for any
	destination.Pattern
	Connectors []string
	CreatedAt  time.Time
}

// Routing stores connectors and routes.
type Routing interface {
	// SaveConnector creates or replaces a connector by name.
	SaveConnector(ctx context.Context, c ConnectorConfig) error
	DeleteConnector(ctx context.Context, name string) error
	ListConnectors(ctx context.Context) ([]ConnectorConfig, error)
	// SuspendConnector marks a connector suspended with the reason (reason
	// "" reactivates it); ErrNotFound for an unknown name. changed is true
	// when the call changed the connector's state; only then are the
	// notice jobs enqueued, in the same transaction.
	SuspendConnector(ctx context.Context, name, reason string, code int, at time.Time, notices []*Job) (changed bool, err error)
	// AddRoute adds a route; ErrConflict if one exists for the same
	// account, channel, sender and destination.
	AddRoute(ctx context.Context, r *Route) error
	DeleteRoute(ctx context.Context, id int64) error
	ListRoutes(ctx context.Context) ([]Route, error)
}

// BindClaim asks for one connector's bind slots (see BindLeases).
type BindClaim struct {
	Connector, Node string
	// Total is how many binds the connector may open on all nodes
	// together: slots 0..Total-1.
	Total int
	// Want is how many slots the node takes when they are free; Max,
	// when above 0, how many it keeps at most (it frees the rest).
	Want, Max int
	// Orphan: a slot free for longer than this is taken even beyond Want,
	// so that no bind stays closed because every node has its share.
	Orphan time.Duration
	// Now and Until: the leases taken or renewed run until Until.
	Now, Until time.Time
}

// BindState is what a node holds of a connector's slots after a claim.
type BindState struct {
	Held int
	// Holders counts the slots other nodes hold, by node.
	Holders map[string]int
}

// BindLeases share carrier binds out between the nodes of one database:
// one lease row per bind slot, with an expiry the holder renews.
type BindLeases interface {
	ClaimBinds(ctx context.Context, c BindClaim) (BindState, error)
	// ReleaseBinds frees node's slots (of one connector, or all with "").
	ReleaseBinds(ctx context.Context, node, connector string) error
	// LiveNodes counts the nodes whose heartbeat is at or after since.
	LiveNodes(ctx context.Context, since time.Time) (int, error)
	// ForgetNode deletes node's heartbeat (it is stopping).
	ForgetNode(ctx context.Context, node string) error
	// BindSlots lists every connector's bind slots with their holders
	// (the operator's view of who holds which bind), by connector and slot.
	BindSlots(ctx context.Context) ([]BindSlot, error)
}

// BindSlot is one lease row of a connector's binds: free when Holder is ""
// or ExpiresAt has passed.
type BindSlot struct {
	Connector string
	Slot      int
	Holder    string
	ExpiresAt time.Time
}

// Store is everything the platform keeps.
type Store interface {
	BindLeases
	Accounts
	Messages
	Queue
	Receipts
	Events
	Inbound
	Routing
	Billing
	Compliance
	Templates
	EmailDomains
	SMPPCredentials
	SMPPParts
	Replacing
	Twilio
	TwilioServices
	Contacts
	ConvChannels
	WATemplates
	ChatRefs
	Fallbacks
	HLR
	Verifications
	Numbers
	Conversations
	Terms
	Subscriptions
	Privacy
	Imports
	Users
	UserTokens
	Dashboards
	WebhookAttempts
	// Ping checks that the database answers and migrations are applied.
	Ping(ctx context.Context) error
	// Heartbeat records that node could write at the time: one small
	// committed write, which readiness checks succeed.
	Heartbeat(ctx context.Context, node string, at time.Time) error
	Close() error
}
