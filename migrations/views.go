package migrations

import (
	"strings"

	"github.com/forgeauth/authstore/config"
)

// View is a monitoring view: its name and the statement that creates it.
// The statement is the one the up migrations hold, byte for byte (a test
// checks it), so AutoMigrate creates the views the SQL files create
// without parsing them.
type View struct {
	Name string
	SQL  string
}

// Views returns the monitoring views, in creation order. Their SQL is the
// same on PostgreSQL and SQLite; For gives it for a dialect.
func Views() []View {
	return []View{
		{Name: "expired_auth_records", SQL: expiredAuthRecords},
		{Name: "oauth_expired_tokens", SQL: oauthExpiredTokens},
	}
}

// For returns the statement that creates v on dialect d, as the up
// migrations of d hold it: on MySQL the views compare with
// UTC_TIMESTAMP(6), since the stored times are UTC and MySQL's
// CURRENT_TIMESTAMP is in the session's time zone (whatever a mysql client
// reading the view has set) and in whole seconds.
func (v View) For(d config.Dialect) string {
	if d == config.DialectMySQL {
		return strings.ReplaceAll(v.SQL, "CURRENT_TIMESTAMP", "UTC_TIMESTAMP(6)")
	}
	return v.SQL
}

// expiredAuthRecords is created by 000001_create_auth_tables and created
// again, with the spent two-factor challenges, by
// 000008_expired_two_factor_challenges. A challenge is single use: a used
// one is listed before it expires, as Cleanup.Purge deletes it. Used TOTP
// steps are not listed: when one is spent depends on a time interval,
// which the three dialects write differently (Cleanup.Stats reports them).
const expiredAuthRecords = `CREATE VIEW expired_auth_records AS
    SELECT 'session' AS record_type, id, user_id, expires_at FROM sessions WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'password_reset', id, user_id, expires_at FROM password_resets WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'email_verification', id, user_id, expires_at FROM email_verifications WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'two_factor_challenge', id, user_id, expires_at FROM two_factor_challenges
        WHERE expires_at < CURRENT_TIMESTAMP OR used_at IS NOT NULL`

// oauthExpiredTokens is created by 000002_create_oauth_tables and created
// again, with the OpenID provider's authorization requests, by
// 000006_openid_provider. A used refresh token counts as expired only once
// its whole family has, as Cleanup.Purge decides.
const oauthExpiredTokens = `CREATE VIEW oauth_expired_tokens AS
    SELECT 'access_token' AS token_type, id, client_id, user_id, expires_at
        FROM oauth_access_tokens WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'refresh_token', r.id, r.client_id, r.user_id, r.expires_at
        FROM oauth_refresh_tokens r
        WHERE r.expires_at < CURRENT_TIMESTAMP
          AND NOT EXISTS (SELECT 1 FROM oauth_refresh_tokens f
                          WHERE f.family_id = r.family_id AND f.expires_at >= CURRENT_TIMESTAMP)
    UNION ALL
    SELECT 'authorization_code', id, client_id, user_id, expires_at
        FROM oauth_authorization_codes WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'personal_access_token', id, NULL, user_id, expires_at
        FROM oauth_personal_access_tokens WHERE expires_at < CURRENT_TIMESTAMP
    UNION ALL
    SELECT 'auth_request', id, client_id, user_id, expires_at
        FROM oauth_auth_requests WHERE expires_at < CURRENT_TIMESTAMP`
