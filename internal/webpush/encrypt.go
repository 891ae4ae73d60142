package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// The aes128gcm content coding (RFC 8188) as Web Push uses it (RFC 8291):
//
//	header: salt (16) | rs (4, big-endian) | idlen (1) | keyid (idlen)
//	records of rs bytes each (the last may be shorter), each the AES-GCM
//	sealing of data | delimiter (1 before the last record, 2 in it) | zeros
//
// Web Push sends one record and the keyid is the sender's ephemeral P-256
// public key.

const (
	saltLen    = 16
	tagLen     = 16
	headerLen  = saltLen + 4 + 1 // before the keyid
	recordSize = 4096            // the rs Encrypt writes

	// MaxBody is the largest encrypted body Encrypt makes: RFC 8030 push
	// services must accept 4096 bytes, not necessarily more.
	MaxBody = 4096
	// MaxPlaintext is the largest payload that fits MaxBody: the header with
	// a 65-byte keyid (86 bytes), the delimiter and the GCM tag take the rest.
	MaxPlaintext = MaxBody - headerLen - pointLen - 1 - tagLen
)

// ErrTooLarge is returned by Encrypt (and Client.Send) for a payload over
// MaxPlaintext bytes.
var ErrTooLarge = fmt.Errorf("webpush: payload is larger than %d bytes", MaxPlaintext)

// Encrypt encrypts plaintext for the subscription (RFC 8291): a fresh
// ephemeral key pair and salt, one aes128gcm record. The result is the body
// of the push message, at most MaxBody bytes.
func Encrypt(sub Subscription, plaintext []byte) ([]byte, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return encrypt(sub, plaintext, salt, eph)
}

func encrypt(sub Subscription, plaintext, salt []byte, eph *ecdh.PrivateKey) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, ErrTooLarge
	}
	uaPub, err := sub.publicKey()
	if err != nil {
		return nil, invalid(ErrInvalidSubscription, err)
	}
	auth, err := sub.authSecret()
	if err != nil {
		return nil, invalid(ErrInvalidSubscription, err)
	}
	secret, err := eph.ECDH(uaPub)
	if err != nil {
		return nil, fmt.Errorf("webpush: key agreement: %w", err)
	}
	asPub := eph.PublicKey().Bytes()
	ikm, err := webPushIKM(secret, auth, uaPub.Bytes(), asPub)
	if err != nil {
		return nil, err
	}
	aead, nonce, err := contentKeys(ikm, salt)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, headerLen+len(asPub)+len(plaintext)+1+tagLen)
	out = append(out, salt...)
	out = binary.BigEndian.AppendUint32(out, recordSize)
	out = append(out, byte(len(asPub)))
	out = append(out, asPub...)
	record := make([]byte, 0, len(plaintext)+1)
	record = append(record, plaintext...)
	record = append(record, 2) // the last (and only) record
	return aead.Seal(out, nonce, record, nil), nil
}

// webPushIKM is RFC 8291 section 3.4: the input keying material from the
// ECDH secret, mixed with the auth secret and both public keys.
func webPushIKM(secret, auth, uaPub, asPub []byte) ([]byte, error) {
	prk, err := hkdf.Extract(sha256.New, secret, auth)
	if err != nil {
		return nil, err
	}
	info := make([]byte, 0, 14+len(uaPub)+len(asPub))
	info = append(info, "WebPush: info\x00"...)
	info = append(info, uaPub...)
	info = append(info, asPub...)
	return hkdf.Expand(sha256.New, prk, string(info), 32)
}

// contentKeys is RFC 8188 section 2.2 and 2.3: the content-encryption key
// and the base nonce from the IKM and the salt.
func contentKeys(ikm, salt []byte) (cipher.AEAD, []byte, error) {
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	return aead, nonce, nil
}

// Decrypt is the browser's side of RFC 8291: it decrypts a push message body
// with the subscription's private key and auth secret. It accepts any number
// of records, as RFC 8188 allows.
func Decrypt(body []byte, priv *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if priv == nil {
		return nil, errors.New("webpush: no private key")
	}
	if len(auth) != authLen {
		return nil, fmt.Errorf("webpush: auth secret must be %d bytes, got %d", authLen, len(auth))
	}
	return decryptECE(body, func(keyid []byte) ([]byte, error) {
		if len(keyid) != pointLen {
			return nil, fmt.Errorf("webpush: keyid must be the sender's 65-byte P-256 public key, got %d bytes", len(keyid))
		}
		asPub, err := priv.Curve().NewPublicKey(keyid)
		if err != nil {
			return nil, errors.New("webpush: keyid is not a P-256 public key")
		}
		secret, err := priv.ECDH(asPub)
		if err != nil {
			return nil, fmt.Errorf("webpush: key agreement: %w", err)
		}
		return webPushIKM(secret, auth, priv.PublicKey().Bytes(), keyid)
	})
}

// decryptECE decrypts an aes128gcm body (RFC 8188); ikmFor gives the input
// keying material for the header's keyid.
func decryptECE(body []byte, ikmFor func(keyid []byte) ([]byte, error)) ([]byte, error) {
	if len(body) < headerLen {
		return nil, fmt.Errorf("webpush: body of %d bytes is shorter than the aes128gcm header", len(body))
	}
	salt := body[:saltLen]
	rs := binary.BigEndian.Uint32(body[saltLen:])
	idlen := int(body[saltLen+4])
	if rs < tagLen+2 {
		return nil, fmt.Errorf("webpush: record size %d is below the minimum of %d", rs, tagLen+2)
	}
	if len(body) < headerLen+idlen {
		return nil, errors.New("webpush: body ends inside the keyid")
	}
	keyid := body[headerLen : headerLen+idlen]
	data := body[headerLen+idlen:]
	if len(data) == 0 {
		return nil, errors.New("webpush: body has no record")
	}
	ikm, err := ikmFor(keyid)
	if err != nil {
		return nil, err
	}
	aead, base, err := contentKeys(ikm, salt)
	if err != nil {
		return nil, err
	}
	var out []byte
	nonce := make([]byte, len(base))
	for seq := uint64(0); len(data) > 0; seq++ {
		n := min(uint64(len(data)), uint64(rs))
		rec := data[:n]
		data = data[n:]
		last := len(data) == 0
		if len(rec) <= tagLen {
			return nil, fmt.Errorf("webpush: record %d is too short", seq)
		}
		copy(nonce, base)
		for i := range 8 {
			nonce[len(nonce)-1-i] ^= byte(seq >> (8 * i))
		}
		plain, err := aead.Open(rec[:0:0], nonce, rec, nil)
		if err != nil {
			return nil, fmt.Errorf("webpush: record %d does not decrypt (wrong key, auth secret or damaged body)", seq)
		}
		end := len(plain) - 1
		for end >= 0 && plain[end] == 0 {
			end--
		}
		if end < 0 || (plain[end] != 1 && plain[end] != 2) {
			return nil, fmt.Errorf("webpush: record %d has no padding delimiter", seq)
		}
		switch {
		case plain[end] == 2 && !last:
			return nil, fmt.Errorf("webpush: record %d is marked last but more follow", seq)
		case plain[end] == 1 && last:
			return nil, errors.New("webpush: the body is truncated (no last record)")
		}
		out = append(out, plain[:end]...)
	}
	return out, nil
}
