// Package integration holds authstore's contract suite: every behaviour is
// tested through one shared suite against each backend (a SQLite file, the
// in-memory SQLite database, and PostgreSQL), with concurrency, fault and
// schema-parity tests and the benchmarks. It has no non-test code.
//
// The suite is grouped by table: the tests of a repository are in the file
// named for its table, and are named for the repository and the outcome
// (users_test.go holds TestUsers..., refresh_tokens_test.go holds
// TestRefreshTokens...):
//
//	users_test.go                   users (repositories.Users)
//	sessions_test.go                sessions
//	password_resets_test.go         password_resets
//	email_verifications_test.go     email_verifications
//	activity_log_test.go            user_activity_log (repositories.ActivityLog)
//	clients_test.go                 oauth_clients
//	access_tokens_test.go           oauth_access_tokens
//	refresh_tokens_test.go          oauth_refresh_tokens
//	authorization_codes_test.go     oauth_authorization_codes (repositories.AuthCodes)
//	personal_access_tokens_test.go  oauth_personal_access_tokens (repositories.PersonalTokens)
//
// Tests that cut across tables are in files named for what they do:
// schema_test.go (migrations, schema parity, foreign keys), cleanup_test.go
// (purges and their views), secrets_test.go (the scans of every table for
// plaintext secrets, token entropy, exact lookups, and no secret in any
// log), atomicity_test.go (faults injected into multi-step changes, and
// repositories composed WithTx), reliability_test.go (SQLite writers,
// terminated PostgreSQL connections), load_test.go (build tag loadtest) and
// bench_*_test.go. fixture_test.go is the harness: the backends, the fake
// clock, the barrier, the fixture type every test starts from
// (newFixture: a fresh migrated Store opened with its config and clock,
// and the users, clients, codes and grants a test needs) and the helpers
// several files share.
//
// A test that checks a property of SECURITY.md says so in a comment right
// above it ("// SECURITY 9: ..."); the numbers are not part of the names.
//
// PostgreSQL runs use AUTHSTORE_TEST_POSTGRES_URL, each test in a fresh
// schema; without it they skip, unless AUTHSTORE_REQUIRE_POSTGRES=1 makes
// the skip a failure.
package integration
