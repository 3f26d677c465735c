package repositories

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// The sentinel errors every repository returns. Callers test them with
// errors.Is; the wrapped message names what was wrong and never holds a
// secret.
var (
	// ErrNotFound means no row matched: an unknown id, email or token.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a unique value (an email, a token digest) is taken.
	ErrDuplicate = errors.New("already exists")
	// ErrInvalidInput means an argument failed validation; the message says
	// which and why.
	ErrInvalidInput = errors.New("invalid input")
	// ErrExpired means a token, code, session or reset is past its lifetime.
	ErrExpired = errors.New("expired")
	// ErrRevoked means a token, client or grant was revoked.
	ErrRevoked = errors.New("revoked")
	// ErrUsed means a single-use token or code was already consumed.
	ErrUsed = errors.New("already used")
	// ErrReused means a used refresh token was presented again: its whole
	// family has been revoked, and that revocation is committed.
	ErrReused = errors.New("refresh token reused; token family revoked")
	// ErrInvalidCredentials means a login or client authentication failed.
	// An unknown account and a wrong secret return the same error.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrEmailNotVerified means authentication was refused because the
	// account's email is not verified and the configuration requires it.
	ErrEmailNotVerified = errors.New("email not verified")
	// ErrConflict means a referenced row is missing (a foreign key was
	// refused), or the row changed under a concurrent update.
	ErrConflict = errors.New("conflict")
)

// Translate maps GORM and driver errors to the sentinels above, wrapping
// them with op, the operation that failed. It never includes bound values.
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
		return fmt.Errorf("%s: referenced row does not exist: %w", op, ErrConflict)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }
