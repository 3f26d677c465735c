// Package repositories is authstore's persistence API: one repository per
// table over *gorm.DB, serving PostgreSQL, SQLite and MySQL alike, in one file
// named after its table (users.go, refresh_tokens.go, ...), and grants.go
// for what spans the OAuth tables by user and client (a user's authorized
// clients). Machinery that
// several grants share lives in files named for their job: issue.go (the
// client check, access tokens, token pairs), revoke.go (family, client and
// user revocation), consume.go (the single-use step), validate.go (ids,
// names, lists, scopes), lookup.go (the hot-path row reads), cache.go (the
// bounded LRU the process-local caches use), tx.go (the transaction helper
// and its clock), optional_write.go (the writes a lookup may do
// without); two_factor.go is the two-factor repository over the users
// table's factor columns and the tables two_factor_used_steps.go,
// two_factor_challenges.go and recovery_codes.go hold the pieces of. The OAuth rules that need no database
// (JWT claims and signing, redirect URIs, scopes, PKCE) are in package
// protocol.
//
// # Transactions
//
// Every exported method takes a context first and writes in one
// transaction; WithTx makes a copy that runs inside a caller's transaction
// (as savepoints), so several repositories combine in one. The copy takes
// only the transaction's connection and keeps the Store's clock, logger,
// error translation, table names, callbacks and hasher, whatever handle the
// transaction was opened on, the host application's own included. The transaction
// helper reads the clock once, in UTC at microsecond resolution, and hands
// that reading to the body: every time a transaction writes or compares is
// the same instant.
//
// Secrets are hashed before the transaction opens: an Argon2id hash costs
// tens of milliseconds, and on SQLite the transaction holds the only write
// lock. A call whose hashing depends on a row therefore reads it before its
// transaction, then makes its write conditional on what it read:
// Users.ChangePassword (the update applies only while the stored hash is
// the one verified), Users.Authenticate (rehash only over the verified
// hash), Clients.RotateSecret (only while the client is active and
// confidential). Calls that only read, and the throttled last-activity
// writes of Sessions.Find, Sessions.Touch and PersonalTokens.Find (each
// conditional, so a stale write never moves the time back), run as single
// statements with no transaction. The writes of the two Finds are optional
// (optional_write.go, OptionalWrite): a lookup never waits for a lock they
// would need, nor fails because they could not be made; the next lookup
// makes them. Failed logins are recorded in a transaction of their own.
// Cleanup.Purge reads the clock once for the whole purge, so every batch,
// each its own short transaction, deletes against the same cut-off.
//
// # Lock order
//
// Every transaction that writes more than one table takes its locks in one
// order, so that on PostgreSQL no two of them wait for each other in a
// cycle (SQLite's immediate transactions take the database's one write
// lock at BEGIN):
//
//  1. users: a transaction that writes one user's rows in more than one
//     table first takes the account's lock, the user's row (lockUser in
//     tx.go; FOR NO KEY UPDATE, so rows referring to the user can still be
//     inserted), or starts by updating that row (Users.ChangePassword,
//     Users.SetPassword and Users.Authenticate's counters). Such
//     transactions queue on the user: PasswordResets.Request and Reset,
//     EmailVerifications.Issue and Consume, Users.UpdateProfile,
//     ChangePassword, SetPassword, Delete, Grants.Revoke, and every
//     TwoFactor call that writes. (On MySQL the
//     account's lock is FOR UPDATE, and inserting a row that refers to the
//     user, an activity row, waits for it.)
//  2. then that user's rows in this table order: password_resets,
//     two_factor_challenges, two_factor_used_steps, recovery_codes,
//     email_verifications, sessions, oauth_auth_codes,
//     oauth_refresh_tokens, oauth_access_tokens,
//     oauth_personal_access_tokens;
//  3. oauth_clients before the codes and tokens of a client;
//  4. user_activity_log last, insert only.
//
// The OAuth revocations (revokeGrants in revoke.go) lock codes, then
// refresh tokens, then access tokens, whatever they revoke by (user,
// client, family); a replayed provider code (AuthRequests.Redeem) locks
// its oauth_auth_requests row, then its family's tokens in that order. A lookup's optional write never waits for a lock
// (optional_write.go). TestHardeningLockOrder races every pair of these
// flows on one user.
//
// When a failure must still commit something, that is a second transaction
// after the first: a reused refresh token (Rotate) or a replayed code
// (AuthCodes.Exchange, AuthRequests.Redeem) ends the first transaction, which changed nothing, then
// revokes the family in a transaction of its own that commits before the
// call returns ErrReused or ErrCodeReplayed.
//
// Activity rows are written by the repositories, inline, in the transaction
// of the change they record. The model hooks (package models) are only the
// safety net for host code writing rows itself.
//
// # Errors
//
// Driver errors are classified in one place, package internal/dberr, by
// error type and code (a *pgconn.PgError's SQLSTATE, a sqlite3.Error's
// result code), never by message text and never in a dialect branch here.
// The transaction helper (tx.go) runs a transaction of its own again, from
// the start, when the database rolled it back as a deadlock or
// serialization victim: nothing of it committed, and a body's only effects
// are its statements (callbacks such as a reset's delivery run after the
// commit). A savepoint inside a caller's transaction is never run again.
//
// Errors wrap the sentinels declared in errors.go; callers test them with
// errors.Is. They keep apart what a token endpoint must answer differently
// (RFC 6749 5.2): ErrInvalidCredentials is invalid_client,
// ErrUnauthorizedClient unauthorized_client, ErrInvalidScope invalid_scope,
// and a bad code or token (ErrNotFound, ErrExpired, ErrRevoked, ErrUsed,
// ErrReused, ErrCodeReplayed) invalid_grant. GORM and driver errors are translated at this boundary
// (Translate) and never leak a bound value; no error text holds a secret.
// Every method maps conditions to sentinels the same way:
//
//	condition                                        sentinel
//	-----------------------------------------------  ---------------------
//	an id argument is not a canonical UUID           ErrInvalidInput
//	  (lower-case 8-4-4-4-12; upper-case, braced
//	  and urn forms are refused)
//	a text argument is not valid UTF-8, holds a NUL  ErrInvalidInput
//	  byte or exceeds its cap (the message names
//	  the field, never the value)
//	a callback argument is nil                       ErrInvalidInput
//	any other argument fails validation              ErrInvalidInput
//	a scope is malformed, unregistered or wider      ErrInvalidScope (is ErrInvalidInput)
//	  than the grant
//	the client may not use the grant type            ErrUnauthorizedClient
//	no row has the id, email or token the call       ErrNotFound
//	  acts on or reads (the user of Users.FindByID
//	  or EmailVerifications.Issue, the client of a
//	  grant)
//	a row the new row only refers to is missing      ErrMissingReferent
//	  (the user of a new session, token or code,
//	  the owner of a new client)
//	a unique value is taken (an email)               ErrDuplicate
//	the row changed under the call                   ErrConcurrentChange
//	past its lifetime                                ErrExpired
//	revoked (token, client, grant); a verification   ErrRevoked
//	  for an address the user no longer has
//	a single-use token or code already consumed      ErrUsed
//	a used refresh token presented again             ErrReused
//	a used authorization code presented again        ErrCodeReplayed (is ErrUsed)
//	authentication failed                            ErrInvalidCredentials
//	  (a wrong password, a wrong second-factor
//	  code, an unknown two-factor challenge)
//	the account is locked                            ErrAccountLocked (is ErrInvalidCredentials)
//	the password was right and the account has a     ErrSecondFactorRequired
//	  confirmed second factor (Users.Authenticate;     (no user is returned)
//	  Users.Login returns a challenge instead)
//	a TOTP code whose step was used, or a recovery   ErrInvalidCredentials and
//	  code used already (counted as a failure)         ErrUsed
//	a two-factor challenge used or expired           ErrUsed, ErrExpired
//	two-factor enrolment while AUTH_ENABLE_TWO_      ErrTwoFactorDisabled
//	  FACTOR is false, or without the master or
//	  recovery key
//	a factor enrolled while one is confirmed         ErrDuplicate
//	a code checked for a user without a confirmed    ErrNotFound
//	  factor
//	no current signing key and no usable JWT_SECRET; ErrNoSigningKey
//	  a signing key to make, or a current one to
//	  sign with, and no master encryption key
//	a next signing key is already published          ErrDuplicate
//	  (Rotate without Immediately)
//	a signing key retired again                      ErrRevoked
//	the master keys do not open a stored secret      envelope.ErrWrongKey
//	  (Store startup, SigningKeys.CheckEncryption)
//	a ciphertext names a master key the provider     envelope.ErrUnknownKeyID
//	  does not hold (Reencrypt, signing)
//	a ciphertext altered, or copied from another     envelope.ErrTampered
//	  table, column or row
//	the database chose the transaction as a          ErrConcurrentChange
//	  deadlock or serialization victim more times
//	  than the helper retries
//	ctx's deadline passed, or a lock stayed held     ErrTimeout (with
//	  past SQLite's busy timeout, PostgreSQL's         context.DeadlineExceeded
//	  lock_timeout/statement_timeout or MySQL's        when the deadline did it)
//	  innodb_lock_wait_timeout/max_execution_time
//	ctx was canceled                                 context.Canceled
//	the server closed the connection after a         ErrConnectionLost
//	  statement of the call may have been sent
//
// Every argument is checked at the top of the method, before any hashing,
// query or write, and no error quotes more than a few dozen bytes of an
// argument.
//
// Three departures are on purpose. Calls that authenticate
// (Users.Authenticate, Clients.Authenticate and ValidateCredentials,
// AccessTokens.Validate) answer a malformed id, or an email that is not
// text, with ErrInvalidCredentials, as they answer an unknown one and after
// the same work (Users.Authenticate records the same login.failed row), so
// the answer tells nothing; the token
// calls (AuthCodes.Exchange, RefreshTokens.Rotate and Revoke,
// AccessTokens.IssueClientCredentials, Tokens) take the AuthenticatedClient
// Clients.Authenticate returns and refuse its zero value with
// ErrInvalidCredentials. Revocations by token or jti
// (RefreshTokens.Revoke, AccessTokens.Revoke) succeed, changing nothing, for
// an unknown or malformed token, as RFC 7009 2.2 asks. Users.ChangePassword
// answers a change that raced a reset with ErrInvalidCredentials: the
// password it verified is no longer the account's.
//
// Calls whose answer must not tell whether an account exists do the same
// work inside the library either way: PasswordResets.Request runs a known
// address's statements for an unknown one on an id no user has (noAccount
// in tx.go; its reset row is inserted by INSERT ... SELECT from users, so
// the same statement inserts nothing) and records the request
// (password_reset.requested without a user), and since a known address
// still writes one row more (and a throttled request none), it returns no
// sooner than a time floor, the 99th percentile of its own recent
// durations (time_floor.go); Users.Authenticate verifies a
// dummy hash and counts the failure with the same statements;
// Clients.Authenticate and ValidateCredentials verify a dummy hash. A
// callback's own cost is the host's (Deliver must enqueue, not send).
// EmailVerifications.Issue takes a user id and answers an unknown one with
// ErrNotFound: its caller already knows the account.
package repositories
