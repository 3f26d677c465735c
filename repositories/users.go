package repositories

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// Limits on user input.
const (
	MaxNameLength  = 255
	MaxEmailLength = 254  // RFC 5321 path limit
	MaxListLimit   = 1000 // the most rows one List call returns (users, clients, activity)
)

// Users stores accounts (table users).
type Users struct{ base }

// NewUsers returns the users repository over db.
func NewUsers(db *gorm.DB, opts Options) *Users { return &Users{newBase(db, opts)} }

// WithTx returns a copy of the repository that works inside tx, so a caller
// can combine repositories in one transaction.
func (r *Users) WithTx(tx *gorm.DB) *Users { return &Users{r.withTx(tx)} }

// NewUser is the input of Users.Create.
type NewUser struct {
	Name                 string
	Email                string
	Password             string
	PasswordConfirmation string
}

// Create registers a user: the name must be non-empty, the email a single
// valid address, the password between hooks.MinPasswordLength characters
// and hooks.MaxPasswordLength bytes and equal to its confirmation. The
// password is hashed with Argon2id before the transaction; a user.registered
// activity row is written with the insert.
//
// Returns ErrInvalidInput naming the field, or ErrDuplicate if the email
// (compared case-insensitively) is taken.
func (r *Users) Create(ctx context.Context, in NewUser) (*models.User, error) {
	name, email, err := validateProfile(in.Name, in.Email)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	if err := validatePassword(in.Password, in.PasswordConfirmation); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	hash, err := r.hasher().Hash(in.Password)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	u := &models.User{Name: name, Email: email, PasswordHash: hash}
	err = r.transaction(ctx, func(tx *gorm.DB) error { return tx.Create(u).Error })
	if err != nil {
		return nil, Translate("create user", err)
	}
	return u, nil
}

// FindByID returns the user with the given id, or ErrNotFound.
func (r *Users) FindByID(ctx context.Context, id models.UUID) (*models.User, error) {
	if !id.Valid() {
		return nil, fmt.Errorf("find user: %w", ErrNotFound)
	}
	var u models.User
	if err := takeOne(ctx, r.db, "SELECT "+userColumns+" FROM users WHERE id = ", id, userFields(&u)); err != nil {
		return nil, Translate("find user", err)
	}
	return &u, nil
}

// FindByEmail returns the user with the given email, compared
// case-insensitively, or ErrNotFound.
func (r *Users) FindByEmail(ctx context.Context, email string) (*models.User, error) {
	var u models.User
	err := takeOne(ctx, r.db, "SELECT "+userColumns+" FROM users WHERE email_normalized = ", models.NormalizeEmail(email), userFields(&u))
	if err != nil {
		return nil, Translate("find user by email", err)
	}
	return &u, nil
}

// List returns up to limit users (1..MaxListLimit) in creation order,
// skipping offset. Returns ErrInvalidInput for a bad limit or offset.
func (r *Users) List(ctx context.Context, limit, offset int) ([]models.User, error) {
	if limit < 1 || limit > MaxListLimit || offset < 0 {
		return nil, fmt.Errorf("list users: limit must be 1..%d and offset >= 0: %w", MaxListLimit, ErrInvalidInput)
	}
	var out []models.User
	err := r.conn(ctx).Order("created_at, id").Limit(limit).Offset(offset).Find(&out).Error
	return out, Translate("list users", err)
}

// Count returns the number of users.
func (r *Users) Count(ctx context.Context) (int64, error) {
	var n int64
	err := r.conn(ctx).Model(&models.User{}).Count(&n).Error
	return n, Translate("count users", err)
}

// ProfileUpdate is the input of Users.UpdateProfile; nil fields are left
// unchanged.
type ProfileUpdate struct {
	Name  *string
	Email *string
}

// UpdateProfile changes a user's name and/or email. A changed email is
// unverified until verified again, and verification tokens sent to the old
// address stop working. Writes a user.updated activity row.
//
// Returns ErrNotFound, ErrInvalidInput, or ErrDuplicate if the new email is
// taken.
func (r *Users) UpdateProfile(ctx context.Context, id models.UUID, in ProfileUpdate) (*models.User, error) {
	var u *models.User
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		if u, err = r.WithTx(tx).FindByID(ctx, id); err != nil {
			return err
		}
		name, email := u.Name, u.Email
		if in.Name != nil {
			name = *in.Name
		}
		if in.Email != nil {
			email = *in.Email
		}
		name, email, err = validateProfile(name, email)
		if err != nil {
			return err
		}
		changes := map[string]any{"name": name, "email": email, "email_normalized": models.NormalizeEmail(email), "updated_at": r.now()}
		fields := []string{}
		if name != u.Name {
			fields = append(fields, "name")
		}
		if models.NormalizeEmail(email) != u.EmailNormalized {
			changes["email_verified_at"] = nil
			fields = append(fields, "email")
		} else if email != u.Email {
			fields = append(fields, "email")
		}
		if len(fields) == 0 {
			return nil
		}
		if err := tx.Model(&models.User{}).Where("id = ?", id).Updates(changes).Error; err != nil {
			return err
		}
		if err := models.RecordActivity(tx, &id, hooks.EventProfileUpdated, map[string]any{"fields": fields}); err != nil {
			return err
		}
		// Reload into a zero value: Take leaves a field whose column is NULL
		// (email_verified_at, just cleared) as it was.
		*u = models.User{}
		return tx.Where("id = ?", id).Take(u).Error
	})
	if err != nil {
		return nil, Translate("update user", err)
	}
	return u, nil
}

