package repositories

import (
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// The single-use step of every single-use token (authorization codes,
// refresh tokens, password resets, email verifications, the codes of the
// provider's authorization requests, two-factor challenges and recovery
// codes).

// singleUse describes a single-use table: its model (a new value per
// statement: GORM writes the assignments into it), the column a use sets,
// whether the table has a revoked flag, and whether its rows never expire
// (recovery codes have no expires_at).
type singleUse struct {
	model     func() any
	usedAt    string
	revocable bool
	lasting   bool
}

var (
	codeUse         = singleUse{model: func() any { return &models.AuthorizationCode{} }, usedAt: "used_at", revocable: true}
	refreshUse      = singleUse{model: func() any { return &models.RefreshToken{} }, usedAt: "used_at", revocable: true}
	resetUse        = singleUse{model: func() any { return &models.PasswordReset{} }, usedAt: "used_at"}
	verificationUse = singleUse{model: func() any { return &models.EmailVerification{} }, usedAt: "verified_at"}
	authRequestUse  = singleUse{model: func() any { return &models.AuthRequest{} }, usedAt: "used_at", revocable: true}
	challengeUse    = singleUse{model: func() any { return &models.TwoFactorChallenge{} }, usedAt: "used_at"}
	recoveryUse     = singleUse{model: func() any { return &models.RecoveryCode{} }, usedAt: "used_at", lasting: true}
)

// consume is the conditional update that marks row id used at now: it
// matches only an unused, unrevoked, unexpired row, so exactly one of any
// number of concurrent callers changes a row (on PostgreSQL the losers
// wait for the winner's commit, then match nothing). It reports whether
// this caller won; a loser explains its miss with whyNotUsable on a fresh
// read of the row.
func consume(tx *gorm.DB, u singleUse, id models.UUID, now time.Time) (bool, error) {
	q := tx.Model(u.model()).Where("id = ?", id).Where(u.usedAt + " IS NULL")
	if !u.lasting {
		q = q.Where("expires_at > ?", now)
	}
	if u.revocable {
		q = q.Where("revoked = ?", false)
	}
	res := q.Update(u.usedAt, now)
	return res.RowsAffected == 1, res.Error
}

// whyNotUsable explains why a single-use row cannot be used at now, or
// returns nil when it can: ErrUsed for a used one, ErrRevoked for a revoked
// one and ErrExpired for an expired one, in that order. what names the
// token in the message.
func whyNotUsable(what string, usedAt *time.Time, revoked bool, expiresAt, now time.Time) error {
	switch {
	case usedAt != nil:
		return fmt.Errorf("%s: %w", what, ErrUsed)
	case revoked:
		return fmt.Errorf("%s: %w", what, ErrRevoked)
	case !now.Before(expiresAt):
		return fmt.Errorf("%s: %w", what, ErrExpired)
	}
	return nil
}

// replayed explains a single-use row that a caller found used, or could
// not consume, read again: nil when it was used, which makes the
// caller's presentation a replay (a reused refresh token, a replayed
// code); the reason when it was revoked or expired before any use; and
// ErrConcurrentChange when it is still usable, which only a change
// between the two reads can explain.
func replayed(what string, usedAt *time.Time, revoked bool, expiresAt, now time.Time) error {
	switch err := whyNotUsable(what, usedAt, revoked, expiresAt, now); {
	case err == nil:
		return fmt.Errorf("%s: %w", what, ErrConcurrentChange)
	case !errors.Is(err, ErrUsed):
		return err // revoked or expired before any use
	}
	return nil
}
