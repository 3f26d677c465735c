// Package integration holds authstore's contract suite: every behaviour is
// tested through one shared suite against each backend (a SQLite file, the
// in-memory SQLite database, and PostgreSQL), with concurrency, fault and
// schema-parity tests and the benchmarks. It has no non-test code.
//
// PostgreSQL runs use AUTHSTORE_TEST_POSTGRES_URL, each test in a fresh
// schema; without it they skip, unless AUTHSTORE_REQUIRE_POSTGRES=1 makes
// the skip a failure.
package integration
