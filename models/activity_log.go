package models

import (
	"errors"
	"time"

	"github.com/forgeauth/authstore/internal/retention"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Activity is one row of the append-only audit trail (table
// user_activity_log). Its user reference is set to NULL when the user is
// deleted: the trail outlives the user.
type Activity struct {
	ID        int64  `gorm:"primaryKey;autoIncrement;not null" json:"id"`
	UserID    *UUID  `gorm:"index" json:"user_id,omitempty"`
	User      *User  `gorm:"constraint:OnDelete:SET NULL" json:"-"`
	Event     string `gorm:"not null;index" json:"event"`
	IPAddress string `gorm:"not null" json:"ip_address"`
	UserAgent string `gorm:"not null" json:"user_agent"`
	// Metadata is a JSON object of event details; it never holds a secret.
	Metadata  string    `gorm:"not null" json:"metadata"`
	CreatedAt time.Time `gorm:"not null;index" json:"created_at"`
}

// TableName returns "user_activity_log", with the prefix and schema of a
// Store's tables (see Namer).
func (Activity) TableName(n schema.Namer) string { return tableName(n, "user_activity_log") }

// ErrAppendOnly is returned when code tries to update or delete an activity
// row outside a retention purge.
var ErrAppendOnly = errors.New("models: the activity log is append-only")

// BeforeUpdate refuses any update: the log is append-only.
func (a *Activity) BeforeUpdate(tx *gorm.DB) error { return ErrAppendOnly }

// BeforeDelete refuses deletes except in the retention purge
// (repositories.Cleanup.Purge with an activity retention, or
// ActivityLog.Purge), the one way rows leave the log.
func (a *Activity) BeforeDelete(tx *gorm.DB) error {
	if retention.Allowed(tx) {
		return nil
	}
	return ErrAppendOnly
}

// Event names an entry in the user activity log. Its string value is what is
// stored, so existing values must never change.
type Event string

const (
	// EventRegistered records that a user account was created.
	EventRegistered Event = "user.registered"
	// EventLoginSucceeded records a successful password login.
	EventLoginSucceeded Event = "login.succeeded"
	// EventLoginFailed records a failed login attempt.
	EventLoginFailed Event = "login.failed"
	// EventLoginSession records a sign-in answered by a live login session
	// without a password (single sign-on at the OpenID provider); its
	// metadata names the client and the session.
	EventLoginSession Event = "login.session"
	// EventLogout records that a user logged out (one session ended by its
	// token).
	EventLogout Event = "logout"
	// EventSessionCreated records that a session was created.
	EventSessionCreated Event = "session.created"
	// EventSessionDeleted records that sessions were ended other than by a
	// logout (all of a user's, or all but one).
	EventSessionDeleted Event = "session.deleted"
	// EventPasswordChanged records that a user's password changed.
	EventPasswordChanged Event = "password.changed"
	// EventPasswordResetRequested records that a password reset was requested.
	EventPasswordResetRequested Event = "password_reset.requested"
	// EventPasswordResetCompleted records that a password reset was completed.
	EventPasswordResetCompleted Event = "password_reset.completed"
	// EventEmailVerificationSent records that a verification email was sent.
	EventEmailVerificationSent Event = "email_verification.sent"
	// EventEmailVerified records that a user verified their email address.
	EventEmailVerified Event = "email.verified"
	// EventProfileUpdated records that a user's profile was updated.
	EventProfileUpdated Event = "user.updated"
	// EventUserDeleted records that a user account was deleted.
	EventUserDeleted Event = "user.deleted"
	// EventClientCreated records that an OAuth2 client was registered.
	EventClientCreated Event = "client.created"
	// EventClientSecretRotated records that a client's secret was rotated.
	EventClientSecretRotated Event = "client.secret_rotated"
	// EventClientRevoked records that a client was revoked.
	EventClientRevoked Event = "client.revoked"
	// EventClientDeleted records that a client was deleted.
	EventClientDeleted Event = "client.deleted"
	// EventTokenRevoked records that an access or refresh token was revoked.
	EventTokenRevoked Event = "token.revoked"
	// EventRefreshTokenReused records reuse of an already rotated refresh
	// token, a sign of token theft.
	EventRefreshTokenReused Event = "refresh_token.reused"
	// EventAuthCodeReplayed records a second redemption of an authorization
	// code, a sign of code interception.
	EventAuthCodeReplayed Event = "auth_code.replayed"
	// EventPersonalTokenCreated records that a personal access token was created.
	EventPersonalTokenCreated Event = "personal_token.created"
	// EventPersonalTokenRevoked records that a personal access token was revoked.
	EventPersonalTokenRevoked Event = "personal_token.revoked"
	// EventAccountLocked records that an account was locked, after
	// consecutive failed logins or by an operator.
	EventAccountLocked Event = "account.locked"
	// EventAccountUnlocked records that an operator unlocked an account.
	EventAccountUnlocked Event = "account.unlocked"
	// EventPasswordSetByOperator records that an operator set a user's
	// password without the current one (Users.SetPassword); a
	// password.changed row accompanies it.
	EventPasswordSetByOperator Event = "password.set_by_operator"
	// EventGrantRevoked records that what a user granted a client (its
	// codes and tokens for that user) was revoked.
	EventGrantRevoked Event = "grant.revoked"
	// EventUserImported records that a user was imported with a password
	// hash from another store or system (Users.Import).
	EventUserImported Event = "user.imported"
	// EventClientImported records that a client was imported with its
	// secret hash from another store (Clients.Import).
	EventClientImported Event = "client.imported"
	// EventSigningKeyCreated records that a signing key was made (next, or
	// current when it is the first or made to sign at once).
	EventSigningKeyCreated Event = "signing_key.created"
	// EventSigningKeyActivated records that a signing key became current
	// and the key before it retired.
	EventSigningKeyActivated Event = "signing_key.activated"
	// EventSigningKeyRetired records that an operator retired a signing key.
	EventSigningKeyRetired Event = "signing_key.retired"
	// EventSecretsReencrypted records that reversible secrets were moved to
	// the current master encryption key.
	EventSecretsReencrypted Event = "secrets.reencrypted"
	// EventTwoFactorEnrolled records that a TOTP factor was enrolled (not
	// yet confirmed).
	EventTwoFactorEnrolled Event = "two_factor.enrolled"
	// EventTwoFactorConfirmed records that an enrolled factor was
	// confirmed with a valid code and now counts.
	EventTwoFactorConfirmed Event = "two_factor.confirmed"
	// EventTwoFactorChallenged records that a password was verified for a
	// user with a factor and a second factor was asked for.
	EventTwoFactorChallenged Event = "two_factor.challenged"
	// EventTwoFactorSucceeded records that a second factor was verified.
	EventTwoFactorSucceeded Event = "two_factor.succeeded"
	// EventTwoFactorFailed records a wrong, replayed or malformed
	// second-factor code; it counts toward the account lockout.
	EventTwoFactorFailed Event = "two_factor.failed"
	// EventTwoFactorDisabled records that a user removed their factor.
	EventTwoFactorDisabled Event = "two_factor.disabled"
	// EventTwoFactorReset records that an operator removed a user's factor.
	EventTwoFactorReset Event = "two_factor.reset"
	// EventRecoveryCodesGenerated records that a new set of recovery codes
	// was made, voiding the previous set.
	EventRecoveryCodesGenerated Event = "two_factor.recovery_codes_generated"
	// EventRecoveryCodeUsed records that a recovery code was used.
	EventRecoveryCodeUsed Event = "two_factor.recovery_code_used"
)

var events = [...]Event{
	EventRegistered, EventLoginSucceeded, EventLoginFailed, EventLogout,
	EventSessionCreated, EventSessionDeleted, EventPasswordChanged,
	EventPasswordResetRequested, EventPasswordResetCompleted,
	EventEmailVerificationSent, EventEmailVerified, EventProfileUpdated,
	EventUserDeleted, EventClientCreated, EventClientSecretRotated,
	EventClientRevoked, EventClientDeleted, EventTokenRevoked,
	EventRefreshTokenReused, EventAuthCodeReplayed,
	EventPersonalTokenCreated, EventPersonalTokenRevoked,
	EventAccountLocked, EventAccountUnlocked, EventPasswordSetByOperator,
	EventGrantRevoked, EventUserImported, EventClientImported,
	EventSigningKeyCreated, EventSigningKeyActivated, EventSigningKeyRetired, EventSecretsReencrypted,
	EventTwoFactorEnrolled, EventTwoFactorConfirmed, EventTwoFactorChallenged, EventTwoFactorSucceeded,
	EventTwoFactorFailed, EventTwoFactorDisabled, EventTwoFactorReset, EventRecoveryCodesGenerated,
	EventRecoveryCodeUsed,
	EventLoginSession,
}

// Valid reports whether e is one of the events returned by Events.
func (e Event) Valid() bool {
	for _, v := range events {
		if e == v {
			return true
		}
	}
	return false
}

// Events returns all known events in a new slice.
func Events() []Event { return append([]Event(nil), events[:]...) }
