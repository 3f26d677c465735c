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

// Users stores accounts (table users).
type Users struct {
	base
	lookup rowLookup
}

// NewUsers returns the users repository over db.
func NewUsers(db *gorm.DB, opts Options) *Users {
	return &Users{base: newBase(db, opts), lookup: newRowLookup(db, &models.User{})}
}

// WithTx returns a copy of the repository that works inside tx, so a caller
// can combine repositories in one transaction.
func (r *Users) WithTx(tx *gorm.DB) *Users { return &Users{base: r.withTx(tx), lookup: r.lookup} }

// UserInput is the input of Users.Create.
type UserInput struct {
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
// The email is kept as typed (trimmed) and compared in its normalised form
// (models.NormalizeEmail: NFKC, case folded), so a fullwidth, mathematical,
// circled, decomposed or upper-case spelling of a registered address is
// taken; an address holding an invisible, format, space or control
// character, or whose normalised form is not an address, is refused.
//
// Returns ErrInvalidInput naming the field, or ErrDuplicate if the email
// (in its normalised form) is taken.
func (r *Users) Create(ctx context.Context, in UserInput) (*models.User, error) {
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
	u := &models.User{ID: models.NewUUID(), Name: name, Email: email, EmailNormalized: models.NormalizeEmail(email), PasswordHash: hash}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		u.CreatedAt, u.UpdatedAt = now, now
		if err := tx.Create(u).Error; err != nil {
			return err
		}
		return record(tx, now, &u.ID, models.EventRegistered, nil)
	})
	if err != nil {
		return nil, Translate("create user", err)
	}
	return u, nil
}

// FindByID returns the user with the given id. It returns ErrInvalidInput
// for a malformed id and ErrNotFound if there is none.
func (r *Users) FindByID(ctx context.Context, id models.UUID) (*models.User, error) {
	if err := validID("user id", id); err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	var u models.User
	if err := r.lookup.take(ctx, r.db, "id", id, &u); err != nil {
		return nil, Translate("find user", err)
	}
	return &u, nil
}

// FindByEmail returns the user with the given email, compared in its
// normalised form (models.NormalizeEmail: NFKC, case folded), or
// ErrNotFound. An email that is not text (invalid UTF-8, a NUL byte), is
// longer than MaxEmailLength, or holds a character no address may (an
// invisible, format, space or control character) returns ErrInvalidInput.
func (r *Users) FindByEmail(ctx context.Context, email string) (*models.User, error) {
	if err := checkEmailText(email); err != nil {
		return nil, fmt.Errorf("find user by email: %w", err)
	}
	var u models.User
	err := r.lookup.take(ctx, r.db, "email_normalized", models.NormalizeEmail(email), &u)
	if err != nil {
		return nil, Translate("find user by email", err)
	}
	return &u, nil
}

// List returns up to limit users (1..MaxListLimit) in creation order,
// skipping offset. Returns ErrInvalidInput for a bad limit or offset.
func (r *Users) List(ctx context.Context, limit, offset int) ([]models.User, error) {
	if err := checkList(limit, offset); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
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

// ProfileInput is the input of Users.UpdateProfile; nil fields are left
// unchanged.
type ProfileInput struct {
	Name  *string
	Email *string
}

// UpdateProfile changes a user's name and/or email. A changed email is
// unverified until verified again, and verification tokens sent to the old
// address stop working. Writes a user.updated activity row.
//
// Returns ErrInvalidInput for a malformed id or field, ErrNotFound for an
// unknown user, or ErrDuplicate if the new email is taken.
func (r *Users) UpdateProfile(ctx context.Context, id models.UUID, in ProfileInput) (*models.User, error) {
	if err := validID("user id", id); err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	if in.Name != nil {
		if _, err := checkName("name", *in.Name); err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
	}
	if in.Email != nil {
		if err := checkEmailText(*in.Email); err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
	}
	u, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.User, error) {
		u, err := lockUser(tx, "id = ?", id) // the account's lock: the change is made over what it read
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("user: %w", ErrNotFound)
		}
		if err != nil {
			return nil, err
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
			return nil, err
		}
		changes := map[string]any{"name": name, "email": email, "email_normalized": models.NormalizeEmail(email), "updated_at": now}
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
			return u, nil
		}
		if err := tx.Model(&models.User{}).Where("id = ?", id).Updates(changes).Error; err != nil {
			return nil, err
		}
		if err := record(tx, now, &id, models.EventProfileUpdated, map[string]any{"fields": fields}); err != nil {
			return nil, err
		}
		// Reload into a zero value: Take leaves a field whose column is NULL
		// (email_verified_at, just cleared) as it was.
		var fresh models.User
		return &fresh, tx.Where("id = ?", id).Take(&fresh).Error
	})
	if err != nil {
		return nil, Translate("update user", err)
	}
	return u, nil
}