// ChangePassword verifies the current password, then in one transaction
// stores the new hash, ends the user's other sessions (all but
// keepSessionID, which may be empty), revokes their refresh and access
// tokens, voids outstanding password resets, and writes a password.changed
// activity row.
//
// Returns ErrNotFound, ErrInvalidCredentials if current is wrong, or
// ErrInvalidInput if the new password fails validation.
func (r *Users) ChangePassword(ctx context.Context, id models.UUID, current, next, confirmation string, keepSessionID models.UUID) error {
	if err := validatePassword(next, confirmation); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if keepSessionID != "" && !keepSessionID.Valid() {
		return fmt.Errorf("change password: session to keep is not a uuid: %w", ErrInvalidInput)
	}
	u, err := r.FindByID(ctx, id)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, err := r.hasher().Verify(u.PasswordHash, current)
	if err != nil || !ok {
		return fmt.Errorf("change password: current password: %w", ErrInvalidCredentials)
	}
	hash, err := r.hasher().Hash(next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		return setPassword(tx, id, hash, r.now(), keepSessionID, u.PasswordHash)
	})
	return Translate("change password", err)
}

// setPassword stores a new password hash and ends what the old password
// opened: other sessions, codes, refresh and access tokens, outstanding
// resets. When verified is set, the update applies only if the stored hash
// is still the one the current password was verified against, so a
// concurrent reset is never overwritten by a stale change.
func setPassword(tx *gorm.DB, id models.UUID, hash string, now time.Time, keepSessionID models.UUID, verified string) error {
	q := tx.Model(&models.User{}).Where("id = ?", id)
	if verified != "" {
		q = q.Where("password = ?", verified)
	}
	res := q.Updates(map[string]any{"password": hash, "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 && verified != "" {
		return fmt.Errorf("password changed concurrently: %w", ErrInvalidCredentials)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	sessions := tx.Where("user_id = ?", id)
	if keepSessionID != "" {
		sessions = sessions.Where("id <> ?", keepSessionID)
	}
	if err := sessions.Delete(&models.Session{}).Error; err != nil {
		return err
	}
	if err := revokeUserTokens(tx, id, now); err != nil {
		return err
	}
	if err := tx.Where("user_id = ? AND used_at IS NULL", id).Delete(&models.PasswordReset{}).Error; err != nil {
		return err
	}
	return models.RecordActivity(tx, &id, hooks.EventPasswordChanged, nil)
}

// revokeUserTokens revokes every authorization code, refresh token and
// access token of a user.
func revokeUserTokens(tx *gorm.DB, id models.UUID, now time.Time) error {
	_, err := revokeGrants(tx, "user_id", id, now)
	return err
}

// MarkEmailVerified records that the user's current email is verified and
// writes an email.verified activity row. Returns ErrNotFound.
func (r *Users) MarkEmailVerified(ctx context.Context, id models.UUID) error {
	if !id.Valid() {
		return fmt.Errorf("mark email verified: %w", ErrNotFound)
	}
	err := r.transaction(ctx, func(tx *gorm.DB) error { return markVerified(tx, id, r.now()) })
	return Translate("mark email verified", err)
}

func markVerified(tx *gorm.DB, id models.UUID, now time.Time) error {
	return markAddressVerified(tx, id, "", now)
}

// markAddressVerified sets email_verified_at, only while the user's address
// is still email (when email is set): a change of address committed in
// between makes it fail with ErrRevoked.
func markAddressVerified(tx *gorm.DB, id models.UUID, email string, now time.Time) error {
	q := tx.Model(&models.User{}).Where("id = ?", id)
	if email != "" {
		q = q.Where("email_normalized = ?", models.NormalizeEmail(email))
	}
	res := q.Updates(map[string]any{"email_verified_at": now, "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 && email != "" {
		return fmt.Errorf("verification token: sent to an address the account no longer has: %w", ErrRevoked)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	return models.RecordActivity(tx, &id, hooks.EventEmailVerified, nil)
}

// Delete removes a user; sessions, resets, verifications, tokens, codes and
// owned clients go with it (foreign keys cascade) and activity rows stay
// with their user id cleared. A user.deleted activity row records the
// deletion. Returns ErrNotFound.
func (r *Users) Delete(ctx context.Context, id models.UUID) error {
	if !id.Valid() {
		return fmt.Errorf("delete user: %w", ErrNotFound)
	}
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&models.User{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		return models.RecordActivity(tx, nil, hooks.EventUserDeleted, map[string]any{"user_id": id})
	})
	return Translate("delete user", err)
}

// Authenticate checks an email and password. An unknown email costs the
// same Argon2id work as a wrong password and returns the same
// ErrInvalidCredentials. A failure increments the account's failed-login
// count atomically and writes a login.failed row in its own transaction; a
// success resets the count, writes login.succeeded, and upgrades a stale
// hash (weaker parameters, or an imported bcrypt hash) to the current
// Argon2id parameters.
//
// Returns ErrInvalidCredentials, or ErrEmailNotVerified when the
// configuration requires verified email and the password was right.
func (r *Users) Authenticate(ctx context.Context, email, password string) (*models.User, error) {
	u, err := r.FindByEmail(ctx, email)
	if err != nil {
		if !isNotFound(err) {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		r.hasher().VerifyDummy(password)
		if err := r.recordFailure(ctx, nil, "unknown_email"); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("authenticate: %w", ErrInvalidCredentials)
	}
	ok, verr := r.hasher().Verify(u.PasswordHash, password)
	if verr != nil || !ok {
		if err := r.recordFailure(ctx, &u.ID, "wrong_password"); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("authenticate: %w", ErrInvalidCredentials)
	}
	if r.cfg().RequireEmailVerification && u.EmailVerifiedAt == nil {
		if err := r.recordFailure(ctx, &u.ID, "email_not_verified"); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("authenticate: %w", ErrEmailNotVerified)
	}
	var rehash string
	if r.hasher().NeedsRehash(u.PasswordHash) {
		if rehash, err = r.hasher().Hash(password); err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
	}
	err = r.transaction(ctx, func(tx *gorm.DB) error {
		changes := map[string]any{"failed_logins": 0}
		if rehash != "" {
			changes["password"] = rehash
		}
		// The stored hash is the one verified: a concurrent password change
		// wins over the upgrade.
		res := tx.Model(&models.User{}).Where("id = ? AND password = ?", u.ID, u.PasswordHash).Updates(changes)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 && rehash != "" {
			u.PasswordHash = rehash
		}
		u.FailedLogins = 0
		return models.RecordActivity(tx, &u.ID, hooks.EventLoginSucceeded, nil)
	})
	if err != nil {
		return nil, Translate("authenticate", err)
	}
	return u, nil
}

func (r *Users) recordFailure(ctx context.Context, id *models.UUID, reason string) error {
	err := r.transaction(ctx, func(tx *gorm.DB) error {
		if id != nil {
			err := tx.Model(&models.User{}).Where("id = ?", *id).Updates(map[string]any{
				"failed_logins":        gorm.Expr("failed_logins + 1"),
				"last_failed_login_at": r.now(),
			}).Error
			if err != nil {
				return err
			}
		}
		return models.RecordActivity(tx, id, hooks.EventLoginFailed, map[string]any{"reason": reason})
	})
	return Translate("authenticate: record failure", err)
}

func validateProfile(name, email string) (string, string, error) {
	name = strings.TrimSpace(name)
	email = strings.TrimSpace(email)
	switch {
	case name == "":
		return "", "", fmt.Errorf("name is empty: %w", ErrInvalidInput)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", "", fmt.Errorf("name is longer than %d characters: %w", MaxNameLength, ErrInvalidInput)
	case !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n"):
		return "", "", fmt.Errorf("name has invalid characters: %w", ErrInvalidInput)
	case len(email) > MaxEmailLength:
		return "", "", fmt.Errorf("email is longer than %d bytes: %w", MaxEmailLength, ErrInvalidInput)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		return "", "", fmt.Errorf("email is not a valid address: %w", ErrInvalidInput)
	}
	return name, email, nil
}

func validatePassword(password, confirmation string) error {
	if err := hooks.CheckPasswordLength(password); err != nil {
		return fmt.Errorf("password: %v: %w", err, ErrInvalidInput)
	}
	if password != confirmation {
		return fmt.Errorf("password confirmation does not match: %w", ErrInvalidInput)
	}
	return nil
}
