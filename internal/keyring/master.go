package keyring

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Master is a master key held in memory: it wraps data keys with
// AES-256-GCM.
type Master struct {
	id   string
	aead cipher.AEAD
	key  []byte // for Derive
}

var _ Wrapper = (*Master)(nil)

// NewMaster makes a master key of KeySize random-looking bytes.
func NewMaster(key []byte) (*Master, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("omnigate master key id"))
	return &Master{id: hex.EncodeToString(mac.Sum(nil)[:8]), aead: aead, key: append([]byte(nil), key...)}, nil
}

// ParseMaster reads a master key written as base64 (what GenerateMasterFile
// writes and `omnigate secrets generate` prints), around which white space is
// ignored.
func ParseMaster(text string) (*Master, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("a master key is %d bytes in base64 (44 characters; `omnigate secrets generate` makes one)", KeySize)
	}
	return NewMaster(key)
}

// ID names the key: the first 8 bytes of an HMAC of a constant under it,
// in hex. It tells keys apart and reveals nothing of them.
func (m *Master) ID() string { return m.id }

// Derive is a key for one purpose ("email links"), derived from the master
// key with HMAC-SHA256: every node with the master key derives the same,
// and it reveals nothing of the master key or of other purposes' keys.
func (m *Master) Derive(purpose string) []byte {
	mac := hmac.New(sha256.New, m.key)
	mac.Write([]byte("omnigate derived key: " + purpose))
	return mac.Sum(nil)
}

// Wrap encrypts a data key, bound to its id.
func (m *Master) Wrap(dataKey []byte, id string) ([]byte, error) {
	nonce := make([]byte, m.aead.NonceSize(), m.aead.NonceSize()+len(dataKey)+m.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return m.aead.Seal(nonce, nonce, dataKey, []byte("omnigate data key "+id)), nil
}

// Unwrap decrypts a data key Wrap made for the same id.
func (m *Master) Unwrap(wrapped []byte, id string) ([]byte, error) {
	n := m.aead.NonceSize()
	if len(wrapped) < n+m.aead.Overhead() {
		return nil, errors.New("wrapped key too short")
	}
	return m.aead.Open(nil, wrapped[:n], wrapped[n:], []byte("omnigate data key "+id))
}

// LoadMasterFile reads a master key file. loose is set when the file's
// permissions let other users read it (the caller should say so).
func LoadMasterFile(path string) (m *Master, loose bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	m, err = ParseMaster(string(b))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		loose = true
	}
	return m, loose, nil
}

// GenerateMasterFile writes a new random master key to path, readable by
// its owner only. It never replaces a file: an existing one gives an error
// satisfying errors.Is(err, fs.ErrExist).
func GenerateMasterFile(path string) (*Master, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	m, err := NewMaster(key)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = fmt.Fprintln(f, base64.StdEncoding.EncodeToString(key))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return m, nil
}
