package integration

// SECURITY.md 1–6 for the authentication tables: secrets at rest, token
// entropy, exact token lookup, Argon2id password storage, rehashing and
// password length.

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// TestNoPlaintextSecretAtRest proves SECURITY 1 for the authentication
// tables: after a password, a session, a completed and an outstanding
// reset and an email verification are issued, no column of any table holds
// a raw secret.
func TestNoPlaintextSecretAtRest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		const first, second = "first secret passphrase", "second secret passphrase"
		u := authRegister(t, s.Users, "rest@example.com", first)
		_, session, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{Remember: true})
		require.NoError(t, err)
		usedReset := authRequestReset(t, s.PasswordResets, u.Email)
		_, err = s.PasswordResets.Reset(ctx, usedReset, second, second)
		require.NoError(t, err)
		_, session2, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)
		openReset := authRequestReset(t, s.PasswordResets, u.Email)
		verification, _, err := s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)

		t.Run("OK", func(t *testing.T) {
			secrets := map[string]string{
				"first password": first, "second password": second, "session token": session,
				"second session token": session2, "used reset token": usedReset,
				"outstanding reset token": openReset, "verification token": verification,
			}
			found, columns := scanForSecrets(t, s.DB, secrets)
			require.Empty(t, found, "plaintext secrets at rest")
			require.Greater(t, columns, 60, "scanned only %d columns", columns)
		})

		// The scan finds what is there: the digests of the live tokens and
		// the address.
		t.Run("ScanFindsStoredValues", func(t *testing.T) {
			found, _ := scanForSecrets(t, s.DB, map[string]string{
				"session digest": hooks.Digest(session2), "reset digest": hooks.Digest(openReset),
				"verification digest": hooks.Digest(verification), "email": "rest@example.com",
			})
			require.Contains(t, found, "session digest in sessions.token_hash")
			require.Contains(t, found, "reset digest in password_resets.token_hash")
			require.Contains(t, found, "verification digest in email_verifications.token_hash")
			require.Contains(t, found, "email in users.email")
		})
	})
}

var authTokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// TestTokenEntropy proves SECURITY 2 as far as the repositories go: session,
// reset and verification tokens are 43 base64url characters carrying 32
// random bytes (hooks.NewToken), distinct, and stored as their digest. The
// failing random source is covered by package hooks' tests.
func TestTokenEntropy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "entropy@example.com")
		const n = 40
		seen := map[string]bool{}
		check := func(kind, tok string) {
			require.Regexp(t, authTokenRE, tok, "%s token %q: want 43 base64url characters", kind, tok)
			raw, err := base64.RawURLEncoding.DecodeString(tok)
			require.NoError(t, err)
			require.Len(t, raw, hooks.TokenBytes, "%s token carries %d bytes; want %d", kind, len(raw), hooks.TokenBytes)
			require.False(t, seen[tok], "%s token %q issued twice", kind, tok)
			seen[tok] = true
		}

		t.Run("OK", func(t *testing.T) {
			for i := 0; i < n; i++ {
				sess, tok, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
				require.NoError(t, err)
				check("session", tok)
				require.Equal(t, hooks.Digest(tok), sess.TokenHash)
				check("reset", authRequestReset(t, s.PasswordResets, u.Email))
				vtok, _, err := s.EmailVerifications.Issue(ctx, u.ID)
				require.NoError(t, err)
				check("verification", vtok)
			}
			require.Len(t, seen, 3*n)
			var digests []string
			require.NoError(t, s.DB.Raw("SELECT token_hash FROM sessions UNION ALL SELECT token_hash FROM email_verifications").Scan(&digests).Error)
			require.Len(t, digests, 2*n)
			for _, d := range digests {
				require.Regexp(t, `^[0-9a-f]{64}$`, d, "stored token_hash %q is not a SHA-256 hex digest", d)
			}
		})
	})
}

