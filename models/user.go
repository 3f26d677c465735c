package models

import (
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// User is an account (table users). Email keeps the address as typed, for
// display; uniqueness and lookup compare EmailNormalized (NormalizeEmail:
// NFKC, case folded), which has a plain unique index.
type User struct {
	ID              UUID   `gorm:"primaryKey;not null" json:"id"`
	Name            string `gorm:"not null" json:"name"`
	Email           string `gorm:"not null" json:"email"`
	EmailNormalized string `gorm:"not null;uniqueIndex" json:"-"`
	// PasswordHash is the Argon2id PHC string (or an imported bcrypt hash).
	PasswordHash string `gorm:"column:password;not null" json:"-"`
	// Password is a write-only plaintext: the BeforeSave hook hashes it into
	// PasswordHash and clears it.
	Password        string     `gorm:"-" json:"-"`
	EmailVerifiedAt *time.Time `json:"email_verified_at,omitempty"`
	// TwoFactorSecret is the TOTP secret sealed by package envelope, bound
	// to users.two_factor_secret and the user's id; nil without a factor.
	TwoFactorSecret *string `json:"-"`
	// TwoFactorRecoveryCodes is unused and always nil: recovery codes are
	// rows of recovery_codes, one per code, so that each is
	// used once by a conditional update.
	TwoFactorRecoveryCodes *string `json:"-"`
	// TwoFactorConfirmedAt is when the factor was confirmed; a factor
	// counts (is asked for at login) only once confirmed.
	TwoFactorConfirmedAt *time.Time `json:"two_factor_confirmed_at,omitempty"`
	// FailedLogins counts failed logins since the last success; it is
	// incremented atomically in SQL.
	FailedLogins      int64      `gorm:"not null;default:0" json:"failed_logins"`
	LastFailedLoginAt *time.Time `json:"last_failed_login_at,omitempty"`
	// LockedUntil, when set and in the future, is when the account's
	// lockout ends: logins are refused until then.
	LockedUntil *time.Time `json:"locked_until,omitempty"`
	// Lockouts counts the locks since the last successful login; each lasts
	// twice as long as the one before.
	Lockouts  int64     `gorm:"not null;default:0" json:"lockouts"`
	CreatedAt time.Time `gorm:"not null;index" json:"created_at"`
	UpdatedAt time.Time `gorm:"not null" json:"updated_at"`
}

// TableName returns "users", with the prefix and schema of a
// Store's tables (see Namer).
func (User) TableName(n schema.Namer) string { return tableName(n, "users") }

// String describes the user without its password hash or two-factor secrets.
func (u User) String() string {
	return fmt.Sprintf("User{ID:%s Name:%q Email:%q Password:%s}", u.ID, u.Name, u.Email, redacted)
}

// BeforeSave normalises the email and hashes a plaintext Password set on the
// value (with the session's hasher, see WithHasher), then clears it. A
// loaded user has no plaintext, so saving it again never re-hashes.
func (u *User) BeforeSave(tx *gorm.DB) error {
	if u.Email != "" {
		u.EmailNormalized = NormalizeEmail(u.Email)
	}
	if u.Password == "" {
		return nil
	}
	if err := hooks.CheckPasswordLength(u.Password); err != nil {
		return err
	}
	h, err := hasherOf(tx).Hash(u.Password)
	if err != nil {
		return err
	}
	u.PasswordHash, u.Password = h, ""
	return nil
}

// BeforeCreate assigns the id.
func (u *User) BeforeCreate(tx *gorm.DB) error {
	ensureID(&u.ID)
	return nil
}
