package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Session is a login session (table sessions). Its token is stored as a
// SHA-256 digest; the plaintext goes back to the caller once.
type Session struct {
	ID     UUID  `gorm:"primaryKey;not null" json:"id"`
	UserID UUID  `gorm:"not null;index" json:"user_id"`
	User   *User `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	// TokenHash is the SHA-256 digest of the session token.
	TokenHash string `gorm:"not null;uniqueIndex" json:"-"`
	// Token is a write-only plaintext: the BeforeSave hook digests it.
	Token          string    `gorm:"-" json:"-"`
	IPAddress      string    `gorm:"not null" json:"ip_address"`
	UserAgent      string    `gorm:"not null" json:"user_agent"`
	Remember       bool      `gorm:"not null" json:"remember"`
	LastActivityAt time.Time `gorm:"not null;index" json:"last_activity_at"`
	// ExpiresAt is the absolute limit of the session.
	ExpiresAt time.Time `gorm:"not null;index" json:"expires_at"`
	CreatedAt time.Time `gorm:"not null" json:"created_at"`
	// AssuranceLevel is how the session's user authenticated, as NIST SP
	// 800-63B's authenticator assurance levels count it: AssurancePassword
	// (1), or AssuranceTwoFactor (2) once a second factor was verified for
	// it (at login or by a step-up).
	AssuranceLevel int64 `gorm:"not null;default:1" json:"assurance_level"`
	// SecondFactorAt is when a second factor was last verified for the
	// session; nil for a password-only session. A server that wants a
	// recent second factor for a sensitive action compares it with now
	// and asks for a step-up (TwoFactor.StepUp).
	SecondFactorAt *time.Time `json:"second_factor_at,omitempty"`
}

// Assurance levels of a session (Session.AssuranceLevel).
const (
	// AssurancePassword is a session opened with a password alone (AAL1).
	AssurancePassword int64 = 1
	// AssuranceTwoFactor is a session whose user also proved a second
	// factor, a TOTP code or a recovery code (AAL2).
	AssuranceTwoFactor int64 = 2
)

// TableName returns "sessions", with the prefix and schema of a
// Store's tables (see Namer).
func (Session) TableName(n schema.Namer) string { return tableName(n, "sessions") }

// String describes the session without its token.
func (s Session) String() string {
	return fmt.Sprintf("Session{ID:%s UserID:%s Token:%s ExpiresAt:%s}", s.ID, s.UserID, redacted, s.ExpiresAt.Format(time.RFC3339))
}

// BeforeSave digests a plaintext token set on the value and clears it. It
// runs on every save path, including Save's insert with hooks off.
func (s *Session) BeforeSave(tx *gorm.DB) error {
	digestInto(&s.Token, &s.TokenHash)
	return nil
}

// BeforeCreate assigns the id and refuses a row without its digest.
func (s *Session) BeforeCreate(tx *gorm.DB) error { return createToken(&s.ID, s.TokenHash) }
