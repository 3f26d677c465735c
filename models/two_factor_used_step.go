package models

import (
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// TwoFactorUsedStep records that a user's TOTP code of one time step
// (RFC 6238: the Unix time divided by 30 s) was accepted (table
// two_factor_used_steps). Its unique index on the user and the step makes
// a step usable once per user: of concurrent submissions of one code,
// exactly one inserts the row. Cleanup.Purge deletes a row once its step
// is outside every verification window.
type TwoFactorUsedStep struct {
	ID     UUID  `gorm:"primaryKey;not null" json:"id"`
	UserID UUID  `gorm:"not null;uniqueIndex:,composite:user_step,priority:1" json:"user_id"`
	Step   int64 `gorm:"not null;uniqueIndex:,composite:user_step,priority:2" json:"step"`
	User   *User `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	// UsedAt is when the step was accepted.
	UsedAt time.Time `gorm:"not null;index" json:"used_at"`
}

// TableName returns "two_factor_used_steps", with the prefix and schema
// of a Store's tables (see Namer).
func (TwoFactorUsedStep) TableName(n schema.Namer) string {
	return tableName(n, "two_factor_used_steps")
}

// BeforeCreate assigns the id.
func (s *TwoFactorUsedStep) BeforeCreate(tx *gorm.DB) error {
	ensureID(&s.ID)
	return nil
}
