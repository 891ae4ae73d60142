// Package keyring encrypts secrets at rest: envelope encryption with a key
// hierarchy the operator controls.
//
//	master key (a file or an environment variable; an external KMS later)
//	  └─ wraps data keys (random AES-256 keys, stored wrapped in the database)
//	       └─ encrypt values (AES-256-GCM), stored as a versioned envelope
//
// A value is stored as "enc:v1:<data key id>:<base64url(nonce ‖ ciphertext ‖
// tag)>". Its associated data names where it lives (table, column and row),
// so a ciphertext copied to another row does not open there. The newest data
// key encrypts; every data key the master key unwraps decrypts, so values
// written before a rotation stay readable while they are re-encrypted.
//
// The keyring knows no table and no omnigate type: the store keeps the
// wrapped data keys (KeyStore) and says what each value's associated data is.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Prefix starts every sealed value; a value without it was stored in clear
// (by a release before encryption at rest).
const Prefix = "enc:v1:"

// KeySize is the size of master and data keys: AES-256.
const KeySize = 32

// StoredKey is one data key wrapped by one master key, as the database
// keeps it. A data key wrapped by two master keys (during a master key
// rotation) is two StoredKeys with the same ID.
type StoredKey struct {
	ID       string // the data key's id, named in every envelope it sealed
	MasterID string // the master key (Wrapper.ID) that wrapped it
	// Scope is whose data the key encrypts: "" for the platform's
	// secrets, an account's id for that account's data (SealFor), so that
	// deleting the account's keys (Shred) erases what they sealed.
	Scope     string
	Wrapped   []byte
	CreatedAt time.Time
}

// KeyStore keeps wrapped data keys: the store implements it.
type KeyStore interface {
	// DataKeys lists every stored key, whatever wrapped it.
	DataKeys(ctx context.Context) ([]StoredKey, error)
	// AddDataKeys stores keys in one transaction.
	AddDataKeys(ctx context.Context, keys []StoredKey) error
	// DeleteDataKeys deletes every key wrapped by the master key,
	// returning how many went.
	DeleteDataKeys(ctx context.Context, masterID string) (int, error)
	// DeleteScope deletes every key of a scope, whatever wrapped it,
	// returning how many rows went.
	DeleteScope(ctx context.Context, scope string) (int, error)
}

// ErrErased is the error (errors.Is) of opening a value whose data key is
// no longer in the database: it was shredded, and what it sealed is gone.
var ErrErased = errors.New("keyring: the data key that sealed this value was deleted (crypto-shredded)")

// Wrapper wraps and unwraps data keys: a master key held in memory
// (Master), or an external key management service.
type Wrapper interface {
	// ID names the master key without revealing it; it is stored with
	// every key it wrapped.
	ID() string
	// Wrap encrypts a data key; id is the data key's id, bound to the
	// result so that wrapped keys cannot be swapped.
	Wrap(dataKey []byte, id string) ([]byte, error)
	Unwrap(wrapped []byte, id string) ([]byte, error)
}

// WrongMasterError says that the master key given wraps none of the
// database's data keys.
type WrongMasterError struct {
	Given string   // the id of the master key given
	Found []string // the ids of the master keys that wrapped the data keys
}

func (e *WrongMasterError) Error() string {
	return fmt.Sprintf("the database's secrets are encrypted under master key %s, not under the master key given (%s)",
		strings.Join(e.Found, ", "), e.Given)
}

// Keyring seals and opens values with the data keys one master key
// unwraps. It is safe for concurrent use.
type Keyring struct {
	store  KeyStore
	master Wrapper

	mu      sync.RWMutex
	keys    map[string]cipher.AEAD // data key id → its cipher
	current string                 // the newest platform data key: it seals
	scoped  map[string]string      // scope → its newest data key's id
	known   map[string]bool        // every data key id stored, whatever wrapped it
	oldest  []byte                 // the oldest data key, raw: Derive's root
	roots   map[string][]byte      // scope → its oldest data key, raw: DeriveFor's root
	derived map[string][]byte      // scope "\x00" purpose → DeriveFor's key, until the next load
	loaded  time.Time              // when the keys were last read

	reload sync.Mutex           // one reload at a time; guards missed
	missed map[string]time.Time // ids that envelopes named and no reload found, when last tried

	create sync.Mutex // one new scope key at a time
}

// refreshEvery is how old the keyring's view of the data keys may be when
// it seals, so that a node sees another node's rotation; keyring reads
// are cheap and sealing is rare (a new account, app or connector).
const refreshEvery = time.Minute

