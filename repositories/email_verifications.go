package repositories

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// EmailVerifications stores email-verification tokens (table
// email_verifications). A token verifies only the address it was sent to.
type EmailVerifications struct{ base }

// NewEmailVerifications returns the email-verifications repository over db.
func NewEmailVerifications(db *gorm.DB, opts Options) *EmailVerifications {
	return &EmailVerifications{newBase(db, opts)}
}

// WithTx returns a copy of the repository that works inside tx.
func (r *EmailVerifications) WithTx(tx *gorm.DB) *EmailVerifications {
	return &EmailVerifications{r.withTx(tx)}
}

// Issue creates a verification token for the user's current email, voids
// the user's older unverified tokens, stores its digest, writes an
// email_verification.sent activity row and returns
// the row (whose Email is the address the token is bound to) and the
// plaintext token, once.
//
// Returns ErrInvalidInput for a malformed user id and ErrNotFound for an
// unknown user.
func (r *EmailVerifications) Issue(ctx context.Context, userID models.UUID) (*models.EmailVerification, string, error) {
	const op = "issue email verification"
	if err := firstErr(validID("user id", userID), checkLifetime("email verification", r.cfg().EmailVerificationLifetime)); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	token, err := hooks.NewToken()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	v, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.EmailVerification, error) {
		u, err := lockUser(tx, "id = ?", userID)
		if err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, fmt.Errorf("user: %w", ErrNotFound)
			}
			return nil, err
		}
		// A new token voids the older ones: only the latest link works.
		if err := tx.Where("user_id = ? AND verified_at IS NULL", u.ID).Delete(&models.EmailVerification{}).Error; err != nil {
			return nil, err
		}
		v := &models.EmailVerification{
			ID: models.NewUUID(), UserID: u.ID, Email: u.Email, TokenHash: hooks.Digest(token),
			ExpiresAt: now.Add(r.cfg().EmailVerificationLifetime), CreatedAt: now,
		}
		if err := tx.Create(v).Error; err != nil {
			return nil, err
		}
		return v, record(tx, now, &u.ID, models.EventEmailVerificationSent, nil)
	})
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return v, token, nil
}

// Consume verifies the address a token was sent to: it marks the token
// used, sets the user's email_verified_at and writes an email.verified
// activity row, in one transaction.
//
// Returns ErrNotFound for an unknown token, ErrUsed for a consumed one,
// ErrExpired past AUTH_EMAIL_VERIFICATION_LIFETIME, and ErrRevoked if the
// user's email changed since the token was sent.
func (r *EmailVerifications) Consume(ctx context.Context, token string) (*models.User, error) {
	const op = "verify email"
	digest := hooks.Digest(token)
	u, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.User, error) {
		// The account's lock first (lockUser), then the token, read again
		// under it: a new token issued meanwhile voided this one.
		var v models.EmailVerification
		find := func() error {
			if err := tx.Where("token_hash = ?", digest).Take(&v).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return fmt.Errorf("verification token: %w", ErrNotFound)
				}
				return err
			}
			return nil
		}
		if err := find(); err != nil {
			return nil, err
		}
		u, err := lockUser(tx, "id = ?", v.UserID)
		if err != nil {
			return nil, err
		}
		if err := find(); err != nil {
			return nil, err
		}
		if err := whyNotUsable("verification token", v.VerifiedAt, false, v.ExpiresAt, now); err != nil {
			return nil, err
		}
		if u.EmailNormalized != models.NormalizeEmail(v.Email) {
			return nil, fmt.Errorf("verification token: sent to an address the account no longer has: %w", ErrRevoked)
		}
		won, err := consume(tx, verificationUse, v.ID, now)
		if err != nil {
			return nil, err
		}
		if !won {
			return nil, fmt.Errorf("verification token: %w", ErrUsed) // a concurrent verification committed first
		}
		if err := markAddressVerified(tx, now, u.ID, v.Email); err != nil {
			return nil, err
		}
		u.EmailVerifiedAt = &now
		return u, nil
	})
	if err != nil {
		return nil, Translate(op, err)
	}
	return u, nil
}