// ChangePassword verifies the current password, then in one transaction
// stores the new hash, ends the user's other sessions (all but
// keepSessionID, which may be empty), revokes their authorization codes,
// refresh, access and personal tokens, voids outstanding password resets,
// and writes a password.changed activity row.
//
// The user is read and both passwords hashed before the transaction
// (Argon2id never runs under a write lock); the update applies only if the
// stored hash is still the one verified.
//
// Returns ErrInvalidInput for a malformed id or a new password that fails
// validation, ErrNotFound for an unknown user, or ErrInvalidCredentials if
// current is wrong or the password changed meanwhile.
func (r *Users) ChangePassword(ctx context.Context, id models.UUID, current, next, confirmation string, keepSessionID models.UUID) error {
	if err := firstErr(validID("user id", id), validIDOrEmpty("session to keep", keepSessionID)); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := validatePassword(next, confirmation); err != nil {
		return fmt.Errorf("change password: %w", err)
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
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		return setPassword(tx, now, id, hash, keepSessionID, u.PasswordHash)
	})
	return Translate("change password", err)
}

// SetPassword sets a user's password without asking for the current one:
// the call for an operator (authstore user set-password) or an
// administration screen, never for the user themselves (ChangePassword).
// The password is validated and hashed with Argon2id before the
// transaction; in one transaction it stores the hash and ends what the old
// password opened, as a completed reset does: every session of the user,
// their authorization codes, refresh, access and personal tokens, and
// outstanding password resets. It writes password.changed and
// password.set_by_operator activity rows. A lock (Lock, or one after
// failed logins) stays in force; Unlock ends it.
//
// Returns ErrInvalidInput for a malformed id or a password that fails
// validation (hooks.CheckPasswordLength), and ErrNotFound for an unknown
// user.
func (r *Users) SetPassword(ctx context.Context, id models.UUID, password string) error {
	const op = "set password"
	if err := validID("user id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := validatePassword(password, password); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	hash, err := r.hasher().Hash(password)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		if err := setPassword(tx, now, id, hash, "", ""); err != nil {
			return err
		}
		return record(tx, now, &id, models.EventPasswordSetByOperator, nil)
	})
	return Translate(op, err)
}

// setPassword stores a new password hash and ends what the old password
// opened: other sessions, codes, refresh, access and personal tokens,
// outstanding resets. When verified is set, the update applies only if the stored hash
// is still the one the current password was verified against, so a
// concurrent reset is never overwritten by a stale change.
func setPassword(tx *gorm.DB, now time.Time, id models.UUID, hash string, keepSessionID models.UUID, verified string) error {
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
	// Then the user's other tables in the lock order (package documentation).
	if err := tx.Where("user_id = ? AND used_at IS NULL", id).Delete(&models.PasswordReset{}).Error; err != nil {
		return err
	}
	// A second-factor challenge is a verified old password.
	if err := tx.Where("user_id = ?", id).Delete(&models.TwoFactorChallenge{}).Error; err != nil {
		return err
	}
	sessions := tx.Where("user_id = ?", id)
	if keepSessionID != "" {
		sessions = sessions.Where("id <> ?", keepSessionID)
	}
	if err := sessions.Delete(&models.Session{}).Error; err != nil {
		return err
	}
	if _, err := revokeGrants(tx, "user_id", id, now); err != nil {
		return err
	}
	// Personal tokens too: an intruder who changed the password must not
	// keep a token the owner cannot see being used (SECURITY 41).
	err := tx.Model(&models.PersonalAccessToken{}).Where("user_id = ? AND revoked = ?", id, false).
		Updates(map[string]any{"revoked": true, "updated_at": now}).Error
	if err != nil {
		return err
	}
	return record(tx, now, &id, models.EventPasswordChanged, nil)
}

