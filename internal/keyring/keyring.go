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
	// secrets. (Per-account keys, for crypto-shredding, would use the
	// account's id.)
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
}

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
	current string                 // the newest data key: it seals
	oldest  []byte                 // the oldest data key, raw: Derive's root
	loaded  time.Time              // when the keys were last read

	reload sync.Mutex           // one reload at a time; guards missed
	missed map[string]time.Time // ids that envelopes named and no reload found, when last tried
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

// unwrapsAll checks that the keyring holds every platform data key.
func (k *Keyring) unwrapsAll(ctx context.Context) error {
	stored, err := k.store.DataKeys(ctx)
	if err != nil {
		return fmt.Errorf("reading data keys: %w", err)
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, sk := range stored {
		if sk.Scope == "" && k.keys[sk.ID] == nil {
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
	var current, oldest StoredKey
	var oldestRaw []byte
	others := map[string]bool{}
	for _, sk := range stored {
		if sk.MasterID != k.master.ID() {
			others[sk.MasterID] = true
			continue
		}
		if sk.Scope != "" {
			continue // another scope's key: not the platform's
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
	k.mu.Lock()
	k.keys, k.current, k.oldest, k.loaded = keys, current.ID, oldestRaw, time.Now()
	k.mu.Unlock()
	return nil
}

// Rotate makes a new data key, wrapped by the keyring's master key and by
// each of also, and makes it the one that seals. Older keys still open
// what they sealed. It returns the new key's id.
func (k *Keyring) Rotate(ctx context.Context, also ...Wrapper) (string, error) {
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
		rows = append(rows, StoredKey{ID: id, MasterID: w.ID(), Wrapped: wrapped, CreatedAt: now})
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

// Seal encrypts plain with the current data key; aad names where the value
// is stored and must be given again to Open it.
func (k *Keyring) Seal(ctx context.Context, aad string, plain []byte) (string, error) {
	k.mu.RLock()
	stale := time.Since(k.loaded) > refreshEvery
	k.mu.RUnlock()
	if stale {
		// Another node may have rotated; on failure keep sealing with
		// what is known.
		k.refresh(ctx)
	}
	k.mu.RLock()
	id, aead := k.current, k.keys[k.current]
	k.mu.RUnlock()
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

// Open decrypts a value Seal made with the same aad.
func (k *Keyring) Open(ctx context.Context, aad, value string) ([]byte, error) {
	id, payload, ok := split(value)
	if !ok {
		return nil, errors.New("keyring: not a sealed value")
	}
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
