package repositories

import (
	"context"
	"errors"
	"fmt"

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

// Issue creates a verification token for the user's current email, stores
// its digest, writes an email_verification.sent activity row and returns
// the plaintext token once, with the address it is bound to.
//
// Returns ErrNotFound for an unknown user.
func (r *EmailVerifications) Issue(ctx context.Context, userID models.UUID) (token string, to string, err error) {
	if !userID.Valid() {
		return "", "", fmt.Errorf("issue email verification: user: %w", ErrNotFound)
	}
	var u models.User
	if err := r.conn(ctx).Where("id = ?", userID).Take(&u).Error; err != nil {
		return "", "", Translate("issue email verification: user", err)
	}
	token, err = hooks.NewToken()
	if err != nil {
		return "", "", fmt.Errorf("issue email verification: %w", err)
	}
	now := r.now()
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		return tx.Create(&models.EmailVerification{
			UserID: u.ID, Email: u.Email, Token: token,
			ExpiresAt: now.Add(r.cfg().EmailVerificationLifetime), CreatedAt: now,
		}).Error
	})
	if err != nil {
		return "", "", Translate("issue email verification", err)
	}
	return token, u.Email, nil
}

// Consume verifies the address a token was sent to: it marks the token
// used, sets the user's email_verified_at and writes an email.verified
// activity row, in one transaction.
//
// Returns ErrNotFound for an unknown token, ErrUsed for a consumed one,
// ErrExpired past AUTH_EMAIL_VERIFICATION_LIFETIME, and ErrRevoked if the
// user's email changed since the token was sent.
func (r *EmailVerifications) Consume(ctx context.Context, token string) (*models.User, error) {
	digest := hooks.Digest(token)
	var u models.User
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		now := r.now()
		var v models.EmailVerification
		if err := tx.Where("token_hash = ?", digest).Take(&v).Error; err != nil {
			return err
		}
		switch {
		case v.VerifiedAt != nil:
			return fmt.Errorf("verification token: %w", ErrUsed)
		case !now.Before(v.ExpiresAt):
			return fmt.Errorf("verification token: %w", ErrExpired)
		}
		if err := tx.Where("id = ?", v.UserID).Take(&u).Error; err != nil {
			return err
		}
		if u.EmailNormalized != models.NormalizeEmail(v.Email) {
			return fmt.Errorf("verification token: sent to an address the account no longer has: %w", ErrRevoked)
		}
		res := tx.Model(&models.EmailVerification{}).Where("id = ? AND verified_at IS NULL", v.ID).Update("verified_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("verification token: %w", ErrUsed)
		}
		if err := markAddressVerified(tx, u.ID, v.Email, now); err != nil {
			return err
		}
		u.EmailVerifiedAt = &now
		return nil
	})
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("verify email: %w", ErrNotFound)
		}
		return nil, Translate("verify email", err)
	}
	return &u, nil
}
