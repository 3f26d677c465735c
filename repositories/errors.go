package repositories

import (
	"context"
	"errors"
	"fmt"

	"github.com/forgeauth/authstore/internal/dberr"
	"gorm.io/gorm"
)

// The sentinel errors every repository returns. Callers test them with
// errors.Is; the wrapped message names what was wrong and never holds a
// secret. The table in the package documentation says which condition
// returns which.
var (
	// ErrNotFound means no row matched: an unknown id, email or token.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a unique value (an email, a token digest) is taken.
	ErrDuplicate = errors.New("already exists")
	// ErrInvalidInput means an argument failed validation (a malformed id
	// included); the message says which and why.
	ErrInvalidInput = errors.New("invalid input")
	// ErrInvalidScope means a requested scope is malformed, not registered
	// for the client, or wider than the grant (RFC 6749 5.2 invalid_scope).
	// It also matches ErrInvalidInput.
	ErrInvalidScope = fmt.Errorf("invalid scope: %w", ErrInvalidInput)
	// ErrUnauthorizedClient means the client may not use the grant it asked
	// for: the grant type is not registered for it, or a public client asked
	// for client credentials (RFC 6749 5.2 unauthorized_client).
	ErrUnauthorizedClient = errors.New("client may not use this grant type")
	// ErrMissingReferent means a row the call refers to does not exist (a
	// foreign key was refused): the user of a new session, the owner of a
	// new client.
	ErrMissingReferent = errors.New("referenced row does not exist")
	// ErrConcurrentChange means the row changed under the call (a
	// concurrent update won); retrying may succeed.
	ErrConcurrentChange = errors.New("changed concurrently")
	// ErrExpired means a token, code, session or reset is past its lifetime.
	ErrExpired = errors.New("expired")
	// ErrRevoked means a token, client or grant was revoked.
	ErrRevoked = errors.New("revoked")
	// ErrUsed means a single-use token or code was already consumed.
	ErrUsed = errors.New("already used")
	// ErrReused means a used refresh token was presented again: its whole
	// family has been revoked, and that revocation is committed.
	ErrReused = errors.New("refresh token reused; token family revoked")
	// ErrCodeReplayed means an authorization code that was already exchanged
	// was presented again: the tokens issued from it have been revoked, and
	// that revocation is committed. It also matches ErrUsed.
	ErrCodeReplayed = fmt.Errorf("authorization code replayed; tokens issued from it revoked: %w", ErrUsed)
	// ErrInvalidCredentials means a login or client authentication failed.
	// An unknown account and a wrong secret return the same error.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrAccountLocked means the account is locked after consecutive failed
	// logins (or by an operator) and the login was refused, whatever the
	// password. It also matches ErrInvalidCredentials, so a server that
	// answers every ErrInvalidCredentials alike tells a lock from a wrong
	// password to nobody.
	ErrAccountLocked = fmt.Errorf("account locked: %w", ErrInvalidCredentials)
	// ErrEmailNotVerified means authentication was refused because the
	// account's email is not verified and the configuration requires it.
	ErrEmailNotVerified = errors.New("email not verified")
	// ErrSecondFactorRequired means the password was right but the account
	// has a confirmed second factor: Users.Authenticate returns it, with
	// no user, instead of a login. Users.Login returns the challenge that
	// TwoFactor.CompleteLogin completes with a TOTP or recovery code.
	ErrSecondFactorRequired = errors.New("second factor required")
	// ErrTwoFactorDisabled means a two-factor call was refused because
	// two-factor authentication is off (AUTH_ENABLE_TWO_FACTOR=false) or
	// lacks a key it needs (AUTHSTORE_ENCRYPTION_KEY for the TOTP secret,
	// AUTHSTORE_RECOVERY_KEY for the recovery codes); the message says which.
	ErrTwoFactorDisabled = errors.New("two-factor authentication disabled")
	// ErrNoSigningKey means an access token (or an authorization code,
	// whose exchange issues one) could not be issued or validated because
	// the Store has neither a current signing key it can decrypt nor a
	// usable JWT secret, or a signing key could not be made for want of a
	// master encryption key; the message says what to provide.
	ErrNoSigningKey = errors.New("no jwt signing key configured")
	// ErrTimeout means the call did not finish in time and its transaction
	// was rolled back: its context's deadline passed (the error then also
	// matches context.DeadlineExceeded), or a lock it needed stayed held
	// past the database's own wait (SQLite's busy timeout, PostgreSQL's
	// lock_timeout or statement_timeout). Retrying later may succeed.
	ErrTimeout = errors.New("timed out")
	// ErrConnectionLost means the server closed the connection while the
	// call was using it (a restart, a failover, an administrator ending the
	// backend). A statement whose connection was found closed before it was
	// sent has already been retried once on a fresh connection; this error
	// means the loss came after a statement of the call may have reached
	// the server. A transaction that had not reached COMMIT was rolled
	// back; a loss during COMMIT leaves its outcome unknown to the caller.
	ErrConnectionLost = errors.New("database connection lost")
)

// Translate maps GORM and driver errors to the sentinels above, wrapping
// them with op, the operation that failed. It never includes bound values.
// Driver errors are classified by type and code (package internal/dberr):
// a deadlock or serialization failure that outlived the transaction
// helper's retries is ErrConcurrentChange, a lock or statement timeout or a
// passed deadline is ErrTimeout (also matching context.DeadlineExceeded
// when the deadline caused it), a closed connection ErrConnectionLost;
// such errors carry the database's code (SQLSTATE or SQLite result code),
// never its message.
// Host code that queries authstore's tables itself can use it to get the
// same sentinels. The *gorm.DB must have TranslateError set (a Store's DB
// has).
func Translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%s: %w", op, ErrDuplicate)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("%s: %w", op, ErrMissingReferent)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w: %w%s", op, ErrTimeout, context.DeadlineExceeded, codeOf(err))
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", op, context.Canceled)
	}
	switch dberr.Classify(err) {
	case dberr.Conflict:
		return fmt.Errorf("%s: %w: chosen as a deadlock or serialization victim%s", op, ErrConcurrentChange, codeOf(err))
	case dberr.Timeout:
		return fmt.Errorf("%s: %w: the database stayed locked past its lock wait, or the statement past its timeout%s", op, ErrTimeout, codeOf(err))
	case dberr.ConnectionLost:
		return fmt.Errorf("%s: %w%s", op, ErrConnectionLost, codeOf(err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

// codeOf returns " (code X)" for an error that carries a database code, for
// messages that show the code instead of the driver's text.
func codeOf(err error) string {
	if c := dberr.Code(err); c != "" {
		return " (code " + c + ")"
	}
	return ""
}

// invalid wraps a plain validation error (from package protocol, or a
// check here) in ErrInvalidInput.
func invalid(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", err, ErrInvalidInput)
}