// MarkEmailVerified records that the user's current email is verified and
// writes an email.verified activity row. It returns ErrInvalidInput for a
// malformed id and ErrNotFound for an unknown user.
func (r *Users) MarkEmailVerified(ctx context.Context, id models.UUID) error {
	if err := validID("user id", id); err != nil {
		return fmt.Errorf("mark email verified: %w", err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error { return markAddressVerified(tx, now, id, "") })
	return Translate("mark email verified", err)
}

// markAddressVerified sets email_verified_at, only while the user's address
// is still email (when email is set): a change of address committed in
// between makes it fail with ErrRevoked.
func markAddressVerified(tx *gorm.DB, now time.Time, id models.UUID, email string) error {
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
	return record(tx, now, &id, models.EventEmailVerified, nil)
}

// Delete removes a user; sessions, resets, verifications, tokens, codes and
// owned clients go with it (foreign keys cascade) and activity rows stay
// with their user id cleared. A user.deleted activity row records the
// deletion. It returns ErrInvalidInput for a malformed id and ErrNotFound
// for an unknown user.
func (r *Users) Delete(ctx context.Context, id models.UUID) error {
	if err := validID("user id", id); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		res := tx.Where("id = ?", id).Delete(&models.User{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		return record(tx, now, nil, models.EventUserDeleted, map[string]any{"user_id": id})
	})
	return Translate("delete user", err)
}

// Authenticate checks an email and password. An unknown email costs the
// same Argon2id work as a wrong password, and as a locked account, and
// returns the same ErrInvalidCredentials. A failure increments the
// account's failed-login count atomically and writes a login.failed row in
// its own transaction; a success resets the counts, writes
// login.succeeded, and upgrades a stale hash (weaker parameters, or an
// imported bcrypt hash) to the current Argon2id parameters.
//
// Lockout (SECURITY 42): once failed logins reach AUTH_LOCKOUT_THRESHOLD
// the account is locked for AUTH_LOCKOUT_DURATION, twice as long for each
// further lock before a success (at most MaxLockout), and every login is
// refused with ErrAccountLocked (which matches ErrInvalidCredentials) until
// the lock ends, the right password included. Failures go on counting
// while locked. Each lock writes an account.locked row.
//
// An email that is not text (invalid UTF-8, a NUL byte) or longer than
// MaxEmailLength cannot belong to an account: it is answered as an unknown
// email is, after the same dummy verification and with the same login.failed
// row, and never reaches a query.
//
// Two-factor (SECURITY 45): for an account with a confirmed second factor
// the right password is not a login. Authenticate then returns nil and
// ErrSecondFactorRequired, writes nothing and leaves the failed-login
// count as it is (only a verified second factor resets it, so that a
// known password does not reset the lockout of guessed codes); use Login,
// which hands back a challenge for TwoFactor.CompleteLogin. Up to the
// password's verification an account with a factor and one without cost
// the same: the factor is a column of the row both read.
//
// Returns ErrInvalidCredentials, ErrAccountLocked, ErrSecondFactorRequired,
// or ErrEmailNotVerified when the configuration requires verified email
// and the password was right.
func (r *Users) Authenticate(ctx context.Context, email, password string) (*models.User, error) {
	u, err := r.checkPassword(ctx, email, password)
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if u.TwoFactorConfirmedAt != nil {
		return nil, fmt.Errorf("authenticate: %w", ErrSecondFactorRequired)
	}
	if err := r.succeed(ctx, u, password); err != nil {
		return nil, Translate("authenticate", err)
	}
	return u, nil
}

// LoginResult is what Users.Login returns: the user, and whether a second
// factor is still owed. When it is, the login is not complete: the
// challenge Login hands back (with ChallengeExpiresAt) goes to
// TwoFactor.CompleteLogin with the user's code.
type LoginResult struct {
	User                 *models.User
	SecondFactorRequired bool
	ChallengeExpiresAt   time.Time
}

// Login is Authenticate for a server that supports two-factor
// authentication. For an account without a confirmed factor it is
// Authenticate: a full login, the result's SecondFactorRequired false and
// no challenge. For an account with one, once the password is verified it
// writes a two-factor challenge (a 256-bit token, stored as its SHA-256
// digest, valid for models.TwoFactorChallengeLifetime, used once) and a
// two_factor.challenged activity row, and returns SecondFactorRequired
// true with the challenge token, shown once; the failed-login count is
// not reset until TwoFactor.CompleteLogin verifies the second factor.
//
// Returns the errors of Authenticate but ErrSecondFactorRequired.
func (r *Users) Login(ctx context.Context, email, password string) (*LoginResult, string, error) {
	const op = "login"
	u, err := r.checkPassword(ctx, email, password)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	if u.TwoFactorConfirmedAt == nil {
		if err := r.succeed(ctx, u, password); err != nil {
			return nil, "", Translate(op, err)
		}
		return &LoginResult{User: u}, "", nil
	}
	token, err := hooks.NewToken()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	c := &models.TwoFactorChallenge{ID: models.NewUUID(), UserID: u.ID, TokenHash: hooks.Digest(token)}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		c.CreatedAt, c.ExpiresAt = now, now.Add(models.TwoFactorChallengeLifetime)
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return record(tx, now, &u.ID, models.EventTwoFactorChallenged, map[string]any{"challenge_id": c.ID})
	})
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return &LoginResult{User: u, SecondFactorRequired: true, ChallengeExpiresAt: c.ExpiresAt}, token, nil
}

