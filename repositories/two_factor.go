package repositories

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/forgeauth/authstore/envelope"
	"github.com/forgeauth/authstore/models"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"
)

// Two-factor authentication (SECURITY 45): a TOTP factor per user (RFC
// 6238: SHA-1, 6 digits, 30 s, as authenticator apps expect), kept in the
// users table's two-factor columns (the secret sealed by package envelope,
// bound to users.two_factor_secret and the user's row), the steps it was
// used for (two_factor_used_steps.go), recovery codes (recovery_codes.go)
// and login challenges (two_factor_challenges.go).

// TwoFactor enrols, confirms, verifies and removes users' second factors.
// A code is a TOTP code (6 digits, accepted for the current time step and
// one before and after, each step once per user) or, wherever a code is
// verified, one of the user's unused recovery codes. A wrong, replayed or
// malformed code is a failed login: it increments the account's
// failed-login count, writes two_factor.failed, and locks the account at
// AUTH_LOCKOUT_THRESHOLD (Users.Authenticate).
//
// With AUTH_ENABLE_TWO_FACTOR=false, Enrol, Confirm and
// RegenerateRecoveryCodes return ErrTwoFactorDisabled; a factor confirmed
// earlier is still asked for at login and can still be verified, disabled
// and reset.
type TwoFactor struct {
	base
	recovery recoveryKeys
}

// NewTwoFactor returns the two-factor repository over db. opts.Encryption
// seals the TOTP secrets; opts.Config's AUTHSTORE_RECOVERY_KEY keys the
// recovery codes' digests.
func NewTwoFactor(db *gorm.DB, opts Options) *TwoFactor {
	return &TwoFactor{base: newBase(db, opts), recovery: loadRecoveryKeys(opts.Config)}
}

// WithTx returns a copy of the repository that works inside tx.
func (r *TwoFactor) WithTx(tx *gorm.DB) *TwoFactor {
	return &TwoFactor{base: r.withTx(tx), recovery: r.recovery}
}

// maxCodeLength bounds a submitted code before it is looked at.
const maxCodeLength = 64

// secretBinding is where a user's TOTP secret is stored, the associated
// data of its encryption.
func secretBinding(id models.UUID) envelope.Binding {
	return envelope.Binding{Table: models.BaseTable(&models.User{}), Column: "two_factor_secret", Row: string(id)}
}

// totpOptions are RFC 6238's defaults, which authenticator apps assume.
var totpOptions = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// ready returns ErrTwoFactorDisabled, saying why, unless enrolment is on
// and both keys are there.
func (r *TwoFactor) ready() error {
	switch {
	case !r.cfg().EnableTwoFactor:
		return fmt.Errorf("%w: AUTH_ENABLE_TWO_FACTOR is false", ErrTwoFactorDisabled)
	case r.opts.Encryption == nil:
		return fmt.Errorf("%w: TOTP secrets need a master encryption key: set AUTHSTORE_ENCRYPTION_KEY (`openssl rand -base64 32`)", ErrTwoFactorDisabled)
	}
	return r.recovery.err
}

// Enrol makes a new TOTP secret for a user without a confirmed factor and
// returns it (base32, for manual entry) with its otpauth:// URI (for a QR
// code; issuer JWT_ISSUER, account the user's email), both shown once. The
// factor does not count until Confirm. Enrolling again before confirming
// replaces the secret. Writes two_factor.enrolled.
//
// Returns ErrTwoFactorDisabled (see TwoFactor), ErrInvalidInput for a
// malformed id, ErrNotFound for an unknown user, and ErrDuplicate when the
// user has a confirmed factor (Disable it first).
func (r *TwoFactor) Enrol(ctx context.Context, userID models.UUID) (secret, uri string, err error) {
	const op = "enrol two-factor"
	if err := firstErr(r.ready(), validID("user id", userID)); err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	var u models.User
	if err := r.conn(ctx).Select("id", "email").Where("id = ?", userID).Take(&u).Error; err != nil {
		return "", "", Translate(op, err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: r.cfg().JWTIssuer, AccountName: u.Email, Period: totpPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("%s: generate the secret: %w", op, err)
	}
	sealed, err := envelope.Seal(ctx, r.opts.Encryption, []byte(key.Secret()), secretBinding(userID))
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		res := tx.Model(&models.User{}).Where("id = ? AND two_factor_confirmed_at IS NULL", userID).
			UpdateColumns(map[string]any{"two_factor_secret": sealed})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("the user has a confirmed factor; disable it first: %w", ErrDuplicate)
		}
		return record(tx, now, &userID, models.EventTwoFactorEnrolled, nil)
	})
	if err != nil {
		return "", "", Translate(op, err)
	}
	return key.Secret(), key.URL(), nil
}

