package repositories

import (
	"context"
	"database/sql"

	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// The lookups on every request's path (a user by email or id, a session by
// token) read one row with a fixed statement and scan it into the model
// field by field. GORM still runs the statement (its context, connection
// pool, logger and callbacks); skipping its clause building and reflective
// scanning halves the ORM's overhead over raw database/sql (see
// BENCHMARKS.md). The column lists name every column of the model; the
// schema-parity and round-trip tests would fail if one went missing.

const userColumns = `id, name, email, email_normalized, password, email_verified_at, two_factor_secret,
	two_factor_recovery_codes, two_factor_confirmed_at, failed_logins, last_failed_login_at, created_at, updated_at`

func userFields(u *models.User) []any {
	return []any{&u.ID, &u.Name, &u.Email, &u.EmailNormalized, &u.PasswordHash, &u.EmailVerifiedAt, &u.TwoFactorSecret,
		&u.TwoFactorRecoveryCodes, &u.TwoFactorConfirmedAt, &u.FailedLogins, &u.LastFailedLoginAt, &u.CreatedAt, &u.UpdatedAt}
}

const sessionColumns = `id, user_id, token_hash, ip_address, user_agent, remember, last_activity_at, expires_at, created_at`

func sessionFields(s *models.Session) []any {
	return []any{&s.ID, &s.UserID, &s.TokenHash, &s.IPAddress, &s.UserAgent, &s.Remember, &s.LastActivityAt, &s.ExpiresAt, &s.CreatedAt}
}

// takeOne runs query (one bound argument) and scans its single row into
// fields. No row is gorm.ErrRecordNotFound, as Take reports it.
func takeOne(ctx context.Context, db *gorm.DB, query string, arg any, fields []any) error {
	row := db.WithContext(ctx).Raw(query, arg).Row()
	if row == nil {
		return gorm.ErrInvalidDB
	}
	err := row.Scan(fields...)
	if err == sql.ErrNoRows {
		return gorm.ErrRecordNotFound
	}
	return err
}