// checkPassword is the first factor of Authenticate and Login: it returns
// the user whose email and password these are, after the lock and email
// verification checks, or the error to return, having recorded the
// failure.
func (r *Users) checkPassword(ctx context.Context, email, password string) (*models.User, error) {
	u, err := r.FindByEmail(ctx, email)
	if err != nil {
		if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalidInput) {
			return nil, err
		}
		r.hasher().VerifyDummy(password)
		if _, err := r.recordFailure(ctx, nil, "unknown_email", true); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}
	ok, verr := r.hasher().Verify(u.PasswordHash, password)
	locked := u.LockedUntil != nil && r.now().Before(*u.LockedUntil)
	if verr != nil || !ok || locked {
		reason := "wrong_password"
		if ok && verr == nil {
			reason = "locked" // the right password, refused: not a failure to count
		}
		nowLocked, err := r.recordFailure(ctx, &u.ID, reason, reason != "locked")
		if err != nil {
			return nil, err
		}
		if locked || nowLocked {
			return nil, ErrAccountLocked
		}
		return nil, ErrInvalidCredentials
	}
	if r.cfg().RequireEmailVerification && u.EmailVerifiedAt == nil {
		if _, err := r.recordFailure(ctx, &u.ID, "email_not_verified", false); err != nil {
			return nil, err
		}
		return nil, ErrEmailNotVerified
	}
	return u, nil
}

// succeed completes a password login: it resets the failed-login counts,
// upgrades a stale hash, and writes login.succeeded.
func (r *Users) succeed(ctx context.Context, u *models.User, password string) error {
	var rehash string
	if r.hasher().NeedsRehash(u.PasswordHash) {
		var err error
		if rehash, err = r.hasher().Hash(password); err != nil {
			return err
		}
	}
	return r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		changes := map[string]any{"failed_logins": 0, "lockouts": 0, "locked_until": nil}
		if rehash != "" {
			changes["password"] = rehash
		}
		// The stored hash is the one verified, and no lock began meanwhile:
		// a concurrent password change wins over the upgrade, a concurrent
		// lock over the login. UpdateColumns: a login is not a change of
		// the account, so updated_at stays.
		res := tx.Model(&models.User{}).Where("id = ? AND password = ?", u.ID, u.PasswordHash).
			Where("locked_until IS NULL OR locked_until <= ?", now).UpdateColumns(changes)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("account changed during the login: %w", ErrInvalidCredentials)
		}
		if rehash != "" {
			u.PasswordHash = rehash
		}
		u.FailedLogins, u.Lockouts, u.LockedUntil = 0, 0, nil
		return record(tx, now, &u.ID, models.EventLoginSucceeded, nil)
	})
}

// MaxLockout caps how long one lock after failed logins lasts, however many
// came before.
const MaxLockout = 24 * time.Hour

// MaxOperatorLock caps an operator's lock (Users.Lock): a hundred years,
// which is "until unlocked" (authstore user lock without --for).
const MaxOperatorLock = 100 * 365 * 24 * time.Hour

// lockoutFor returns how long the lock after lockouts earlier ones lasts.
func lockoutFor(first time.Duration, lockouts int64) time.Duration {
	d := first
	for i := int64(0); i < lockouts && d < MaxLockout; i++ {
		d *= 2
	}
	return min(d, MaxLockout)
}

// recordFailure writes a login.failed row, for the account id (nil for an
// unknown email) and, when count is set, increments its failed logins
// atomically and locks it once they reach the threshold, in one
// transaction. It reports whether this failure locked the account. The
// increment takes the row's lock, so of concurrent failures exactly one
// sees the count reach the threshold with no lock in force.
func (r *Users) recordFailure(ctx context.Context, id *models.UUID, reason string, count bool) (bool, error) {
	return recordFailure(ctx, r.base, id, models.EventLoginFailed, reason, count)
}

