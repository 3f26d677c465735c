package repositories

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PasswordResets stores password-reset requests (table password_resets).
type PasswordResets struct {
	base
	floor *timeFloor // Request's time floor; nil inside a caller's transaction
}

// NewPasswordResets returns the password-resets repository over db.
func NewPasswordResets(db *gorm.DB, opts Options) *PasswordResets {
	return &PasswordResets{base: newBase(db, opts), floor: &timeFloor{}}
}

// WithTx returns a copy of the repository that works inside tx. Its
// Request does not wait for the time floor (see Request).
func (r *PasswordResets) WithTx(tx *gorm.DB) *PasswordResets {
	return &PasswordResets{base: r.withTx(tx)}
}

// Deliver sends a password-reset token to an address, typically by email.
// It is called after the token's row has committed, and only for an
// address that has an account. It must enqueue the message (an outbox row,
// a job queue) and return, not send it: Request's duration includes the
// callback's, and Request's time floor hides only what stays under the
// 99th percentile of all requests, so a callback that talks to a mail
// server, when most requests are for unknown addresses, tells a caller
// with a stopwatch which addresses have accounts.
type Deliver func(ctx context.Context, to, token string) error

// Request starts a password reset for an email. For a known address it
// stores a new token's digest (voiding the user's older requests), writes a
// password_reset.requested activity row, and calls deliver with the
// plaintext token. For an unknown address it runs the same statements on
// an id no row has, writes a password_reset.requested row without a user
// (metadata {"account": false}), sends nothing, and returns exactly what a
// known one returns. Requests for one account are throttled: within
// AUTH_PASSWORD_RESET_THROTTLE of an outstanding request, a new one writes
// and sends nothing and returns what any request returns.
//
// Neither the answer nor the time it takes reveals which emails have
// accounts. The three paths do not cost the same (a known address writes
// its reset row and calls deliver, an unknown one only its activity row, a
// throttled one nothing), so Request does not return before a time floor
// has passed since it began: the 99th percentile of the durations of this
// repository's recent requests, all three paths alike (deliver's included),
// which follows the database's speed and load by itself. 99 requests in
// 100 return at the floor whichever path they took. The
// wait ends early when ctx ends, with the request's own outcome. Inside a
// caller's transaction (WithTx) Request does not wait, since it would hold
// the transaction's locks while it waited: the timing of that transaction,
// whose commit is still to come, is the caller's.
//
// The user is read in the transaction that writes the reset, so the token
// goes to the address the account has when the reset commits.
//
// Returns ErrInvalidInput, before any work, for a nil deliver or an email
// that is not text (invalid UTF-8, a NUL byte) or longer than
// MaxEmailLength: what the caller sent, not whether an account exists.
// Otherwise it returns an error only if the database or deliver fails (or
// the configuration has no positive AUTH_PASSWORD_RESET_LIFETIME).
func (r *PasswordResets) Request(ctx context.Context, email string, deliver Deliver) error {
	const op = "request password reset"
	err := firstErr(checkCallback("deliver", deliver == nil), checkEmailText(email),
		checkLifetime("password reset", r.cfg().PasswordResetLifetime))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if r.floor != nil {
		defer r.floor.pad(ctx, time.Now())
	}
	token, err := hooks.NewToken()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	normalized := models.NormalizeEmail(email)
	to, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (string, error) {
		// An unknown address runs the same statements, on an id no row
		// has, and is recorded: the call costs what a known one does.
		u, err := lockUser(tx, "email_normalized = ?", normalized)
		known := err == nil
		if errors.Is(err, gorm.ErrRecordNotFound) {
			u = &models.User{ID: noAccount}
		} else if err != nil {
			return "", err
		}
		if throttle := r.cfg().PasswordResetThrottle; throttle > 0 {
			var recent int64
			err := tx.Model(&models.PasswordReset{}).Where("user_id = ? AND used_at IS NULL AND created_at > ?", u.ID, now.Add(-throttle)).
				Count(&recent).Error
			if err != nil || recent > 0 {
				return "", err // throttled: answer as for any request, send nothing new
			}
		}
		if err := tx.Where("user_id = ? AND used_at IS NULL", u.ID).Delete(&models.PasswordReset{}).Error; err != nil {
			return "", err
		}
		err = insertReset(tx, &models.PasswordReset{
			ID: models.NewUUID(), UserID: u.ID, TokenHash: hooks.Digest(token),
			ExpiresAt: now.Add(r.cfg().PasswordResetLifetime), CreatedAt: now,
		})
		if err != nil {
			return "", err
		}
		if !known {
			return "", record(tx, now, nil, models.EventPasswordResetRequested, map[string]any{"account": false})
		}
		return u.Email, record(tx, now, &u.ID, models.EventPasswordResetRequested, nil)
	})
	if err != nil {
		return Translate(op, err)
	}
	if to == "" {
		return nil // no such account: the request recorded, nothing sent
	}
	if err := deliver(ctx, to, token); err != nil {
		return fmt.Errorf("%s: deliver: %w", op, err)
	}
	return nil
}

