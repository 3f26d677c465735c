package integration

// Benchmarks of the original design's table (user lookup, user creation,
// session lookup, client validation) on every backend, each beside a raw
// baseline: the same statement through database/sql with mattn/go-sqlite3
// and through pgx, without the ORM, on the same data and indexes.
//
//	AUTHSTORE_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//	    go test -run '^$' -bench . -benchmem ./integration/...

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sync"

	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"
)

const benchUsers = 10000

// benchSecret signs access tokens in benchmarks.
const benchSecret = "benchmark-signing-key-0123456789abcdef"

// benchStore opens a migrated store on backend name and returns it with
// the config used, so raw baselines can open the same database.
func benchStore(b *testing.B, name string) (*authstore.Store, config.Config) {
	b.Helper()
	for _, be := range backends() {
		if be.Name == name {
			cfg := be.Config(b)
			cfg.JWTSecret = benchSecret
			cfg.MaxOpenConns, cfg.MaxIdleConns = 32, 32
			s := openWith(b, cfg, authstore.WithLogger(logger.Discard), authstore.WithMigrate())
			return s, cfg
		}
	}
	b.Fatalf("no backend %q", name)
	return nil, config.Config{}
}

// rawSQLite opens the store's SQLite file through database/sql alone.
func rawSQLite(b *testing.B, cfg config.Config) *sql.DB {
	b.Helper()
	d, err := cfg.Database()
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite3", authstore.SQLiteDSN(d.DSN))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// rawMySQL opens the store's MySQL database through database/sql and
// go-sql-driver/mysql alone, with the settings Open gives it
// (authstore.MySQLDSN; the baseline needs no READ COMMITTED for its
// statements).
func rawMySQL(b *testing.B, cfg config.Config) *sql.DB {
	b.Helper()
	d, err := cfg.Database()
	if err != nil {
		b.Fatal(err)
	}
	dsn, err := authstore.MySQLDSN(d.DSN)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// rawPostgres opens one pgx connection to the store's schema.
func rawPostgres(b *testing.B, cfg config.Config) *pgx.Conn {
	b.Helper()
	conn, err := pgx.Connect(context.Background(), cfg.DatabaseURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// seedUsers inserts n users (without hooks, in batches) and returns their
// emails.
func seedUsers(b *testing.B, s *authstore.Store, n int) []string {
	b.Helper()
	hash, err := hooks.DefaultHasher().Hash("benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	emails := make([]string, n)
	rows := make([]models.User, n)
	now := s.Now()
	for i := range rows {
		emails[i] = fmt.Sprintf("user%05d@example.com", i)
		rows[i] = models.User{ID: models.NewUUID(), Name: "Bench User", Email: emails[i], EmailNormalized: emails[i],
			PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.DB().Session(&gormSkipHooks).CreateInBatches(&rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	return emails
}

// backendsFor lists the sub-benchmarks of a lookup row.
var lookupBackends = []string{"memory", "sqlite", "sqlite-raw", "postgres", "postgres-raw", "mysql", "mysql-raw"}

func BenchmarkUserLookup(b *testing.B) {
	for _, name := range lookupBackends {
		b.Run(name, func(b *testing.B) {
			s, cfg := benchStore(b, strings.TrimSuffix(name, "-raw"))
			emails := seedUsers(b, s, benchUsers)
			ctx := context.Background()
			var lookup func(email string) error
			switch name {
			case "sqlite-raw":
				db := rawSQLite(b, cfg)
				stmt, err := db.Prepare(rawUserQuery("?"))
				if err != nil {
					b.Fatal(err)
				}
				lookup = func(email string) error { return scanRawUser(stmt.QueryRowContext(ctx, email)) }
			case "postgres-raw":
				conn := rawPostgres(b, cfg)
				lookup = func(email string) error { return scanRawUser(conn.QueryRow(ctx, rawUserQuery("$1"), email)) }
			case "mysql-raw":
				stmt, err := rawMySQL(b, cfg).Prepare(rawUserQuery("?"))
				if err != nil {
					b.Fatal(err)
				}
				lookup = func(email string) error { return scanRawUser(stmt.QueryRowContext(ctx, email)) }
			default:
				lookup = func(email string) error { _, err := s.Users.FindByEmail(ctx, email); return err }
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := lookup(emails[(i*7919)%len(emails)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLookupPaths compares ways of reading one user by email through
// GORM on the same store: "statement" is Users.FindByEmail (the statement
// written into GORM's builder, the fields found from GORM's parsed schema
// and scanned directly), "raw" is the same statement through db.Raw (GORM
// scans it for placeholders on every call) scanned the same way, "take" is
// GORM's Where(...).Take. It is the figure behind the hot-path lookup's
// choice (BENCHMARKS.md).
func BenchmarkLookupPaths(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres", "mysql"} {
		for _, path := range []string{"statement", "raw", "take"} {
			b.Run(backend+"/"+path, func(b *testing.B) {
				s, _ := benchStore(b, backend)
				emails := seedUsers(b, s, benchUsers)
				ctx := context.Background()
				var lookup func(email string) error
				switch path {
				case "statement":
					lookup = func(email string) error { _, err := s.Users.FindByEmail(ctx, email); return err }
				case "raw":
					sch, err := schema.Parse(&models.User{}, &sync.Map{}, s.DB().NamingStrategy)
					if err != nil {
						b.Fatal(err)
					}
					q := "SELECT " + strings.Join(sch.DBNames, ", ") + " FROM users WHERE email_normalized = ?"
					lookup = func(email string) error {
						var u models.User
						v := reflect.ValueOf(&u).Elem()
						targets := make([]any, len(sch.DBNames))
						for i, name := range sch.DBNames {
							targets[i] = v.FieldByIndex(sch.FieldsByDBName[name].StructField.Index).Addr().Interface()
						}
						return s.DB().WithContext(ctx).Raw(q, email).Row().Scan(targets...)
					}
				case "take":
					lookup = func(email string) error {
						var u models.User
						return s.DB().WithContext(ctx).Where("email_normalized = ?", email).Take(&u).Error
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := lookup(emails[(i*7919)%len(emails)]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// rawUserQuery is the statement GORM issues for FindByEmail, columns
// spelled out.
func rawUserQuery(param string) string {
	return `SELECT id, name, email, email_normalized, password, email_verified_at, two_factor_secret,
		two_factor_recovery_codes, two_factor_confirmed_at, failed_logins, last_failed_login_at, created_at, updated_at
		FROM users WHERE email_normalized = ` + param + ` LIMIT 1`
}

type rowScanner interface{ Scan(dest ...any) error }

func scanRawUser(row rowScanner) error {
	var u models.User
	return row.Scan(&u.ID, &u.Name, &u.Email, &u.EmailNormalized, &u.PasswordHash, &u.EmailVerifiedAt, &u.TwoFactorSecret,
		&u.TwoFactorRecoveryCodes, &u.TwoFactorConfirmedAt, &u.FailedLogins, &u.LastFailedLoginAt, &u.CreatedAt, &u.UpdatedAt)
}

// BenchmarkUserCreation measures the insert of a user with its
// user.registered activity row in one transaction, the password hashed
// once outside the loop, as the original design measured it.
func BenchmarkUserCreation(b *testing.B) {
	hash, err := hooks.DefaultHasher().Hash("benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range lookupBackends {
		b.Run(name, func(b *testing.B) {
			s, cfg := benchStore(b, strings.TrimSuffix(name, "-raw"))
			ctx := context.Background()
			var n atomic.Int64
			var create func() error
			const insUser = `INSERT INTO users (id, name, email, email_normalized, password, failed_logins, created_at, updated_at) VALUES (%s)`
			const insAct = `INSERT INTO user_activity_log (user_id, event, ip_address, user_agent, metadata, created_at) VALUES (%s)`
			switch name {
			case "sqlite-raw", "mysql-raw":
				db := map[string]func(*testing.B, config.Config) *sql.DB{"sqlite-raw": rawSQLite, "mysql-raw": rawMySQL}[name](b, cfg)
				create = func() error {
					email := fmt.Sprintf("raw%d@example.com", n.Add(1))
					id, now := models.NewUUID(), time.Now().UTC()
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						return err
					}
					defer tx.Rollback()
					if _, err := tx.ExecContext(ctx, fmt.Sprintf(insUser, "?, ?, ?, ?, ?, 0, ?, ?"), id, "Bench", email, email, hash, now, now); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, fmt.Sprintf(insAct, "?, ?, '', '', '{}', ?"), id, "user.registered", now); err != nil {
						return err
					}
					return tx.Commit()
				}
			case "postgres-raw":
				conn := rawPostgres(b, cfg)
				create = func() error {
					email := fmt.Sprintf("raw%d@example.com", n.Add(1))
					id, now := models.NewUUID(), time.Now().UTC()
					tx, err := conn.Begin(ctx)
					if err != nil {
						return err
					}
					defer tx.Rollback(ctx)
					if _, err := tx.Exec(ctx, fmt.Sprintf(insUser, "$1, $2, $3, $4, $5, 0, $6, $7"), string(id), "Bench", email, email, hash, now, now); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, fmt.Sprintf(insAct, "$1, $2, '', '', '{}', $3"), string(id), "user.registered", now); err != nil {
						return err
					}
					return tx.Commit(ctx)
				}
			default:
				create = func() error {
					email := fmt.Sprintf("orm%d@example.com", n.Add(1))
					u := &models.User{Name: "Bench", Email: email, PasswordHash: hash}
					// What Users.Create does after hashing: the user and its
					// user.registered row in one transaction.
					return s.DB().WithContext(ctx).Transaction(func(tx *gorm.DB) error {
						if err := tx.Create(u).Error; err != nil {
							return err
						}
						return tx.Create(&models.Activity{UserID: &u.ID, Event: string(models.EventRegistered), Metadata: "{}"}).Error
					})
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := create(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUserRegistration is Users.Create: validation, the Argon2id hash
// (m=19 MiB, t=2, p=1) and the insert with its activity row.
func BenchmarkUserRegistration(b *testing.B) {
	for _, name := range []string{"memory", "sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s, _ := benchStore(b, name)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				email := fmt.Sprintf("reg%d@example.com", i)
				if _, err := s.Users.Create(ctx, repositories.UserInput{Name: "Bench", Email: email, Password: "benchmark password", PasswordConfirmation: "benchmark password"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedSessions creates one session per seeded user (up to n) and returns
// their tokens.
func seedSessions(b *testing.B, s *authstore.Store, n int) []string {
	b.Helper()
	var ids []models.UUID
	if err := s.DB().Model(&models.User{}).Limit(n).Pluck("id", &ids).Error; err != nil {
		b.Fatal(err)
	}
	now := s.Now()
	tokens := make([]string, len(ids))
	rows := make([]models.Session, len(ids))
	for i, id := range ids {
		tok, err := hooks.NewToken()
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = tok
		rows[i] = models.Session{ID: models.NewUUID(), UserID: id, TokenHash: hooks.Digest(tok), LastActivityAt: now,
			ExpiresAt: now.Add(24 * time.Hour), CreatedAt: now}
	}
	if err := s.DB().Session(&gormSkipHooks).CreateInBatches(&rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	return tokens
}

const rawSessionQuery = `SELECT id, user_id, token_hash, ip_address, user_agent, remember, last_activity_at, expires_at, created_at
	FROM sessions WHERE token_hash = %s LIMIT 1`

// BenchmarkSessionLookup is Sessions.Find: digest, lookup, idle and
// absolute expiry checks; last-activity writes are throttled to one a
// minute, so the loop measures reads.
func BenchmarkSessionLookup(b *testing.B) {
	for _, name := range lookupBackends {
		b.Run(name, func(b *testing.B) {
			s, cfg := benchStore(b, strings.TrimSuffix(name, "-raw"))
			seedUsers(b, s, benchUsers)
			tokens := seedSessions(b, s, benchUsers)
			ctx := context.Background()
			idle := cfg.SessionLifetime
			check := func(sess *models.Session) error {
				now := time.Now()
				if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastActivityAt) > idle {
					return repositories.ErrExpired
				}
				return nil
			}
			var find func(tok string) error
			switch name {
			case "sqlite-raw":
				stmt, err := rawSQLite(b, cfg).Prepare(fmt.Sprintf(rawSessionQuery, "?"))
				if err != nil {
					b.Fatal(err)
				}
				find = func(tok string) error {
					var x models.Session
					if err := stmt.QueryRowContext(ctx, hooks.Digest(tok)).Scan(&x.ID, &x.UserID, &x.TokenHash, &x.IPAddress, &x.UserAgent, &x.Remember, &x.LastActivityAt, &x.ExpiresAt, &x.CreatedAt); err != nil {
						return err
					}
					return check(&x)
				}
			case "mysql-raw":
				stmt, err := rawMySQL(b, cfg).Prepare(fmt.Sprintf(rawSessionQuery, "?"))
				if err != nil {
					b.Fatal(err)
				}
				find = func(tok string) error {
					var x models.Session
					if err := stmt.QueryRowContext(ctx, hooks.Digest(tok)).Scan(&x.ID, &x.UserID, &x.TokenHash, &x.IPAddress, &x.UserAgent, &x.Remember, &x.LastActivityAt, &x.ExpiresAt, &x.CreatedAt); err != nil {
						return err
					}
					return check(&x)
				}
			case "postgres-raw":
				conn := rawPostgres(b, cfg)
				q := fmt.Sprintf(rawSessionQuery, "$1")
				find = func(tok string) error {
					var x models.Session
					if err := conn.QueryRow(ctx, q, hooks.Digest(tok)).Scan(&x.ID, &x.UserID, &x.TokenHash, &x.IPAddress, &x.UserAgent, &x.Remember, &x.LastActivityAt, &x.ExpiresAt, &x.CreatedAt); err != nil {
						return err
					}
					return check(&x)
				}
			default:
				find = func(tok string) error { _, err := s.Sessions.Find(ctx, tok); return err }
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := find(tokens[(i*7919)%len(tokens)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParallelSessionLookup runs Sessions.Find from many goroutines.
func BenchmarkParallelSessionLookup(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres", "mysql"} {
		b.Run(name, func(b *testing.B) {
			s, _ := benchStore(b, name)
			seedUsers(b, s, benchUsers)
			tokens := seedSessions(b, s, benchUsers)
			ctx := context.Background()
			var next atomic.Int64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(7919)
					if _, err := s.Sessions.Find(ctx, tokens[i%int64(len(tokens))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