// Open loads the data keys master unwraps. On a database with no data key
// yet it makes the first one. A database whose keys master did not wrap
// gives a *WrongMasterError, one with a data key that master does not wrap
// (what that key encrypted could not be read) an error naming it, and a
// key master wrapped but cannot unwrap (a damaged row) an error naming it.
func Open(ctx context.Context, st KeyStore, master Wrapper) (*Keyring, error) {
	k := &Keyring{store: st, master: master}
	if err := k.load(ctx); err != nil {
		return nil, err
	}
	if err := k.unwrapsAll(ctx); err != nil {
		return nil, err
	}
	if k.current == "" {
		if _, err := k.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// unwrapsAll checks that the keyring holds every data key, the platform's
// and the accounts'.
func (k *Keyring) unwrapsAll(ctx context.Context) error {
	stored, err := k.store.DataKeys(ctx)
	if err != nil {
		return fmt.Errorf("reading data keys: %w", err)
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, sk := range stored {
		if k.keys[sk.ID] == nil {
			return fmt.Errorf("data key %s is wrapped by master key %s and not by the master key given (%s), so what it encrypted "+
				"could not be read: start with master key %s, or with it run `omnigate secrets rotate --new-master-key-file` naming this one",
				sk.ID, sk.MasterID, k.master.ID(), sk.MasterID)
		}
	}
	return nil
}

// MasterID is the id of the master key the keyring was opened with.
func (k *Keyring) MasterID() string { return k.master.ID() }

// CurrentKeyID is the id of the data key that seals.
func (k *Keyring) CurrentKeyID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// load reads the data keys and unwraps those of the keyring's master key.
func (k *Keyring) load(ctx context.Context) error {
	stored, err := k.store.DataKeys(ctx)
	if err != nil {
		return fmt.Errorf("reading data keys: %w", err)
	}
	keys := map[string]cipher.AEAD{}
	known := map[string]bool{}
	var current, oldest StoredKey
	var oldestRaw []byte
	newest := map[string]StoredKey{} // scope → its newest key
	first := map[string]StoredKey{}  // scope → its oldest key
	roots := map[string][]byte{}
	others := map[string]bool{}
	for _, sk := range stored {
		known[sk.ID] = true
		if sk.MasterID != k.master.ID() {
			others[sk.MasterID] = true
			continue
		}
		raw, err := k.master.Unwrap(sk.Wrapped, sk.ID)
		if err != nil {
			return fmt.Errorf("master key %s cannot unwrap data key %s (a damaged row?): %w", k.master.ID(), sk.ID, err)
		}
		aead, err := newAEAD(raw)
		if err != nil {
			return fmt.Errorf("data key %s: %w", sk.ID, err)
		}
		keys[sk.ID] = aead
		if sk.Scope != "" {
			if n, ok := newest[sk.Scope]; !ok || sk.CreatedAt.After(n.CreatedAt) || (sk.CreatedAt.Equal(n.CreatedAt) && sk.ID > n.ID) {
				newest[sk.Scope] = sk
			}
			if f, ok := first[sk.Scope]; !ok || sk.CreatedAt.Before(f.CreatedAt) || (sk.CreatedAt.Equal(f.CreatedAt) && sk.ID < f.ID) {
				first[sk.Scope], roots[sk.Scope] = sk, raw
			}
			continue
		}
		if oldest.ID == "" || sk.CreatedAt.Before(oldest.CreatedAt) || (sk.CreatedAt.Equal(oldest.CreatedAt) && sk.ID < oldest.ID) {
			oldest, oldestRaw = sk, raw
		}
		if current.ID == "" || sk.CreatedAt.After(current.CreatedAt) || (sk.CreatedAt.Equal(current.CreatedAt) && sk.ID > current.ID) {
			current = sk
		}
	}
	if len(keys) == 0 && len(others) > 0 {
		e := &WrongMasterError{Given: k.master.ID()}
		for id := range others {
			e.Found = append(e.Found, id)
		}
		sort.Strings(e.Found)
		return e
	}
	scoped := make(map[string]string, len(newest))
	for scope, sk := range newest {
		scoped[scope] = sk.ID
	}
	k.mu.Lock()
	k.keys, k.current, k.oldest, k.loaded = keys, current.ID, oldestRaw, time.Now()
	k.scoped, k.known, k.roots, k.derived = scoped, known, roots, nil
	k.mu.Unlock()
	return nil
}

// Rotate makes a new data key, wrapped by the keyring's master key and by
// each of also, and makes it the one that seals. Older keys still open
// what they sealed. It returns the new key's id.
func (k *Keyring) Rotate(ctx context.Context, also ...Wrapper) (string, error) {
	return k.rotate(ctx, "", also)
}

// rotate makes a new data key of a scope.
func (k *Keyring) rotate(ctx context.Context, scope string, also []Wrapper) (string, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := newKeyID()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var rows []StoredKey
	for _, w := range append([]Wrapper{k.master}, also...) {
		wrapped, err := w.Wrap(raw, id)
		if err != nil {
			return "", fmt.Errorf("wrapping data key with master key %s: %w", w.ID(), err)
		}
		rows = append(rows, StoredKey{ID: id, MasterID: w.ID(), Scope: scope, Wrapped: wrapped, CreatedAt: now})
	}
	if err := k.store.AddDataKeys(ctx, rows); err != nil {
		return "", fmt.Errorf("storing data key: %w", err)
	}
	if err := k.load(ctx); err != nil {
		return "", err
	}
	return id, nil
}

// AddMaster wraps every data key of the keyring with w too, so that a
// keyring opened with w opens everything this one does: the first step of
// a master key rotation. It returns how many keys it wrapped.
func (k *Keyring) AddMaster(ctx context.Context, w Wrapper) (int, error) {
	if w.ID() == k.master.ID() {
		return 0, fmt.Errorf("the new master key is the current one (%s)", w.ID())
	}
	stored, err := k.store.DataKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading data keys: %w", err)
	}
	has := map[string]bool{}
	for _, sk := range stored {
		if sk.MasterID == w.ID() {
			has[sk.ID] = true
		}
	}
	var rows []StoredKey
	for _, sk := range stored {
		if sk.MasterID != k.master.ID() || has[sk.ID] {
			continue
		}
		raw, err := k.master.Unwrap(sk.Wrapped, sk.ID)
		if err != nil {
			return 0, fmt.Errorf("unwrapping data key %s: %w", sk.ID, err)
		}
		wrapped, err := w.Wrap(raw, sk.ID)
		if err != nil {
			return 0, fmt.Errorf("wrapping data key %s with master key %s: %w", sk.ID, w.ID(), err)
		}
		rows = append(rows, StoredKey{ID: sk.ID, MasterID: w.ID(), Scope: sk.Scope, Wrapped: wrapped, CreatedAt: sk.CreatedAt})
	}
	if err := k.store.AddDataKeys(ctx, rows); err != nil {
		return 0, fmt.Errorf("storing data keys: %w", err)
	}
	return len(rows), nil
}

// RetireMaster deletes the wrappings by another master key, once every
// node runs with this keyring's: the last step of a master key rotation.
// It refuses when a data key would be left that only the retired master
// key wraps. It returns how many wrappings went.
func (k *Keyring) RetireMaster(ctx context.Context, masterID string) (int, error) {
	if masterID == k.master.ID() {
		return 0, fmt.Errorf("master key %s is the one in use: retire the old one, not the one this command was given", masterID)
	}
	stored, err := k.store.DataKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading data keys: %w", err)
	}
	mine, found := map[string]bool{}, false
	for _, sk := range stored {
		if sk.MasterID == k.master.ID() {
			mine[sk.ID] = true
		}
	}
	for _, sk := range stored {
		if sk.MasterID != masterID {
			continue
		}
		found = true
		if !mine[sk.ID] {
			return 0, fmt.Errorf("data key %s is wrapped only by master key %s: retiring it would lose what that key encrypted", sk.ID, masterID)
		}
	}
	if !found {
		return 0, fmt.Errorf("no data key is wrapped by master key %s", masterID)
	}
	return k.store.DeleteDataKeys(ctx, masterID)
}

// Derive returns a 32-byte key for one purpose ("verp" …), an HMAC-SHA256
// of the purpose under the platform's oldest data key: every node derives
// the same key, it survives master key rotations (which rewrap, not
// replace, data keys) and data key rotations (old keys are kept to open
// what they sealed), and a key derived for one purpose says nothing about
// another's. nil before the keyring has a data key.
func (k *Keyring) Derive(purpose string) []byte {
	k.mu.RLock()
	root := k.oldest
	k.mu.RUnlock()
	if root == nil {
		return nil
	}
	mac := hmac.New(sha256.New, root)
	mac.Write([]byte("omnigate derived key\x00" + purpose))
	return mac.Sum(nil)
}

// DeriveFor returns a 32-byte key for one purpose of one scope (an
// account's id), an HMAC-SHA256 of the purpose under the scope's oldest data
// key: every node derives the same key, and it does not change when the
// master key rotates. Keyed hashes of an account's personal data (searching
// by recipient) use it, so that shredding the scope's keys (Shred) leaves
// hashes nobody can recompute: nobody can confirm a number against them.
// nil while the scope has no data key (EnsureScope makes it).
func (k *Keyring) DeriveFor(ctx context.Context, scope, purpose string) []byte {
	if scope == "" {
		return k.Derive(purpose)
	}
	k.staleCheck(ctx)
	name := scope + "\x00" + purpose
	k.mu.RLock()
	key, root := k.derived[name], k.roots[scope]
	k.mu.RUnlock()
	if key != nil || root == nil {
		return key
	}
	mac := hmac.New(sha256.New, root)
	mac.Write([]byte("omnigate derived key\x00" + purpose))
	key = mac.Sum(nil)
	k.mu.Lock()
	// Kept unless a reload in between changed the scope's root.
	if hmac.Equal(k.roots[scope], root) && len(k.derived) < 100_000 {
		if k.derived == nil {
			k.derived = map[string][]byte{}
		}
		k.derived[name] = key
	}
	k.mu.Unlock()
	return key
}

// Seal encrypts plain with the current data key; aad names where the value
// is stored and must be given again to Open it.
func (k *Keyring) Seal(ctx context.Context, aad string, plain []byte) (string, error) {
	return k.SealFor(ctx, "", aad, plain)
}

// SealFor encrypts plain with the newest data key of a scope (an account's
// id; "" is the platform's), making the scope's first key, wrapped by the
// master key, on its first use. Shred erases what it sealed.
func (k *Keyring) SealFor(ctx context.Context, scope, aad string, plain []byte) (string, error) {
	return k.seal(ctx, scope, aad, plain, true)
}

// ErrNoScopeKey is the error (errors.Is) of SealExisting for a scope with
// no data key yet: EnsureScope makes it.
var ErrNoScopeKey = errors.New("keyring: the scope has no data key yet")

// SealExisting is SealFor without making the scope's first key (which
// writes to the database): for callers inside a transaction, who call
// EnsureScope first.
func (k *Keyring) SealExisting(ctx context.Context, scope, aad string, plain []byte) (string, error) {
	return k.seal(ctx, scope, aad, plain, false)
}

// EnsureScope makes the scope's first data key unless it has one.
func (k *Keyring) EnsureScope(ctx context.Context, scope string) error {
	if scope == "" || k.HasScope(scope) {
		return nil
	}
	_, _, err := k.scopeKey(ctx, scope)
	return err
}

func (k *Keyring) seal(ctx context.Context, scope, aad string, plain []byte, create bool) (string, error) {
	k.staleCheck(ctx)
	k.mu.RLock()
	id := k.current
	if scope != "" {
		id = k.scoped[scope]
	}
	aead := k.keys[id]
	k.mu.RUnlock()
	if aead == nil && scope != "" {
		if !create {
			return "", fmt.Errorf("%s: %w", scope, ErrNoScopeKey)
		}
		var err error
		if id, aead, err = k.scopeKey(ctx, scope); err != nil {
			return "", err
		}
	}
	if aead == nil {
		return "", errors.New("keyring: no data key")
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := aead.Seal(nonce, nonce, plain, []byte(aad))
	return Prefix + id + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// staleCheck reloads the keys when they were read more than refreshEvery
// ago: another node may have rotated, or shredded a scope. On failure the
// keyring keeps what it knows.
func (k *Keyring) staleCheck(ctx context.Context) {
	k.mu.RLock()
	stale := time.Since(k.loaded) > refreshEvery
	k.mu.RUnlock()
	if stale {
		k.refresh(ctx)
	}
}

// scopeKey returns the scope's newest key, making it if the database has
// none: once per scope, unless two nodes race (then the scope has two keys,
// both of which open what they sealed).
func (k *Keyring) scopeKey(ctx context.Context, scope string) (string, cipher.AEAD, error) {
	k.create.Lock()
	defer k.create.Unlock()
	get := func() (string, cipher.AEAD) {
		k.mu.RLock()
		defer k.mu.RUnlock()
		id := k.scoped[scope]
		return id, k.keys[id]
	}
	if id, aead := get(); aead != nil {
		return id, aead, nil
	}
	// Another node may have made it.
	k.reload.Lock()
	err := k.load(ctx)
	k.reload.Unlock()
	if err != nil {
		return "", nil, err
	}
	if id, aead := get(); aead != nil {
		return id, aead, nil
	}
	k.reload.Lock()
	_, err = k.rotate(ctx, scope, nil)
	k.reload.Unlock()
	if err != nil {
		return "", nil, fmt.Errorf("making the data key of %s: %w", scope, err)
	}
	id, aead := get()
	if aead == nil {
		return "", nil, fmt.Errorf("keyring: the data key of %s was made and is gone", scope)
	}
	return id, aead, nil
}

// Shred deletes every data key of a scope (an account's id), whatever
// master key wrapped it: what they sealed can no longer be opened, here
// and on other nodes once they reload (within refreshEvery). Backups hold
// no data key; the store deletes the scope's keys from their keys files
// too (sqlstore's shred). It returns how many data keys went. The
// platform's scope ("") cannot be shredded.
func (k *Keyring) Shred(ctx context.Context, scope string) (int, error) {
	if scope == "" {
		return 0, errors.New("keyring: the platform's data keys cannot be shredded")
	}
	stored, err := k.store.DataKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading data keys: %w", err)
	}
	ids := map[string]bool{}
	for _, sk := range stored {
		if sk.Scope == scope {
			ids[sk.ID] = true
		}
	}
	if _, err := k.store.DeleteScope(ctx, scope); err != nil {
		return 0, fmt.Errorf("deleting the data keys of %s: %w", scope, err)
	}
	k.reload.Lock()
	defer k.reload.Unlock()
	if err := k.load(ctx); err != nil {
		return len(ids), err
	}
	return len(ids), nil
}

// HasScope reports whether the keyring holds a data key of the scope.
func (k *Keyring) HasScope(scope string) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.scoped[scope] != ""
}

// Open decrypts a value Seal or SealFor made with the same aad. A value
// whose data key was shredded gives an error satisfying
// errors.Is(err, ErrErased).
func (k *Keyring) Open(ctx context.Context, aad, value string) ([]byte, error) {
	id, payload, ok := split(value)
	if !ok {
		return nil, errors.New("keyring: not a sealed value")
	}
	k.staleCheck(ctx)
	k.mu.RLock()
	aead := k.keys[id]
	k.mu.RUnlock()
	if aead == nil {
		// A key made since this keyring loaded (a rotation elsewhere)?
		var err error
		if aead, err = k.missing(ctx, id); err != nil {
			return nil, err
		}
	}
	sealed, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("keyring: a value sealed by data key %s is malformed", id)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("keyring: a value sealed by data key %s does not open here (altered, or moved from another row)", id)
	}
	return plain, nil
}

