package repositories

import (
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Two-factor challenges (table two_factor_challenges): Users.Login writes
// one when the password of an account with a confirmed factor was right;
// TwoFactor.CompleteLogin uses it once, with the second factor.

// maxChallengeLength bounds a challenge token before it is digested (a
// token is 43 characters).
const maxChallengeLength = 128

// findChallenge returns the challenge of token, or ErrInvalidCredentials
// for a token no challenge has.
func findChallenge(db *gorm.DB, token string) (*models.TwoFactorChallenge, error) {
	if token == "" || len(token) > maxChallengeLength {
		return nil, fmt.Errorf("challenge: %w", ErrInvalidCredentials)
	}
	var c models.TwoFactorChallenge
	err := db.Where("token_hash = ?", hooks.Digest(token)).Take(&c).Error
	if err == gorm.ErrRecordNotFound {
		return nil, fmt.Errorf("challenge: %w", ErrInvalidCredentials)
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// spendChallenge uses challenge c at now, with the single-use update; a
// miss is explained from a fresh read (ErrUsed, ErrExpired).
func spendChallenge(tx *gorm.DB, now time.Time, c *models.TwoFactorChallenge) error {
	won, err := consume(tx, challengeUse, c.ID, now)
	if err != nil || won {
		return err
	}
	var fresh models.TwoFactorChallenge
	if err := tx.Where("id = ?", c.ID).Take(&fresh).Error; err != nil {
		return fmt.Errorf("challenge: %w", ErrInvalidCredentials)
	}
	if err := whyNotUsable("challenge", fresh.UsedAt, false, fresh.ExpiresAt, now); err != nil {
		return err
	}
	return fmt.Errorf("challenge: %w", ErrConcurrentChange)
}

// spentChallengesTarget selects the challenges no login can use any more,
// for Cleanup.Purge: those expired and those used (single use: nothing
// reads a used challenge but a replay, which an unknown challenge answers
// as well, with ErrInvalidCredentials). A row became deletable at the
// earlier of its use and its expiry.
func spentChallengesTarget(now time.Time) purgeTarget {
	return purgeTarget{model: &models.TwoFactorChallenge{}, where: "expires_at < ? OR used_at IS NOT NULL", args: []any{now},
		age: "CASE WHEN used_at IS NULL OR expires_at < used_at THEN expires_at ELSE used_at END"}
}