// recordFailure is Users.recordFailure for any failed authentication of an
// account: a wrong password (login.failed) or a wrong second factor
// (two_factor.failed), which count toward the same lockout.
func recordFailure(ctx context.Context, b base, id *models.UUID, event models.Event, reason string, count bool) (bool, error) {
	// An unknown email (id nil) runs the same statements as a known one,
	// on an id no row has, so the failure costs the same either way.
	target := noAccount
	if id != nil {
		target = *id
	}
	locked, err := inTx(ctx, b, func(tx *gorm.DB, now time.Time) (bool, error) {
		if !count {
			return false, record(tx, now, id, event, map[string]any{"reason": reason})
		}
		err := tx.Model(&models.User{}).Where("id = ?", target).UpdateColumns(map[string]any{
			"failed_logins":        gorm.Expr("failed_logins + 1"),
			"last_failed_login_at": now,
		}).Error
		if err != nil {
			return false, err
		}
		if err := record(tx, now, id, event, map[string]any{"reason": reason}); err != nil {
			return false, err
		}
		threshold := b.cfg().LockoutThreshold
		if threshold <= 0 {
			return false, nil
		}
		var u models.User
		err = tx.Select("failed_logins", "lockouts", "locked_until").Where("id = ?", target).Take(&u).Error
		if id == nil && errors.Is(err, gorm.ErrRecordNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if u.FailedLogins < int64(threshold) || (u.LockedUntil != nil && now.Before(*u.LockedUntil)) {
			return false, nil
		}
		return true, lock(tx, now, *id, lockoutFor(b.cfg().LockoutDuration, u.Lockouts), u.FailedLogins, "failed_logins")
	})
	return locked, Translate("record failure", err)
}

// lock locks an account for d from now and records it.
func lock(tx *gorm.DB, now time.Time, id models.UUID, d time.Duration, failed int64, by string) error {
	until := now.Add(d)
	res := tx.Model(&models.User{}).Where("id = ?", id).UpdateColumns(map[string]any{
		"locked_until": until, "lockouts": gorm.Expr("lockouts + 1"),
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("user: %w", ErrNotFound)
	}
	return record(tx, now, &id, models.EventAccountLocked, map[string]any{
		"by": by, "until": until, "seconds": int64(d / time.Second), "failed_logins": failed,
	})
}

// Lock locks an account for d (an operator's lock): logins are refused
// with ErrAccountLocked until it ends. It records account.locked. It
// returns ErrInvalidInput for a malformed id, a non-positive d, a d longer
// than MaxOperatorLock or one ending after year 9999 by the Store's clock,
// and ErrNotFound for an unknown user.
func (r *Users) Lock(ctx context.Context, id models.UUID, d time.Duration) error {
	const op = "lock user"
	if err := validID("user id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if d <= 0 {
		return fmt.Errorf("%s: duration is not positive: %w", op, ErrInvalidInput)
	}
	if d > MaxOperatorLock {
		return fmt.Errorf("%s: duration is longer than %d years (MaxOperatorLock): %w", op, MaxOperatorLock/(365*24*time.Hour), ErrInvalidInput)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		if err := checkStoredTime("lock duration's end", now.Add(d)); err != nil {
			return err
		}
		return lock(tx, now, id, d, 0, "operator")
	})
	return Translate(op, err)
}

// Unlock ends an account's lock and clears its failed-login counts, and
// records account.unlocked. Unlocking an account that is not locked
// changes nothing and records nothing. It returns ErrInvalidInput for a
// malformed id and ErrNotFound for an unknown user.
func (r *Users) Unlock(ctx context.Context, id models.UUID) error {
	const op = "unlock user"
	if err := validID("user id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		var u models.User
		if err := tx.Select("id", "locked_until").Where("id = ?", id).Take(&u).Error; err != nil {
			return err
		}
		if u.LockedUntil == nil || !now.Before(*u.LockedUntil) {
			return nil
		}
		res := tx.Model(&models.User{}).Where("id = ?", id).
			UpdateColumns(map[string]any{"locked_until": nil, "lockouts": 0, "failed_logins": 0})
		if res.Error != nil {
			return res.Error
		}
		return record(tx, now, &id, models.EventAccountUnlocked, nil)
	})
	return Translate(op, err)
}

func validateProfile(name, email string) (string, string, error) {
	name, err := checkName("name", name)
	if err != nil {
		return "", "", err
	}
	email, _, err = checkEmail(email)
	if err != nil {
		return "", "", err
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