// TestNearMissTokensNotFound proves SECURITY 3: a session, reset or
// verification token that differs by one character, or in case, is not
// found, and the lookups leave the real token usable.
func TestNearMissTokensNotFound(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		u := authInsertUser(t, s, "near-miss@example.com")
		_, session, err := s.Sessions.Create(ctx, u.ID, repositories.NewSession{})
		require.NoError(t, err)
		reset := authRequestReset(t, s.PasswordResets, u.Email)
		verification, _, err := s.EmailVerifications.Issue(ctx, u.ID)
		require.NoError(t, err)

		t.Run("ErrNotFound", func(t *testing.T) {
			for name, m := range tokenMutations(session) {
				_, err := s.Sessions.Find(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Sessions.Find(session token, %s) = %v; want ErrNotFound", name, err)
				err = s.Sessions.Delete(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "Sessions.Delete(session token, %s) = %v; want ErrNotFound", name, err)
			}
			for name, m := range tokenMutations(reset) {
				_, err := s.PasswordResets.Consume(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "PasswordResets.Consume(reset token, %s) = %v; want ErrNotFound", name, err)
			}
			m := tokenMutations(reset)["upper case"]
			_, err := s.PasswordResets.Reset(ctx, m, "another passphrase", "another passphrase")
			require.ErrorIs(t, err, repositories.ErrNotFound, "PasswordResets.Reset(upper-cased token) = %v; want ErrNotFound", err)
			for name, m := range tokenMutations(verification) {
				_, err := s.EmailVerifications.Consume(ctx, m)
				require.ErrorIs(t, err, repositories.ErrNotFound, "EmailVerifications.Consume(verification token, %s) = %v; want ErrNotFound", name, err)
			}
		})

		t.Run("OK", func(t *testing.T) {
			_, err := s.Sessions.Find(ctx, session)
			require.NoError(t, err, "Sessions.Find(real token) after near misses")
			_, err = s.PasswordResets.Consume(ctx, reset)
			require.NoError(t, err, "PasswordResets.Consume(real token) after near misses")
			_, err = s.EmailVerifications.Consume(ctx, verification)
			require.NoError(t, err, "EmailVerifications.Consume(real token) after near misses")
		})
	})
}

var authPHCRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$`)

// TestPasswordHashArgon2id proves SECURITY 4: users.password is an Argon2id
// PHC string at or above OWASP's floor, with a salt of at least 16 bytes,
// and two equal passwords hash differently.
func TestPasswordHashArgon2id(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		a := authRegister(t, s.Users, "same-a@example.com", authPassword)
		c := authRegister(t, s.Users, "same-b@example.com", authPassword)

		t.Run("OK", func(t *testing.T) {
			var hashes []string
			for _, u := range []*models.User{a, c} {
				stored := authStoredHash(t, s.DB, u.ID)
				require.Regexp(t, authPHCRE, stored, "users.password = %q; want an Argon2id PHC string", stored)
				p, err := hooks.ParseArgon2id(stored)
				require.NoError(t, err, "ParseArgon2id(users.password) = %v", err)
				require.NoError(t, p.Validate(), "users.password parameters %+v are below OWASP's floor", p)
				require.GreaterOrEqual(t, p.SaltLength, uint32(16), "salt is %d bytes; want >= 16", p.SaltLength)
				require.GreaterOrEqual(t, p.Memory, hooks.DefaultParams().Memory, "memory %d KiB; want >= 19 MiB at t=2", p.Memory)
				require.GreaterOrEqual(t, p.Iterations, hooks.DefaultParams().Iterations)
				hashes = append(hashes, stored)
			}
			require.NotEqual(t, hashes[0], hashes[1], "two equal passwords have the same hash")
			ok, err := hooks.DefaultHasher().Verify(hashes[1], authPassword)
			require.NoError(t, err)
			require.True(t, ok, "the stored hash does not verify its password")
		})
	})
}

// authWeakHasher is valid (OWASP's 12 MiB / t=3 row) but differs from the
// default parameters, so a default Hasher wants to rehash its output.
func authWeakHasher(t *testing.T) *hooks.Hasher {
	t.Helper()
	h, err := hooks.NewHasher(hooks.Params{Memory: 12 * 1024, Iterations: 3, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	require.NoError(t, err)
	return h
}

// TestRehashOnLogin proves SECURITY 5: a stale hash (weaker parameters, or
// an imported bcrypt hash) is upgraded to the current Argon2id parameters on
// the next successful login and only then; a wrong password leaves the
// stored hash byte-identical; a stored hash asking for 4 GiB is refused
// quickly and without allocating.
func TestRehashOnLogin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		weak := authWeakHasher(t)
		s := openMigrated(t, b, authstore.WithHasher(weak))
		current := repositories.NewUsers(s.DB, repositories.Options{Config: s.Config}) // default parameters
		ctx := requestCtx()
		def := hooks.DefaultParams()

		t.Run("WeakArgon2idUpgraded", func(t *testing.T) {
			u := authRegister(t, s.Users, "weak@example.com", authPassword)
			old := authStoredHash(t, s.DB, u.ID)
			p, err := hooks.ParseArgon2id(old)
			require.NoError(t, err)
			require.Equal(t, weak.Params(), p, "the store WithHasher did not hash with its parameters")

			_, err = current.Authenticate(ctx, u.Email, authPassword+"x")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			require.Equal(t, old, authStoredHash(t, s.DB, u.ID), "a wrong password changed the stored hash")

			got, err := current.Authenticate(ctx, u.Email, authPassword)
			require.NoError(t, err, "Authenticate(right password) = %v; want nil", err)
			upgraded := authStoredHash(t, s.DB, u.ID)
			require.NotEqual(t, old, upgraded, "a stale hash was not upgraded on a successful login")
			require.Equal(t, upgraded, got.PasswordHash)
			p, err = hooks.ParseArgon2id(upgraded)
			require.NoError(t, err)
			require.Equal(t, def, p, "upgraded hash parameters")
			ok, err := hooks.DefaultHasher().Verify(upgraded, authPassword)
			require.NoError(t, err)
			require.True(t, ok, "the upgraded hash does not verify the password")

			_, err = current.Authenticate(ctx, u.Email, authPassword)
			require.NoError(t, err)
			require.Equal(t, upgraded, authStoredHash(t, s.DB, u.ID), "a current hash was rehashed")
		})

		t.Run("BcryptUpgraded", func(t *testing.T) {
			u := authInsertUser(t, s, "bcrypt@example.com")
			const pw = "imported from php"
			raw, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
			require.NoError(t, err)
			imported := "$2y$" + string(raw[4:])
			require.NoError(t, s.DB.Exec("UPDATE users SET password = ? WHERE id = ?", imported, u.ID).Error)

			_, err = current.Authenticate(ctx, u.Email, pw+"x")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			require.Equal(t, imported, authStoredHash(t, s.DB, u.ID), "a wrong password changed the imported hash")

			_, err = current.Authenticate(ctx, u.Email, pw)
			require.NoError(t, err, "Authenticate(bcrypt user, right password) = %v; want nil", err)
			upgraded := authStoredHash(t, s.DB, u.ID)
			p, err := hooks.ParseArgon2id(upgraded)
			require.NoError(t, err, "users.password after login = %q; want Argon2id", upgraded)
			require.Equal(t, def, p)
			_, err = current.Authenticate(ctx, u.Email, pw)
			require.NoError(t, err, "login after the upgrade")
		})

		t.Run("HostileParamsRefused", func(t *testing.T) {
			u := authInsertUser(t, s, "hostile@example.com")
			salt := base64.RawStdEncoding.EncodeToString(make([]byte, 16))
			key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
			hostile := "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key // 4 GiB
			require.NoError(t, s.DB.Exec("UPDATE users SET password = ? WHERE id = ?", hostile, u.ID).Error)
			var err error
			var took time.Duration
			alloc := allocatedBytes(func() {
				start := time.Now()
				_, err = current.Authenticate(ctx, u.Email, authPassword)
				took = time.Since(start)
			})
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(4 GiB hash) = %v; want ErrInvalidCredentials", err)
			require.Less(t, alloc, uint64(4<<20), "Authenticate(4 GiB hash) allocated %d bytes; want no hashing", alloc)
			require.Less(t, took, 2*time.Second, "Authenticate(4 GiB hash) took %v", took)
			require.Equal(t, hostile, authStoredHash(t, s.DB, u.ID))
		})
	})
}

// TestPasswordNotTruncated proves SECURITY 6: every byte of a long password
// counts, and a password over hooks.MaxPasswordLength is refused with
// ErrInvalidInput before any hashing.
func TestPasswordNotTruncated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openMigrated(t, b)
		ctx := requestCtx()
		long := strings.Repeat("0123456789", 10) // 100 bytes
		changed := long[:99] + "X"

		t.Run("OK", func(t *testing.T) {
			u := authRegister(t, s.Users, "long@example.com", long)
			for _, wrong := range []string{changed, long[:72], long[:99]} {
				_, err := s.Users.Authenticate(ctx, u.Email, wrong)
				require.ErrorIs(t, err, repositories.ErrInvalidCredentials, "Authenticate(%d-byte near match) = %v; want ErrInvalidCredentials", len(wrong), err)
			}
			_, err := s.Users.Authenticate(ctx, u.Email, long)
			require.NoError(t, err)

			max := strings.Repeat("m", hooks.MaxPasswordLength)
			m := authRegister(t, s.Users, "max@example.com", max)
			ok, err := hooks.DefaultHasher().Verify(authStoredHash(t, s.DB, m.ID), max[:hooks.MaxPasswordLength-1]+"n")
			require.NoError(t, err)
			require.False(t, ok, "a password differing in its last byte of %d verifies", hooks.MaxPasswordLength)
		})

		t.Run("ErrInvalidInput", func(t *testing.T) {
			u := authInsertUser(t, s, "too-long@example.com")
			token := authRequestReset(t, s.PasswordResets, u.Email)
			tooLong := strings.Repeat("x", hooks.MaxPasswordLength+1)
			before := snapshotTables(t, s.DB)
			calls := map[string]func() error{
				"Users.Create": func() error {
					_, err := s.Users.Create(ctx, repositories.NewUser{Name: "Ada", Email: "new@example.com", Password: tooLong, PasswordConfirmation: tooLong})
					return err
				},
				"Users.ChangePassword": func() error {
					return s.Users.ChangePassword(ctx, u.ID, authPassword, tooLong, tooLong, "")
				},
				"PasswordResets.Reset": func() error {
					_, err := s.PasswordResets.Reset(ctx, token, tooLong, tooLong)
					return err
				},
			}
			for name, call := range calls {
				var err error
				alloc := allocatedBytes(func() { err = call() })
				require.ErrorIs(t, err, repositories.ErrInvalidInput, "%s(%d-byte password) = %v; want ErrInvalidInput", name, len(tooLong), err)
				require.Less(t, alloc, uint64(4<<20), "%s(%d-byte password) allocated %d bytes: it hashed before refusing", name, len(tooLong), alloc)
			}
			require.Equal(t, before, snapshotTables(t, s.DB))

			// The hook refuses it too, for host code writing users itself.
			err := s.DB.WithContext(ctx).Create(&models.User{Name: "Ada", Email: "hook@example.com", Password: tooLong}).Error
			require.ErrorIs(t, err, hooks.ErrPasswordTooLong, "db.Create(user with %d-byte password) = %v; want ErrPasswordTooLong", len(tooLong), err)
			require.Equal(t, before, snapshotTables(t, s.DB))
		})
	})
}
