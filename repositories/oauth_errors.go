package repositories

import (
	"errors"
	"fmt"
)

// Sentinel errors of the OAuth repositories, in addition to those in
// errors.go.
var (
	// ErrNoSigningKey means an access token could not be issued or validated
	// because the configuration holds no JWT secret (JWT_SECRET is empty).
	ErrNoSigningKey = errors.New("no jwt signing key configured")
	// ErrCodeReplayed means an authorization code that was already exchanged
	// was presented again: the tokens issued from it have been revoked, and
	// that revocation is committed. It also matches ErrUsed.
	ErrCodeReplayed = fmt.Errorf("authorization code replayed; tokens issued from it revoked: %w", ErrUsed)
)