// refresh reloads the keys unless they were loaded less than a second ago.
func (k *Keyring) refresh(ctx context.Context) error {
	k.reload.Lock()
	defer k.reload.Unlock()
	k.mu.RLock()
	recent := time.Since(k.loaded) < time.Second
	k.mu.RUnlock()
	if recent {
		return nil
	}
	return k.load(ctx)
}

// missing reloads the keys for a data key an envelope named and the
// keyring lacks: one made by a rotation elsewhere is then known. An id no
// reload found is tried again at most once a second, so that a damaged
// value cannot make every read reach the database.
func (k *Keyring) missing(ctx context.Context, id string) (cipher.AEAD, error) {
	k.reload.Lock()
	defer k.reload.Unlock()
	k.mu.RLock()
	aead := k.keys[id]
	k.mu.RUnlock()
	if aead != nil {
		return aead, nil // another reader's reload found it
	}
	if time.Since(k.missed[id]) >= time.Second {
		if err := k.load(ctx); err != nil {
			return nil, err
		}
		k.mu.RLock()
		aead = k.keys[id]
		k.mu.RUnlock()
		if aead != nil {
			return aead, nil
		}
		if k.missed == nil {
			k.missed = map[string]time.Time{}
		}
		k.missed[id] = time.Now()
	}
	k.mu.RLock()
	gone := !k.known[id]
	k.mu.RUnlock()
	if gone {
		return nil, fmt.Errorf("data key %s: %w", id, ErrErased)
	}
	return nil, fmt.Errorf("keyring: data key %s is not wrapped by master key %s", id, k.master.ID())
}

// Sealed reports whether a stored value is an envelope (rather than a
// value stored in clear by an earlier release).
func Sealed(value string) bool { return strings.HasPrefix(value, Prefix) }

// KeyID is the id of the data key that sealed value; "" for a value in
// clear.
func KeyID(value string) string {
	id, _, _ := split(value)
	return id
}

func split(value string) (id, payload string, ok bool) {
	rest, ok := strings.CutPrefix(value, Prefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("want a %d-byte key, got %d bytes", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func newKeyID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
