// Package envelope encrypts authstore's reversible secrets at rest: the
// private signing keys, and the TOTP secrets of two-factor authentication.
//
// Every secret is sealed with AES-256-GCM under a data key of its own,
// made from crypto/rand for that secret alone; the data key is wrapped by a
// master key held by a Provider (the local one from AUTHSTORE_ENCRYPTION_KEY,
// or a host's KMS or Vault). Both encryptions take as associated data the
// Binding of the secret, its table, column and row, so a ciphertext copied
// to another row, column or table does not decrypt (ErrTampered). The
// ciphertext names the master key that wrapped its data key, so a rotated
// master key needs no re-encryption before it can be used: the previous
// keys still unwrap what they wrapped, and Reseal moves a secret to the
// current key by wrapping its data key again, without touching the secret.
//
// A sealed secret is text, so it fits a text column on every database:
//
//	ae1.KEYID.WRAPPED.SEALED
//
// where KEYID is the master key's id, WRAPPED the wrapped data key and
// SEALED the nonce and the secret's ciphertext, each unpadded base64url.
//
// # The check value
//
// The local provider's key id is a check value of its key: "local:"
// followed by the first 8 bytes, in hex, of HMAC-SHA-256 keyed by the master
// key over a fixed label. It tells which key wrapped a secret without
// revealing the key, and a configured key whose id no ciphertext names is
// not the key that wrote them. It lives in every ciphertext, so there is no
// separate row to keep in step: at startup the Store unwraps one secret per
// key id its tables hold (repositories.SigningKeys.CheckEncryption) and
// fails with ErrWrongKey when the configured keys cannot, whatever the
// provider.
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Errors of Open, Reseal and the providers. Callers test them with
// errors.Is; no message holds a secret or a key.
var (
	// ErrWrongKey means the configured master keys are not the ones the
	// stored secrets were encrypted with: AUTHSTORE_ENCRYPTION_KEY is wrong,
	// or the key that wrote them is missing from
	// AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS.
	ErrWrongKey = errors.New("envelope: wrong master key")
	// ErrUnknownKeyID means a ciphertext names a master key id the provider
	// does not hold.
	ErrUnknownKeyID = errors.New("envelope: unknown master key id")
	// ErrTampered means a ciphertext does not authenticate: it was altered,
	// truncated, or bound to another table, column or row than the one it
	// was read from.
	ErrTampered = errors.New("envelope: ciphertext tampered with or bound to another row")
	// ErrMalformed means a value is not a ciphertext of this package.
	ErrMalformed = errors.New("envelope: not an authstore ciphertext")
)

// Provider holds the master keys that wrap data keys: the local provider
// (NewLocal, FromConfig), or a host's adapter to a KMS or Vault, whose
// key ids are its own (a key ARN, a Vault key name and version).
type Provider interface {
	// CurrentKeyID returns the id of the master key WrapKey uses.
	CurrentKeyID() string
	// WrapKey encrypts dataKey under the current master key, authenticating
	// aad, and returns the id of that key and the wrapped data key.
	WrapKey(ctx context.Context, dataKey, aad []byte) (keyID string, wrapped []byte, err error)
	// UnwrapKey decrypts a data key wrapped by the master key keyID with
	// the same aad. It returns an error matching ErrUnknownKeyID for a key
	// it does not hold and ErrTampered when the wrapped key does not
	// authenticate.
	UnwrapKey(ctx context.Context, keyID string, wrapped, aad []byte) ([]byte, error)
}

// Binding names where a secret is stored: its table (the original name,
// without AUTHSTORE_TABLE_PREFIX, so that a prefix can change), its column
// and its row's id. It is the associated data of both encryptions.
type Binding struct {
	Table  string
	Column string
	Row    string
}

// aad returns the associated data of b.
func (b Binding) aad() ([]byte, error) {
	for _, f := range []struct{ name, v string }{{"table", b.Table}, {"column", b.Column}, {"row", b.Row}} {
		if f.v == "" || strings.IndexByte(f.v, 0) >= 0 || len(f.v) > 255 {
			return nil, fmt.Errorf("envelope: binding %s is empty, longer than 255 bytes or holds a NUL byte", f.name)
		}
	}
	return []byte("authstore envelope v1\x00" + b.Table + "\x00" + b.Column + "\x00" + b.Row), nil
}

// String returns the binding as table.column[row].
func (b Binding) String() string { return b.Table + "." + b.Column + "[" + b.Row + "]" }

const prefix = "ae1"

var b64 = base64.RawURLEncoding.Strict()

