package repositories

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Recovery codes (table recovery_codes): a set of RecoveryCodeCount codes
// per user with a confirmed factor, each of RecoveryCodeBits random bits,
// shown once and stored as HMAC-SHA-256 digests under the recovery key
// (AUTHSTORE_RECOVERY_KEY), with the key's version. A code is used once
// (consume.go); a new set voids the old one.

// RecoveryCodeCount is how many recovery codes a set holds.
const RecoveryCodeCount = 10

// RecoveryCodeBits is the entropy of one recovery code: 16 characters of
// base32, written xxxx-xxxx-xxxx-xxxx.
const RecoveryCodeBits = 80

// recoveryAlphabet is lower-case RFC 4648 base32.
var recoveryAlphabet = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// recoveryKey is one HMAC key of recovery codes and its version, the check
// value stored beside each digest.
type recoveryKey struct {
	version string
	key     []byte
}

// recoveryKeys are the configured recovery keys, the current one first;
// err says why there are none.
type recoveryKeys struct {
	keys []recoveryKey
	err  error
}

// loadRecoveryKeys decodes cfg's AUTHSTORE_RECOVERY_KEY and its previous
// keys.
func loadRecoveryKeys(cfg config.Config) recoveryKeys {
	current, previous, err := cfg.RecoveryKeys()
	if err != nil {
		return recoveryKeys{err: fmt.Errorf("%w: %w", ErrTwoFactorDisabled, err)}
	}
	if current == nil {
		return recoveryKeys{err: fmt.Errorf("%w: recovery codes need a key: set AUTHSTORE_RECOVERY_KEY (`openssl rand -base64 32`), separate from AUTHSTORE_ENCRYPTION_KEY", ErrTwoFactorDisabled)}
	}
	var out recoveryKeys
	for _, k := range append([][]byte{current}, previous...) {
		out.keys = append(out.keys, recoveryKey{version: recoveryKeyVersion(k), key: k})
	}
	return out
}

// recoveryKeyVersion is a recovery key's check value: "hmac:" and 16 hex
// digits of HMAC-SHA-256 keyed by it over a fixed label. It names the key
// without revealing it.
func recoveryKeyVersion(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("authstore recovery key id v1"))
	return "hmac:" + hex.EncodeToString(m.Sum(nil)[:8])
}

// digest returns the stored form of a normalised code under k.
func (k recoveryKey) digest(code string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte("authstore recovery code v1\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// digests returns code's digest under every key, the current one first.
func (ks recoveryKeys) digests(code string) []string {
	out := make([]string, len(ks.keys))
	for i, k := range ks.keys {
		out[i] = k.digest(code)
	}
	return out
}

// newRecoveryCodes makes a set of codes for userID: the codes to show and
// their rows, digested under the current key.
func (ks recoveryKeys) newRecoveryCodes(userID models.UUID) ([]string, []models.RecoveryCode, error) {
	codes := make([]string, RecoveryCodeCount)
	rows := make([]models.RecoveryCode, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, RecoveryCodeBits/8)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("recovery code: %w", err)
		}
		plain := recoveryAlphabet.EncodeToString(b)
		codes[i] = plain[0:4] + "-" + plain[4:8] + "-" + plain[8:12] + "-" + plain[12:16]
		rows[i] = models.RecoveryCode{ID: models.NewUUID(), UserID: userID, CodeHash: ks.keys[0].digest(plain), KeyVersion: ks.keys[0].version}
	}
	return codes, rows, nil
}

// normaliseRecoveryCode returns a recovery code as digested (lower case,
// without the dashes and spaces a user may type), and false for text that
// cannot be one.
func normaliseRecoveryCode(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	s = strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != RecoveryCodeBits/5 {
		return "", false
	}
	if _, err := recoveryAlphabet.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}

// replaceRecoveryCodes voids a user's recovery codes and stores rows, the
// new set, and records it.
func replaceRecoveryCodes(tx *gorm.DB, now time.Time, userID models.UUID, rows []models.RecoveryCode) error {
	if err := tx.Where("user_id = ?", userID).Delete(&models.RecoveryCode{}).Error; err != nil {
		return err
	}
	for i := range rows {
		rows[i].CreatedAt = now
	}
	if err := tx.Create(&rows).Error; err != nil {
		return err
	}
	return record(tx, now, &userID, models.EventRecoveryCodesGenerated, map[string]any{"count": len(rows), "key_version": rows[0].KeyVersion})
}

// spendRecoveryCode uses the unused recovery code of userID whose digest
// is one of digests, with the single-use update: of concurrent uses of one
// code exactly one wins. A code that is unknown, or already used, returns
// errNotSpent.
func spendRecoveryCode(tx *gorm.DB, now time.Time, userID models.UUID, digests []string) error {
	var row models.RecoveryCode
	err := tx.Select("id", "used_at").Where("user_id = ? AND code_hash IN ?", userID, digests).Take(&row).Error
	if err == gorm.ErrRecordNotFound {
		return fmt.Errorf("recovery code: unknown: %w", errNotSpent)
	}
	if err != nil {
		return err
	}
	won, err := consume(tx, recoveryUse, row.ID, now)
	if err != nil {
		return err
	}
	if !won {
		return fmt.Errorf("recovery code: %w: %w", ErrUsed, errNotSpent)
	}
	return record(tx, now, &userID, models.EventRecoveryCodeUsed, map[string]any{"recovery_code_id": row.ID})
}

// countRecoveryCodes returns how many unused recovery codes userID has.
func countRecoveryCodes(db *gorm.DB, userID models.UUID) (int64, error) {
	var n int64
	err := db.Model(&models.RecoveryCode{}).Where("user_id = ? AND used_at IS NULL", userID).Count(&n).Error
	return n, err
}