// insertReset inserts pr for the user pr.UserID with the user's current
// address, in one statement that reads the user (INSERT ... SELECT ...
// FROM users WHERE id = ?): for noAccount it inserts nothing, at the cost
// of the same statement, which is what keeps an unknown address's request
// the same work as a known one's. pr.ID and pr.TokenHash are set by the
// caller (the model's hooks do not run).
func insertReset(tx *gorm.DB, pr *models.PasswordReset) error {
	resets, err := tableOf(tx, &models.PasswordReset{})
	if err != nil {
		return err
	}
	users, err := tableOf(tx, &models.User{})
	if err != nil {
		return err
	}
	return tx.Exec("INSERT INTO ? (id, user_id, email, token_hash, expires_at, created_at) SELECT ?, id, email, ?, ?, ? FROM ? WHERE id = ?",
		clause.Table{Name: resets}, pr.ID, pr.TokenHash, pr.ExpiresAt, pr.CreatedAt, clause.Table{Name: users}, pr.UserID).Error
}

// tableOf returns the table name of model on tx (the configured prefix and
// schema applied).
func tableOf(tx *gorm.DB, model any) (string, error) {
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(model); err != nil {
		return "", err
	}
	return stmt.Schema.Table, nil
}

// Reset completes a password reset: it consumes the token (single use, even
// under concurrency), stores the new password, ends all of the user's
// sessions, revokes their codes, refresh, access and personal tokens,
// voids their other reset tokens, and writes password_reset.completed and
// password.changed activity rows, all in one transaction. The password is
// hashed before the transaction.
//
// Returns ErrInvalidInput for a bad password, ErrNotFound for an unknown
// or voided token (a newer request or a password change deletes the older
// ones), ErrUsed for a consumed one, ErrExpired past
// AUTH_PASSWORD_RESET_LIFETIME.
func (r *PasswordResets) Reset(ctx context.Context, token, password, confirmation string) (*models.User, error) {
	const op = "reset password"
	if err := validatePassword(password, confirmation); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	hash, err := r.hasher().Hash(password)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	digest := hooks.Digest(token)
	u, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.User, error) {
		// The account's lock first (lockUser), then the reset.
		var owner models.PasswordReset
		if err := tx.Select("user_id").Where("token_hash = ?", digest).Take(&owner).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, fmt.Errorf("reset token: %w", ErrNotFound)
			}
			return nil, err
		}
		if _, err := lockUser(tx, "id = ?", owner.UserID); err != nil {
			return nil, err
		}
		pr, err := consumeReset(tx, now, digest)
		if err != nil {
			return nil, err
		}
		if err := setPassword(tx, now, pr.UserID, hash, "", ""); err != nil {
			return nil, err
		}
		if err := record(tx, now, &pr.UserID, models.EventPasswordResetCompleted, nil); err != nil {
			return nil, err
		}
		var u models.User
		return &u, tx.Where("id = ?", pr.UserID).Take(&u).Error
	})
	if err != nil {
		return nil, Translate(op, err)
	}
	return u, nil
}

// Consume marks a reset token used without changing the password, for
// callers that change it themselves in the same transaction (WithTx).
// Returns ErrNotFound, ErrUsed or ErrExpired as Reset does.
func (r *PasswordResets) Consume(ctx context.Context, token string) (*models.PasswordReset, error) {
	digest := hooks.Digest(token)
	pr, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.PasswordReset, error) {
		return consumeReset(tx, now, digest)
	})
	if err != nil {
		return nil, Translate("consume password reset", err)
	}
	return pr, nil
}

// consumeReset marks the reset with the given digest used, with the
// single-use step, and explains a miss.
func consumeReset(tx *gorm.DB, now time.Time, digest string) (*models.PasswordReset, error) {
	var pr models.PasswordReset
	if err := tx.Where("token_hash = ?", digest).Take(&pr).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("reset token: %w", ErrNotFound)
		}
		return nil, err
	}
	if err := whyNotUsable("reset token", pr.UsedAt, false, pr.ExpiresAt, now); err != nil {
		return nil, err
	}
	won, err := consume(tx, resetUse, pr.ID, now)
	if err != nil {
		return nil, err
	}
	if !won {
		return nil, fmt.Errorf("reset token: %w", ErrUsed) // a concurrent reset committed first
	}
	pr.UsedAt = &now
	return &pr, nil
}
