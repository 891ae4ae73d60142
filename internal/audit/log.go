package audit

// The stored audit log: every change made by an operator, a user or an
// access key, appended to the database (store.AuditLog) and hash-chained,
// so that editing or removing a row is detectable (Verify).
//
//	log := audit.NewLog(st, slogger)
//	log.Record(ctx, audit.Change{Actor: audit.Operator("alice"), Account: id, IP: ip,
//		Action: "account.settings", Object: "accounts/" + id, Before: old, After: new})

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// Actor kinds.
const (
	KindOperator = "operator" // the admin API's token; ID: the X-Operator name, if given
	KindKey      = "key"      // an account's access key; ID: the key's id
	KindUser     = "user"     // a console user (issue 18); ID: the user's id
	KindCLI      = "cli"      // the omnigate command on the server; ID: the OS user
	KindSystem   = "system"   // the platform itself (maintenance, schedules)
)

// Actor is who made a change.
type Actor struct {
	Kind string // one of the Kind constants
	ID   string
}

// Operator, Key and User name actors.
func Operator(name string) Actor { return Actor{KindOperator, name} }
func Key(id string) Actor        { return Actor{KindKey, id} }
func User(id string) Actor       { return Actor{KindUser, id} }

func (a Actor) String() string {
	if a.ID == "" {
		return a.Kind
	}
	return a.Kind + ":" + a.ID
}

// Change is one change to record. Before and After are what the object
// was and became, as values marshalled to JSON (or json.RawMessage, or
// nil when unknown); secrets in them are masked before they are stored.
type Change struct {
	Actor   Actor
	Account string // the account the change concerns; "" for platform-wide ones
	IP      string // where the request came from
	Action  string // what was done, e.g. "PUT /admin/accounts/{id}/settings"
	Object  string // what it was done to, e.g. the request's path
	Before  any
	After   any
	At      time.Time // default: now
}

// Log appends changes to the store's audit log. Its methods are safe for
// concurrent use; on a nil *Log they do nothing.
type Log struct {
	st   store.AuditLog
	log  *slog.Logger
	now  func() time.Time
	keys KeyFunc
}

// KeyFunc gives the key that pseudonymises a person's identifiers in the
// changes of an account ("" for platform-wide ones): one derived from the
// account's data key, so that shredding the account leaves pseudonyms
// nobody can link to a person again. nil when there is none.
type KeyFunc func(ctx context.Context, account string) []byte

// UseKeys makes the log pseudonymise identifiers with keys (Pseudonym);
// without keys they are recorded as Personal.
func (l *Log) UseKeys(keys KeyFunc) {
	if l != nil {
		l.keys = keys
	}
}

// NewLog makes a log appending to st; failures to append go to log.
func NewLog(st store.AuditLog, log *slog.Logger) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{st: st, log: log, now: time.Now}
}

// Record appends c, committed when it returns nil. A failure is also
// written to the process log: the change it describes was made already.
func (l *Log) Record(ctx context.Context, c Change) error {
	if l == nil {
		return nil
	}
	var key []byte
	if l.keys != nil {
		key = l.keys(ctx, c.Account)
	}
	e, err := l.entry(c, key)
	if err == nil {
		err = l.st.AppendAudit(context.WithoutCancel(ctx), []store.AuditEntry{e}, Seal)
	}
	if err != nil {
		l.log.Error("audit log: a change could not be recorded", "actor", c.Actor.String(), "account", c.Account,
			"action", c.Action, "object", c.Object, "err", err)
	}
	return err
}

func (l *Log) entry(c Change, key []byte) (store.AuditEntry, error) {
	if c.Actor.Kind == "" || c.Action == "" {
		return store.AuditEntry{}, fmt.Errorf("audit log: a change needs an actor kind and an action")
	}
	before, err := PseudonymisedJSON(c.Before, key)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("audit log: before: %w", err)
	}
	after, err := PseudonymisedJSON(c.After, key)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("audit log: after: %w", err)
	}
	c.Object = PseudonymousPath(c.Action, c.Object, key)
	at := c.At
	if at.IsZero() {
		at = l.now()
	}
	return store.AuditEntry{At: at.UTC(), ActorKind: c.Actor.Kind, ActorID: c.Actor.ID, AccountID: c.Account, IP: c.IP,
		Action: c.Action, Object: c.Object, Before: before, After: after}, nil
}

// ZeroHash is the PrevHash of the first row.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Canonical is the row's bytes that its hash covers: a JSON array of
// every field but the hashes, in a fixed order, the time in microseconds.
func Canonical(e *store.AuditEntry) []byte {
	b, _ := json.Marshal([]any{e.Seq, e.At.UnixMicro(), e.ActorKind, e.ActorID, e.AccountID, e.IP, e.Action, e.Object,
		e.Before, e.After})
	return b
}