// Seal encrypts plaintext for the place b names: a fresh data key seals it
// with AES-256-GCM, and p wraps that data key under its current master key.
// It returns the text to store.
func Seal(ctx context.Context, p Provider, plaintext []byte, b Binding) (string, error) {
	if p == nil {
		return "", errors.New("envelope: seal: no provider")
	}
	aad, err := b.aad()
	if err != nil {
		return "", err
	}
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return "", fmt.Errorf("envelope: seal: random data key: %w", err)
	}
	defer clear(dek)
	sealed, err := gcmSeal(dek, plaintext, aad)
	if err != nil {
		return "", fmt.Errorf("envelope: seal %s: %w", b, err)
	}
	keyID, wrapped, err := p.WrapKey(ctx, dek, aad)
	if err != nil {
		return "", fmt.Errorf("envelope: seal %s: wrap the data key: %w", b, err)
	}
	return format(keyID, wrapped, sealed), nil
}

// Open decrypts a ciphertext Seal made for the place b names. It returns
// an error matching ErrMalformed for text that is not a ciphertext,
// ErrUnknownKeyID when p does not hold its master key, and ErrTampered when
// it does not authenticate (altered, or sealed for another binding).
func Open(ctx context.Context, p Provider, ciphertext string, b Binding) ([]byte, error) {
	if p == nil {
		return nil, errors.New("envelope: open: no provider")
	}
	aad, err := b.aad()
	if err != nil {
		return nil, err
	}
	keyID, wrapped, sealed, err := parse(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("envelope: open %s: %w", b, err)
	}
	dek, err := p.UnwrapKey(ctx, keyID, wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("envelope: open %s: %w", b, err)
	}
	defer clear(dek)
	plain, err := gcmOpen(dek, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("envelope: open %s: %w", b, ErrTampered)
	}
	return plain, nil
}

// Reseal wraps the data key of ciphertext again under p's current master
// key and returns the new text and true; a ciphertext already under the
// current key comes back unchanged with false. The secret itself is
// neither decrypted nor sealed again: only its data key is unwrapped, so
// the data key's authentication (the binding) is checked by the provider.
func Reseal(ctx context.Context, p Provider, ciphertext string, b Binding) (string, bool, error) {
	if p == nil {
		return "", false, errors.New("envelope: reseal: no provider")
	}
	aad, err := b.aad()
	if err != nil {
		return "", false, err
	}
	keyID, wrapped, sealed, err := parse(ciphertext)
	if err != nil {
		return "", false, fmt.Errorf("envelope: reseal %s: %w", b, err)
	}
	if keyID == p.CurrentKeyID() {
		return ciphertext, false, nil
	}
	dek, err := p.UnwrapKey(ctx, keyID, wrapped, aad)
	if err != nil {
		return "", false, fmt.Errorf("envelope: reseal %s: %w", b, err)
	}
	defer clear(dek)
	if _, err := gcmOpen(dek, sealed, aad); err != nil {
		return "", false, fmt.Errorf("envelope: reseal %s: %w", b, ErrTampered)
	}
	newID, rewrapped, err := p.WrapKey(ctx, dek, aad)
	if err != nil {
		return "", false, fmt.Errorf("envelope: reseal %s: wrap the data key: %w", b, err)
	}
	return format(newID, rewrapped, sealed), true, nil
}

// KeyID returns the id of the master key that wrapped ciphertext's data
// key, without decrypting anything.
func KeyID(ciphertext string) (string, error) {
	id, _, _, err := parse(ciphertext)
	return id, err
}

func format(keyID string, wrapped, sealed []byte) string {
	return prefix + "." + b64.EncodeToString([]byte(keyID)) + "." + b64.EncodeToString(wrapped) + "." + b64.EncodeToString(sealed)
}

// maxCiphertext bounds what parse decodes (a private RSA-4096 key in PKCS #8
// is under 2.5 kB).
const maxCiphertext = 64 << 10

func parse(s string) (keyID string, wrapped, sealed []byte, err error) {
	if len(s) > maxCiphertext {
		return "", nil, nil, ErrMalformed
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 || parts[0] != prefix {
		return "", nil, nil, ErrMalformed
	}
	var dec [3][]byte
	for i, part := range parts[1:] {
		if dec[i], err = b64.DecodeString(part); err != nil || len(dec[i]) == 0 {
			return "", nil, nil, ErrMalformed
		}
	}
	return string(dec[0]), dec[1], dec[2], nil
}

// gcmSeal returns nonce || AES-256-GCM(key, plaintext, aad).
func gcmSeal(key, plaintext, aad []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, aad), nil
}

// gcmOpen opens what gcmSeal made.
func gcmOpen(key, sealed, aad []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrTampered
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("want a 32-byte key, got %d bytes", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
