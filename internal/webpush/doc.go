// Package webpush speaks Web Push: message delivery to a push service
// (RFC 8030), payload encryption with the aes128gcm content coding
// (RFC 8291 over RFC 8188) and VAPID application server identification
// (RFC 8292). It is pure protocol: it knows no omnigate type.
//
// The sending side is Encrypt and Client.Send; the receiving side (what a
// push service and a browser do) is VerifyVAPID and Decrypt, used by the
// push service simulator and by tests.
//
// Only the standard library's cryptography is used: crypto/ecdh for the
// key agreement, crypto/hkdf, AES-128-GCM and crypto/ecdsa for ES256.
package webpush