// Confirm makes an enrolled factor count: code must be a valid TOTP code
// of the enrolled secret (its step is spent). It returns the user's
// RecoveryCodeCount recovery codes, shown once, and writes
// two_factor.confirmed and two_factor.recovery_codes_generated.
//
// Returns ErrTwoFactorDisabled, ErrInvalidInput for a malformed id,
// ErrNotFound for an unknown user or one with no factor enrolled,
// ErrDuplicate when the factor is confirmed already, and
// ErrInvalidCredentials (counted as a failed login) for a wrong or
// replayed code.
func (r *TwoFactor) Confirm(ctx context.Context, userID models.UUID, code string) ([]string, error) {
	const op = "confirm two-factor"
	if err := firstErr(r.ready(), validID("user id", userID)); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	u, err := r.user(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if u.TwoFactorConfirmedAt != nil {
		return nil, fmt.Errorf("%s: the factor is confirmed already: %w", op, ErrDuplicate)
	}
	p, err := r.check(ctx, u, code, false)
	if err != nil {
		return nil, r.fail(ctx, op, userID, err)
	}
	codes, rows, err := r.recovery.newRecoveryCodes(userID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		if _, err := lockUser(tx, "id = ?", userID); err != nil {
			return err
		}
		res := tx.Model(&models.User{}).Where("id = ? AND two_factor_secret = ? AND two_factor_confirmed_at IS NULL", userID, *u.TwoFactorSecret).
			UpdateColumns(map[string]any{"two_factor_confirmed_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("the factor changed during the confirmation: %w", ErrConcurrentChange)
		}
		if err := p.spend(tx, now, userID); err != nil {
			return err
		}
		if err := record(tx, now, &userID, models.EventTwoFactorConfirmed, nil); err != nil {
			return err
		}
		return replaceRecoveryCodes(tx, now, userID, rows)
	})
	if errors.Is(err, errNotSpent) {
		return nil, r.fail(ctx, op, userID, err)
	}
	if err != nil {
		return nil, Translate(op, err)
	}
	return codes, nil
}

// TwoFactorStatus is what TwoFactor.Status reports of a user's factor.
type TwoFactorStatus struct {
	// Enrolled is true once a secret was made (Enrol), confirmed or not.
	Enrolled bool `json:"enrolled"`
	// Confirmed is true when the factor counts: it is asked for at login.
	Confirmed   bool       `json:"confirmed"`
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int64 `json:"recovery_codes_left"`
}

// Status reports whether a user has a factor and how many recovery codes
// are left. It works with two-factor authentication off. Returns
// ErrInvalidInput for a malformed id and ErrNotFound for an unknown user.
func (r *TwoFactor) Status(ctx context.Context, userID models.UUID) (TwoFactorStatus, error) {
	const op = "two-factor status"
	if err := validID("user id", userID); err != nil {
		return TwoFactorStatus{}, fmt.Errorf("%s: %w", op, err)
	}
	u, err := r.user(ctx, userID)
	if err != nil {
		return TwoFactorStatus{}, fmt.Errorf("%s: %w", op, err)
	}
	n, err := countRecoveryCodes(r.conn(ctx), userID)
	if err != nil {
		return TwoFactorStatus{}, Translate(op, err)
	}
	return TwoFactorStatus{Enrolled: u.TwoFactorSecret != nil, Confirmed: u.TwoFactorConfirmedAt != nil,
		ConfirmedAt: u.TwoFactorConfirmedAt, RecoveryCodesLeft: n}, nil
}

// Verify checks a second factor of a user with a confirmed factor, for a
// server that keeps no sessions here (an authorization endpoint asking for
// a step-up): a TOTP code, whose step is then spent, or a recovery code,
// then used. Of concurrent submissions of one code exactly one succeeds.
// Writes two_factor.succeeded (and two_factor.recovery_code_used).
//
// Returns ErrInvalidInput for a malformed id, ErrNotFound for an unknown
// user or one without a confirmed factor, ErrAccountLocked for a locked
// account, and ErrInvalidCredentials (counted) for a wrong code; a replayed
// code matches ErrUsed too.
func (r *TwoFactor) Verify(ctx context.Context, userID models.UUID, code string) error {
	const op = "verify two-factor"
	_, err := r.verified(ctx, op, userID, code, func(tx *gorm.DB, now time.Time, p proof) error {
		return record(tx, now, &userID, models.EventTwoFactorSucceeded, map[string]any{"method": p.method()})
	})
	return err
}

// StepUp verifies a second factor (as Verify does) for the user of a live
// session and raises the session to models.AssuranceTwoFactor, with
// SecondFactorAt now. It returns the session as updated.
//
// Returns ErrInvalidInput for a malformed id, ErrNotFound for an unknown
// session or a user without a confirmed factor, ErrExpired for an ended
// session, and Verify's errors for the code.
func (r *TwoFactor) StepUp(ctx context.Context, sessionID models.UUID, code string) (*models.Session, error) {
	const op = "step up session"
	if err := validID("session id", sessionID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var s models.Session
	if err := r.conn(ctx).Where("id = ?", sessionID).Take(&s).Error; err != nil {
		return nil, Translate(op, err)
	}
	now, err := r.verified(ctx, op, s.UserID, code, func(tx *gorm.DB, now time.Time, p proof) error {
		res := tx.Model(&models.Session{}).Where("id = ? AND expires_at > ?", sessionID, now).
			UpdateColumns(map[string]any{"assurance_level": models.AssuranceTwoFactor, "second_factor_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("session: %w", ErrExpired)
		}
		return record(tx, now, &s.UserID, models.EventTwoFactorSucceeded, map[string]any{"method": p.method(), "session_id": sessionID})
	})
	if err != nil {
		return nil, err
	}
	s.AssuranceLevel, s.SecondFactorAt = models.AssuranceTwoFactor, &now
	return &s, nil
}

// CompleteLogin completes a login Users.Login left at its second factor:
// challenge is the token Login returned, code the user's TOTP or recovery
// code. In one transaction it uses the challenge and the code, resets the
// failed-login counts, opens a session at models.AssuranceTwoFactor (as
// Sessions.Create would, with in) and writes two_factor.succeeded,
// login.succeeded and session.created. It returns the session and its
// token, shown once.
//
// A wrong or replayed code leaves the challenge usable until it expires
// and counts as a failed login; once the account locks, every code is
// refused with ErrAccountLocked.
//
// Returns ErrInvalidInput for a bad SessionInput, ErrInvalidCredentials for
// an unknown challenge or a wrong code (a replayed one matches ErrUsed
// too), ErrExpired or ErrUsed for an expired or used challenge, and
// ErrAccountLocked.
func (r *TwoFactor) CompleteLogin(ctx context.Context, challenge, code string, in SessionInput) (*models.Session, string, error) {
	const op = "complete login"
	s, token, life, err := newSession(ctx, r.cfg(), noAccount, in)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	c, err := findChallenge(r.conn(ctx), challenge)
	if err != nil {
		return nil, "", Translate(op, err)
	}
	if err := whyNotUsable("challenge", c.UsedAt, false, c.ExpiresAt, r.now()); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	s.UserID = c.UserID
	_, err = r.verified(ctx, op, c.UserID, code, func(tx *gorm.DB, now time.Time, p proof) error {
		if err := spendChallenge(tx, now, c); err != nil {
			return err
		}
		res := tx.Model(&models.User{}).Where("id = ?", c.UserID).Where("locked_until IS NULL OR locked_until <= ?", now).
			UpdateColumns(map[string]any{"failed_logins": 0, "lockouts": 0, "locked_until": nil})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("account locked during the login: %w", ErrAccountLocked)
		}
		s.AssuranceLevel, s.SecondFactorAt = models.AssuranceTwoFactor, &now
		if err := insertSession(tx, now, s, life); err != nil {
			return err
		}
		if err := record(tx, now, &c.UserID, models.EventTwoFactorSucceeded, map[string]any{"method": p.method(), "session_id": s.ID}); err != nil {
			return err
		}
		return record(tx, now, &c.UserID, models.EventLoginSucceeded, map[string]any{"second_factor": p.method()})
	})
	if err != nil {
		return nil, "", err
	}
	return s, token, nil
}

// Disable removes a user's factor, after verifying one of its codes (TOTP
// or recovery): the secret, the confirmation, the recovery codes and open
// challenges go, in one transaction that writes two_factor.disabled.
//
// Returns Verify's errors.
func (r *TwoFactor) Disable(ctx context.Context, userID models.UUID, code string) error {
	const op = "disable two-factor"
	_, err := r.verified(ctx, op, userID, code, func(tx *gorm.DB, now time.Time, p proof) error {
		if err := removeFactor(tx, userID); err != nil {
			return err
		}
		return record(tx, now, &userID, models.EventTwoFactorDisabled, map[string]any{"method": p.method()})
	})
	return err
}

// RegenerateRecoveryCodes verifies a code (TOTP or recovery) and replaces
// the user's recovery codes with a new set, returned once; the old set no
// longer works. Writes two_factor.recovery_codes_generated.
//
// Returns ErrTwoFactorDisabled and Verify's errors.
func (r *TwoFactor) RegenerateRecoveryCodes(ctx context.Context, userID models.UUID, code string) ([]string, error) {
	const op = "regenerate recovery codes"
	if err := r.ready(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	codes, rows, err := r.recovery.newRecoveryCodes(userID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	_, err = r.verified(ctx, op, userID, code, func(tx *gorm.DB, now time.Time, p proof) error {
		return replaceRecoveryCodes(tx, now, userID, rows)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Reset removes a user's factor without a code: the operator's call
// (authstore user 2fa reset) for a user who lost it. The secret, the
// confirmation, the recovery codes and open challenges go; it writes
// two_factor.reset. It works with two-factor authentication off. Returns
// ErrInvalidInput for a malformed id and ErrNotFound for an unknown user.
func (r *TwoFactor) Reset(ctx context.Context, userID models.UUID) error {
	const op = "reset two-factor"
	if err := validID("user id", userID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		if _, err := lockUser(tx, "id = ?", userID); err != nil {
			return err
		}
		if err := removeFactor(tx, userID); err != nil {
			return err
		}
		return record(tx, now, &userID, models.EventTwoFactorReset, nil)
	})
	return Translate(op, err)
}

// removeFactor clears a user's factor, recovery codes and challenges.
func removeFactor(tx *gorm.DB, userID models.UUID) error {
	err := tx.Model(&models.User{}).Where("id = ?", userID).
		UpdateColumns(map[string]any{"two_factor_secret": nil, "two_factor_confirmed_at": nil}).Error
	if err != nil {
		return err
	}
	if err := tx.Where("user_id = ?", userID).Delete(&models.RecoveryCode{}).Error; err != nil {
		return err
	}
	return tx.Where("user_id = ?", userID).Delete(&models.TwoFactorChallenge{}).Error
}

// user reads a user's row; ErrNotFound for an unknown one.
func (r *TwoFactor) user(ctx context.Context, id models.UUID) (*models.User, error) {
	var u models.User
	if err := r.conn(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, Translate("user", err)
	}
	return &u, nil
}

// proof is a code that checked out before the transaction: the TOTP step
// it is valid for, or the digests a recovery code may have. Spending it in
// the transaction is what makes it count, once.
type proof struct {
	step     int64
	recovery []string
}

func (p proof) method() string {
	if p.recovery != nil {
		return "recovery_code"
	}
	return "totp"
}

// spend uses p inside a transaction: errNotSpent when another use won.
func (p proof) spend(tx *gorm.DB, now time.Time, userID models.UUID) error {
	if p.recovery != nil {
		return spendRecoveryCode(tx, now, userID, p.recovery)
	}
	return spendStep(tx, now, userID, p.step)
}

// check decrypts u's secret and matches code against it (TOTP, the steps
// within totpSkew of now) or, when recovery is set, recognises a recovery
// code. A wrong or malformed code returns errNotSpent.
func (r *TwoFactor) check(ctx context.Context, u *models.User, code string, recovery bool) (proof, error) {
	if u.TwoFactorSecret == nil {
		return proof{}, fmt.Errorf("no second factor enrolled: %w", ErrNotFound)
	}
	code = strings.TrimSpace(code)
	if len(code) > maxCodeLength {
		return proof{}, fmt.Errorf("code: longer than %d bytes: %w", maxCodeLength, errNotSpent)
	}
	if recovery && len(code) != int(totpOptions.Digits) {
		plain, ok := normaliseRecoveryCode(code)
		if !ok {
			return proof{}, fmt.Errorf("code: neither a TOTP nor a recovery code: %w", errNotSpent)
		}
		if r.recovery.err != nil {
			return proof{}, r.recovery.err
		}
		return proof{recovery: r.recovery.digests(plain)}, nil
	}
	if r.opts.Encryption == nil {
		return proof{}, fmt.Errorf("%w: no master encryption key to open the TOTP secret (AUTHSTORE_ENCRYPTION_KEY)", ErrTwoFactorDisabled)
	}
	secret, err := envelope.Open(ctx, r.opts.Encryption, *u.TwoFactorSecret, secretBinding(u.ID))
	if err != nil {
		return proof{}, err
	}
	defer clear(secret)
	now := r.now().Unix() / totpPeriod
	step, found := int64(0), false
	for s := now - totpSkew; s <= now+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix(s*totpPeriod, 0).UTC(), totpOptions)
		if err != nil {
			return proof{}, fmt.Errorf("totp: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !found {
			step, found = s, true
		}
	}
	if !found {
		return proof{}, fmt.Errorf("code: wrong: %w", errNotSpent)
	}
	return proof{step: step}, nil
}

// verified is the verification every call that takes a code shares: it
// reads the user, refuses a locked account or one without a confirmed
// factor, checks the code, then in one transaction takes the account's
// lock, spends the code and runs then. A code refused before or inside
// the transaction is recorded as a failure (fail). It returns the
// transaction's time.
func (r *TwoFactor) verified(ctx context.Context, op string, userID models.UUID, code string, then func(tx *gorm.DB, now time.Time, p proof) error) (time.Time, error) {
	if err := validID("user id", userID); err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", op, err)
	}
	u, err := r.user(ctx, userID)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", op, err)
	}
	if u.TwoFactorConfirmedAt == nil {
		return time.Time{}, fmt.Errorf("%s: no confirmed second factor: %w", op, ErrNotFound)
	}
	if u.LockedUntil != nil && r.now().Before(*u.LockedUntil) {
		if _, err := recordFailure(ctx, r.base, &userID, models.EventTwoFactorFailed, "locked", false); err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", op, err)
		}
		return time.Time{}, fmt.Errorf("%s: %w", op, ErrAccountLocked)
	}
	p, err := r.check(ctx, u, code, true)
	if err != nil {
		return time.Time{}, r.fail(ctx, op, userID, err)
	}
	var at time.Time
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		if _, err := lockUser(tx, "id = ?", userID); err != nil {
			return err
		}
		if err := p.spend(tx, now, userID); err != nil {
			return err
		}
		at = now
		return then(tx, now, p)
	})
	if errors.Is(err, errNotSpent) {
		return time.Time{}, r.fail(ctx, op, userID, err)
	}
	if err != nil {
		return time.Time{}, Translate(op, err)
	}
	return at, nil
}

// fail records a refused second factor (cause wraps errNotSpent) as a
// failed login of userID, which may lock the account, and returns the
// error for the caller: ErrInvalidCredentials, or ErrAccountLocked when
// this failure locked it, wrapping ErrUsed for a replay. Any other cause
// is returned as it is.
func (r *TwoFactor) fail(ctx context.Context, op string, userID models.UUID, cause error) error {
	if !errors.Is(cause, errNotSpent) {
		return Translate(op, cause)
	}
	reason := "wrong_code"
	if errors.Is(cause, ErrUsed) {
		reason = "replayed_code"
	}
	locked, err := recordFailure(ctx, r.base, &userID, models.EventTwoFactorFailed, reason, true)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	refusal := ErrInvalidCredentials
	if locked {
		refusal = ErrAccountLocked
	}
	if errors.Is(cause, ErrUsed) {
		return fmt.Errorf("%s: %w: code %w", op, refusal, ErrUsed)
	}
	return fmt.Errorf("%s: %w", op, refusal)
}