// Hash is hex(SHA-256(prevHash || Canonical(e))).
func Hash(prevHash string, e *store.AuditEntry) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(Canonical(e))
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets e.Hash from e.PrevHash and the row; store.AuditLog calls it.
func Seal(e *store.AuditEntry) { e.Hash = Hash(e.PrevHash, e) }

// Break is where a chain stops holding.
type Break struct {
	Seq    int64  // the first row that does not hold (or the missing one)
	Reason string // what is wrong with it
}

func (b *Break) Error() string { return fmt.Sprintf("audit log broken at seq %d: %s", b.Seq, b.Reason) }

// VerifyResult is what Verify walked.
type VerifyResult struct {
	Rows int64  // rows checked
	Head string // the last row's hash
}

// Verify walks the whole chain from the first row and checks each row's
// seq (no gaps), its PrevHash (the row before's hash) and its Hash (the
// row's content), then that the head row points at the last row. It
// returns a *Break naming the first row that does not hold.
func Verify(ctx context.Context, st store.AuditLog) (VerifyResult, error) {
	var res VerifyResult
	prev, seq := ZeroHash, int64(0)
	for {
		rows, err := st.AuditChain(ctx, seq, 1000)
		if err != nil {
			return res, err
		}
		for i := range rows {
			e := &rows[i]
			switch {
			case e.Seq != seq+1:
				return res, &Break{seq + 1, fmt.Sprintf("row missing (the next row is seq %d)", e.Seq)}
			case e.PrevHash != prev:
				return res, &Break{e.Seq, "prev_hash is not the hash of the row before"}
			case Hash(prev, e) != e.Hash:
				return res, &Break{e.Seq, "content does not match its hash (the row was changed)"}
			}
			prev, seq = e.Hash, e.Seq
			res.Rows++
		}
		if len(rows) < 1000 {
			break
		}
	}
	res.Head = prev
	headSeq, headHash, err := st.AuditHead(ctx)
	if err != nil {
		return res, err
	}
	if headSeq != seq {
		return res, &Break{seq + 1, fmt.Sprintf("the head says %d rows, the log has %d (rows at the end were removed)", headSeq, seq)}
	}
	if headHash != prev {
		return res, &Break{seq, "the head's hash is not the last row's (the last row was replaced)"}
	}
	return res, nil
}

// secretNames are field names (lower case, without '_' and '-') whose
// values are masked; names ending in one of secretSuffixes are too.
var secretNames = map[string]bool{
	"key": true, "accesskey": true, "authorization": true, "secret": true, "password": true, "token": true,
	"signingkey": true, "authtoken": true, "apikey": true, "privatekey": true, "masterkey": true, "testkey": true,
	"credentials": true, "credential": true,
}

var secretSuffixes = []string{"secret", "password", "passwd", "token", "signingkey", "privatekey", "apikey", "accesskey", "authtoken"}

// Masked is what a secret's value is replaced with.
const Masked = "[masked]"

// IsSecret reports whether a field of this name holds a secret.
func IsSecret(name string) bool {
	n := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(name))
	if secretNames[n] {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// MaskedJSON marshals v (a json.RawMessage or []byte is taken as JSON as
// it is) and masks every secret field's value at any depth. nil is "".
// Bytes that are not JSON are recorded as a JSON string of their length
// only: they may be anything.
func MaskedJSON(v any) (string, error) { return maskedJSON(v, nil) }

// maskedJSON is MaskedJSON that also replaces the values of personal
// fields (IsPersonal) with pseudo's, when pseudo is not nil.
func maskedJSON(v any, pseudo func(string) string) (string, error) {
	var raw []byte
	switch t := v.(type) {
	case nil:
		return "", nil
	case json.RawMessage:
		raw = t
	case []byte:
		raw = t
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		raw = b
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return "", nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		b, _ := json.Marshal(fmt.Sprintf("(%d bytes, not JSON)", len(raw)))
		return string(b), nil
	}
	b, err := json.Marshal(mask(tree, pseudo))
	return string(b), err
}

func mask(v any, pseudo func(string) string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if IsSecret(k) {
				if x != nil && x != "" {
					t[k] = Masked
				}
				continue
			}
			if pseudo != nil && IsPersonal(k) {
				t[k] = pseudonymise(x, pseudo)
				continue
			}
			t[k] = mask(x, pseudo)
		}
	case []any:
		for i := range t {
			t[i] = mask(t[i], pseudo)
		}
	}
	return v
}

// List lists the log's rows newest first (see store.AuditFilter).
func (l *Log) List(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	return l.st.AuditEntries(ctx, f)
}

// Verify walks the log's chain (see Verify).
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) { return Verify(ctx, l.st) }
