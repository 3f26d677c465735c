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

// PasswordResets stores password-reset requests (table password_resets).
type PasswordResets struct{ base }

// NewPasswordResets returns the password-resets repository over db.
func NewPasswordResets(db *gorm.DB, opts Options) *PasswordResets {
	return &PasswordResets{newBase(db, opts)}
}

// WithTx returns a copy of the repository that works inside tx.
func (r *PasswordResets) WithTx(tx *gorm.DB) *PasswordResets { return &PasswordResets{r.withTx(tx)} }

// Deliver sends a reset (or verification) token to an address, typically
// by email. It is called after the token's row has committed.
type Deliver func(ctx context.Context, to, token string) error

// Request starts a password reset for an email. For a known address it
// stores a new token's digest (voiding the user's older requests), writes a
// password_reset.requested activity row, and calls deliver with the
// plaintext token. For an unknown address it writes nothing and returns
// exactly what a known one returns, so the answer does not reveal which
// emails have accounts.
//
// Returns an error only if the database or deliver fails.
func (r *PasswordResets) Request(ctx context.Context, email string, deliver Deliver) error {
	var u models.User
	err := r.conn(ctx).Where("email_normalized = ?", models.NormalizeEmail(email)).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return Translate("request password reset", err)
	}
	token, err := hooks.NewToken()
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	now := r.now()
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ? AND used_at IS NULL", u.ID).Delete(&models.PasswordReset{}).Error; err != nil {
			return err
		}
		return tx.Create(&models.PasswordReset{
			UserID: u.ID, Email: u.Email, Token: token,
			ExpiresAt: now.Add(r.cfg().PasswordResetLifetime), CreatedAt: now,
		}).Error
	})
	if err != nil {
		return Translate("request password reset", err)
	}
	if err := deliver(ctx, u.Email, token); err != nil {
		return fmt.Errorf("request password reset: deliver: %w", err)
	}
	return nil
}

// Reset completes a password reset: it consumes the token (single use, even
// under concurrency), stores the new password, ends all of the user's
// sessions, revokes their refresh and access tokens, voids their other
// reset tokens, and writes password_reset.completed and password.changed
// activity rows, all in one transaction. The password is hashed before the
// transaction.
//
// Returns ErrInvalidInput for a bad password, ErrNotFound for an unknown
// or voided token (a newer request or a password change deletes the older
// ones), ErrUsed for a consumed one, ErrExpired past
// AUTH_PASSWORD_RESET_LIFETIME.
func (r *PasswordResets) Reset(ctx context.Context, token, password, confirmation string) (*models.User, error) {
	if err := validatePassword(password, confirmation); err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	hash, err := r.hasher().Hash(password)
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	var u models.User
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		pr, err := consumeReset(tx, token, r.now())
		if err != nil {
			return err
		}
		if err := setPassword(tx, pr.UserID, hash, r.now(), "", ""); err != nil {
			return err
		}
		if err := models.RecordActivity(tx, &pr.UserID, hooks.EventPasswordResetCompleted, nil); err != nil {
			return err
		}
		return tx.Where("id = ?", pr.UserID).Take(&u).Error
	})
	if err != nil {
		return nil, Translate("reset password", err)
	}
	return &u, nil
}

// Consume marks a reset token used without changing the password, for
// callers that change it themselves in the same transaction (WithTx).
// Returns ErrNotFound, ErrUsed or ErrExpired as Reset does.
func (r *PasswordResets) Consume(ctx context.Context, token string) (*models.PasswordReset, error) {
	var pr *models.PasswordReset
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		pr, err = consumeReset(tx, token, r.now())
		return err
	})
	if err != nil {
		return nil, Translate("consume password reset", err)
	}
	return pr, nil
}

// consumeReset marks the reset of token used with one conditional update,
// so exactly one of concurrent consumers wins, then explains a miss.
func consumeReset(tx *gorm.DB, token string, now time.Time) (*models.PasswordReset, error) {
	digest := hooks.Digest(token)
	res := tx.Model(&models.PasswordReset{}).
		Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", digest, now).
		Update("used_at", now)
	if res.Error != nil {
		return nil, res.Error
	}
	var pr models.PasswordReset
	if err := tx.Where("token_hash = ?", digest).Take(&pr).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("reset token: %w", ErrNotFound)
		}
		return nil, err
	}
	switch {
	case res.RowsAffected == 1:
		return &pr, nil
	case pr.UsedAt != nil:
		return nil, fmt.Errorf("reset token: %w", ErrUsed)
	default:
		return nil, fmt.Errorf("reset token: %w", ErrExpired)
	}
}
