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

// takeOne runs query, which ends where its one bound argument goes, and
// scans the single row into fields. No row is gorm.ErrRecordNotFound, as
// Take reports it. The statement is written straight into GORM's builder
// (the dialect writes the placeholder), which spares Raw its byte-by-byte
// scan of the column list; GORM's Row callbacks, logger and any host
// plugins still run.
func takeOne(ctx context.Context, db *gorm.DB, query string, arg any, fields []any) error {
	tx := db.WithContext(ctx).Raw("")
	tx.Statement.SQL.WriteString(query)
	tx.Statement.AddVar(&tx.Statement.SQL, arg)
	row := tx.Row()
	if row == nil {
		if tx.Error != nil {
			return tx.Error
		}
		return gorm.ErrInvalidDB
	}
	err := row.Scan(fields...)
	if err == sql.ErrNoRows {
		return gorm.ErrRecordNotFound
	}
	return err
}
