package envelope

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/internal/redact"
)

// Local is the Provider of master keys held in the process: the current
// key wraps, the previous ones still unwrap what they wrapped. It prints
// its key ids alone, under every verb, in JSON and in slog.
type Local struct {
	current  localKey
	previous []localKey
}

type localKey struct {
	id  string
	key []byte
}

// NewLocal returns a Local provider whose current master key is current
// and which also unwraps with previous, each 32 bytes. A previous key equal
// to the current one is ignored.
func NewLocal(current []byte, previous ...[]byte) (*Local, error) {
	if len(current) != 32 {
		return nil, fmt.Errorf("envelope: the current master key must be 32 bytes, got %d", len(current))
	}
	l := &Local{current: newLocalKey(current)}
	for i, p := range previous {
		if len(p) != 32 {
			return nil, fmt.Errorf("envelope: previous master key %d must be 32 bytes, got %d", i+1, len(p))
		}
		if k := newLocalKey(p); k.id != l.current.id {
			l.previous = append(l.previous, k)
		}
	}
	return l, nil
}

// FromConfig returns the Local provider of cfg's AUTHSTORE_ENCRYPTION_KEY and
// AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS, or nil when no key is configured.
func FromConfig(cfg config.Config) (*Local, error) {
	current, previous, err := cfg.EncryptionKeys()
	if err != nil || current == nil {
		return nil, err
	}
	return NewLocal(current, previous...)
}

func newLocalKey(key []byte) localKey {
	return localKey{id: LocalKeyID(key), key: append([]byte(nil), key...)}
}

// LocalKeyID returns the id the Local provider gives a master key: its
// check value, "local:" and 16 hex digits of HMAC-SHA-256 keyed by the key.
func LocalKeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("authstore envelope master key id v1"))
	return "local:" + hex.EncodeToString(m.Sum(nil)[:8])
}

// CurrentKeyID returns the current master key's id.
func (l *Local) CurrentKeyID() string { return l.current.id }

// KeyIDs returns the ids of every key l holds, the current one first.
func (l Local) KeyIDs() []string {
	ids := []string{l.current.id}
	for _, k := range l.previous {
		ids = append(ids, k.id)
	}
	return ids
}

// WrapKey wraps dataKey under the current master key with AES-256-GCM.
func (l *Local) WrapKey(_ context.Context, dataKey, aad []byte) (string, []byte, error) {
	wrapped, err := gcmSeal(l.current.key, dataKey, aad)
	if err != nil {
		return "", nil, err
	}
	return l.current.id, wrapped, nil
}

// UnwrapKey unwraps a data key wrapped by the master key keyID.
func (l *Local) UnwrapKey(_ context.Context, keyID string, wrapped, aad []byte) ([]byte, error) {
	for _, k := range append([]localKey{l.current}, l.previous...) {
		if k.id == keyID {
			return gcmOpen(k.key, wrapped, aad)
		}
	}
	return nil, fmt.Errorf("%w %q (configured: %s)", ErrUnknownKeyID, clip(keyID), strings.Join(l.KeyIDs(), ", "))
}

// clip bounds a key id read from a ciphertext before an error quotes it.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// String returns the provider's key ids, never a key.
func (l Local) String() string {
	return "envelope.Local{current:" + l.current.id + " previous:[" + strings.Join(l.KeyIDs()[1:], " ") + "]}"
}

// GoString is String.
func (l Local) GoString() string { return l.String() }

// Format implements fmt.Formatter: every verb prints l.String().
func (l Local) Format(f fmt.State, verb rune) { redact.Format(f, verb, l.String(), l.GoString()) }

// LogValue implements slog.LogValuer: l.String().
func (l Local) LogValue() slog.Value { return slog.StringValue(l.String()) }

// MarshalJSON encodes the key ids alone.
func (l Local) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"current": l.current.id, "previous": l.KeyIDs()[1:]})
}

// DeriveKey returns a 32-byte key for purpose, derived from the current
// master key (HMAC-SHA-256 keyed by it over a label and purpose), for a use
// that needs a symmetric key every process can compute and that may change
// when the master key does: refresh-token rotation without JWT_SECRET.
func (l *Local) DeriveKey(purpose string) []byte {
	m := hmac.New(sha256.New, l.current.key)
	m.Write([]byte("authstore envelope derived key v1\x00" + purpose))
	return m.Sum(nil)
}
