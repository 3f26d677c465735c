package authstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"gorm.io/driver/mysql"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// ExampleNew is the README's program: authstore over an application's own
// *gorm.DB.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	cfg, err := config.Load() // lifetimes, JWT_SECRET, ... from the environment
	if err != nil {
		log.Fatal(err)
	}
	db, err := gorm.Open(sqlite.Open(authstore.SQLiteDSN(filepath.Join(dir, "app.db"))), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	// Your *gorm.DB is not modified. WithAutoMigrate builds the tables in
	// development; in production run `authstore migrate up` (or pass
	// authstore.WithMigrate()) and New checks the schema version.
	store, err := authstore.New(db, authstore.WithConfig(cfg), authstore.WithAutoMigrate())
	if err != nil {
		log.Fatal(err)
	}
	pw := "correct horse battery staple"
	user, err := store.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "Ada@example.com", Password: pw, PasswordConfirmation: pw})
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.Users.Authenticate(ctx, "ada@EXAMPLE.com", "wrong password")
	fmt.Println(errors.Is(err, repositories.ErrInvalidCredentials))

	user, err = store.Users.Authenticate(ctx, "ada@example.com", pw)
	if err != nil {
		log.Fatal(err)
	}
	_, token, err := store.Sessions.Create(ctx, user.ID, repositories.SessionInput{Remember: true})
	if err != nil {
		log.Fatal(err)
	}
	session, err := store.Sessions.Find(ctx, token)
	fmt.Println(user.Email, session.UserID == user.ID, err)
	// Output:
	// true
	// Ada@example.com true <nil>
}

// ExampleOpen opens the database named by the environment (DATABASE_URL,
// default sqlite://./authstore.db) and applies the SQL migrations.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	cfg, err := config.LoadFrom(map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(dir, "authstore.db")})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg, authstore.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	n, err := store.Users.Count(ctx)
	fmt.Println(store.DB().Dialector.Name(), n, err)
	// Output: sqlite 0 <nil>
}

// Example_oauth is the README's OAuth2 flow: a confidential client, an
// authorization code with PKCE, its exchange, validation, rotation and the
// reuse of a rotated refresh token.
func Example_oauth() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	cfg, err := config.LoadFrom(map[string]string{
		"DATABASE_URL": "sqlite://" + filepath.Join(dir, "authstore.db"),
		"JWT_SECRET":   "example-signing-key-of-at-least-32-bytes",
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg, authstore.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	pw := "correct horse battery staple"
	user, err := store.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: pw, PasswordConfirmation: pw})
	if err != nil {
		log.Fatal(err)
	}

	client, secret, err := store.Clients.Create(ctx, repositories.ClientInput{
		Name: "Web", RedirectURIs: []string{"https://app.example.com/cb"}, Confidential: true})
	if err != nil {
		log.Fatal(err)
	}
	verifier, _ := protocol.NewVerifier()
	_, code, err := store.AuthCodes.Create(ctx, repositories.AuthCodeInput{ClientID: client.ID, UserID: user.ID,
		RedirectURI: "https://app.example.com/cb", CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: "S256"})
	if err != nil {
		log.Fatal(err)
	}
	// The token endpoint: authenticate the client, then exchange.
	authed, err := store.Clients.Authenticate(ctx, client.ID, secret)
	if err != nil {
		log.Fatal(err)
	}
	pair, err := store.AuthCodes.Exchange(ctx, authed, code, "https://app.example.com/cb", verifier)
	if err != nil {
		log.Fatal(err)
	}
	claims, err := store.AccessTokens.Validate(ctx, pair.AccessToken)
	fmt.Println(claims.Subject == user.ID.String(), err)

	next, err := store.RefreshTokens.Rotate(ctx, authed, pair.RefreshToken, nil)
	fmt.Println(next.RefreshToken != pair.RefreshToken, err)
	_, err = store.RefreshTokens.Rotate(ctx, authed, pair.RefreshToken, nil)
	fmt.Println(errors.Is(err, repositories.ErrReused))
	_, err = store.AccessTokens.Validate(ctx, next.AccessToken)
	fmt.Println(errors.Is(err, repositories.ErrRevoked))

	_, err = store.Clients.ValidateCredentials(ctx, client.ID, secret)
	fmt.Println(err)
	// Output:
	// true <nil>
	// true <nil>
	// true
	// true
	// <nil>
}

// Example_tokenEndpoint is the core of a token endpoint on authstore: the
// client is authenticated first and every grant takes what that returned;
// then refresh, introspection (RFC 7662) and revocation (RFC 7009).
func Example_tokenEndpoint() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	cfg, err := config.LoadFrom(map[string]string{
		"DATABASE_URL": "sqlite://" + filepath.Join(dir, "authstore.db"),
		"JWT_SECRET":   "example-signing-key-of-at-least-32-bytes",
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg, authstore.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	pw := "correct horse battery staple"
	user, err := store.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: pw, PasswordConfirmation: pw})
	if err != nil {
		log.Fatal(err)
	}
	// A public client (a native app): no secret, PKCE.
	app, _, err := store.Clients.Create(ctx, repositories.ClientInput{Name: "App", RedirectURIs: []string{"com.example.app:/cb"}})
	if err != nil {
		log.Fatal(err)
	}
	verifier, _ := protocol.NewVerifier()
	_, code, err := store.AuthCodes.Create(ctx, repositories.AuthCodeInput{ClientID: app.ID, UserID: user.ID, RedirectURI: "com.example.app:/cb",
		Scopes: []string{"read", "write"}, CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: protocol.PKCEMethodS256})
	if err != nil {
		log.Fatal(err)
	}

	// POST /token grant_type=authorization_code
	client, err := store.Clients.Authenticate(ctx, app.ID, "") // a public client: its id alone
	if err != nil {
		log.Fatal(err) // answer invalid_client
	}
	pair, err := store.AuthCodes.Exchange(ctx, client, code, "com.example.app:/cb", verifier)
	fmt.Println(pair.TokenType, pair.Scopes, err)

	// POST /token grant_type=refresh_token scope=read: a narrower access
	// token; the grant keeps read and write.
	next, err := store.RefreshTokens.Rotate(ctx, client, pair.RefreshToken, []string{"read"})
	fmt.Println(next.Scopes, err)

	// POST /introspect
	info, err := store.Tokens.Introspect(ctx, client, next.AccessToken)
	fmt.Println(info.Active, info.TokenType, info.Scope, info.SubjectType, err)

	// POST /revoke token=<refresh token>: the grant's tokens are revoked.
	err = store.Tokens.Revoke(ctx, client, next.RefreshToken, repositories.TokenTypeRefresh)
	info, _ = store.Tokens.Introspect(ctx, client, next.AccessToken)
	fmt.Println(err, info.Active)

	// A grant the client did not register, and a client that did not
	// authenticate, are refused.
	_, _, err = store.AccessTokens.IssueClientCredentials(ctx, client, nil)
	fmt.Println(errors.Is(err, repositories.ErrUnauthorizedClient))
	_, err = store.RefreshTokens.Rotate(ctx, repositories.AuthenticatedClient{}, next.RefreshToken, nil)
	fmt.Println(errors.Is(err, repositories.ErrInvalidCredentials))
	// Output:
	// Bearer [read write] <nil>
	// [read] <nil>
	// true access_token read user <nil>
	// <nil> false
	// true
	// true
}

// ExampleSlogLogger sends the Store's GORM log to log/slog: warnings,
// errors and slow statements, SQL with placeholders only, and no line for
// an expected outcome such as a duplicate email.
func ExampleSlogLogger() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := gorm.Open(sqlite.Open(authstore.SQLiteDSN(filepath.Join(dir, "app.db"))), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.New(db, authstore.WithLogger(authstore.SlogLogger(slog.Default())), authstore.WithAutoMigrate())
	if err != nil {
		log.Fatal(err)
	}
	pw := "correct horse battery staple"
	in := repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: pw, PasswordConfirmation: pw}
	_, _ = store.Users.Create(ctx, in)
	_, err = store.Users.Create(ctx, in) // logged nowhere: the caller's answer
	fmt.Println(errors.Is(err, repositories.ErrDuplicate))
	// Output: true
}

// Example_besideYourTables adopts authstore in an application that already
// has a users table of its own: with a table prefix, authstore's tables,
// views, indexes and version table sit beside the application's, and an
// application table may reference authstore's users by a foreign key.
func Example_besideYourTables() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := gorm.Open(sqlite.Open(authstore.SQLiteDSN(filepath.Join(dir, "app.db"))), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE users (id integer PRIMARY KEY, nickname text)").Error; err != nil { // the application's own
		log.Fatal(err)
	}

	cfg, err := config.LoadFrom(map[string]string{"AUTHSTORE_TABLE_PREFIX": "auth_"}) // or AUTHSTORE_TABLE_PREFIX=auth_ with config.Load()
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.New(db, authstore.WithConfig(cfg), authstore.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	pw := "correct horse battery staple"
	ada, err := store.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: pw, PasswordConfirmation: pw})
	if err != nil {
		log.Fatal(err)
	}
	// An application table that references authstore's users.
	if err := db.Exec("CREATE TABLE profiles (auth_user_id text PRIMARY KEY REFERENCES auth_users (id) ON DELETE CASCADE, bio text)").Error; err != nil {
		log.Fatal(err)
	}
	if err := db.Exec("INSERT INTO profiles VALUES (?, 'first programmer')", ada.ID).Error; err != nil {
		log.Fatal(err)
	}

	var tables []string
	db.Raw("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name LIKE 'auth%' ORDER BY name").Scan(&tables)
	fmt.Println(tables)
	st, err := store.MigrationStatus(ctx)
	fmt.Println(st.VersionTable, st.Version == st.Latest(), err)
	// Output:
	// [auth_authstore_schema_migrations auth_email_verifications auth_expired_auth_records auth_oauth_access_tokens auth_oauth_auth_requests auth_oauth_authorization_codes auth_oauth_clients auth_oauth_expired_tokens auth_oauth_personal_access_tokens auth_oauth_refresh_tokens auth_password_resets auth_recovery_codes auth_sessions auth_signing_keys auth_two_factor_challenges auth_two_factor_used_steps auth_user_activity_log auth_users]
	// auth_authstore_schema_migrations true <nil>
}

// ExampleMySQLConnector opens a host's MySQL or MariaDB handle with the
// settings authstore relies on, which New checks. (It needs a server, so
// it is compiled, not run.)
func ExampleMySQLConnector() {
	c, err := authstore.MySQLConnector("app:secret@tcp(127.0.0.1:3306)/app")
	if err != nil {
		log.Fatal(err)
	}
	db, err := gorm.Open(mysql.New(mysql.Config{Conn: sql.OpenDB(c)}), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.New(db, authstore.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(store.DB().Dialector.Name())
}

// Order is a table of the host application's own, for Example_withTx.
type Order struct {
	ID     int
	UserID int
	Total  int
}

// Example_withTx registers a user in a transaction of the application's
// own: WithTx runs the repository on the transaction's connection, so the
// application's rows and authstore's commit or roll back together.
func Example_withTx() {
	dir, _ := os.MkdirTemp("", "authstore-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := gorm.Open(sqlite.Open(authstore.SQLiteDSN(filepath.Join(dir, "app.db"))), &gorm.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := db.AutoMigrate(&Order{}); err != nil {
		log.Fatal(err)
	}
	store, err := authstore.New(db, authstore.WithMigrate())
	if err != nil {
		log.Fatal(err)
	}
	pw := "correct horse battery staple"
	outOfStock := errors.New("out of stock")

	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&Order{UserID: 1, Total: 42}).Error; err != nil {
			return err
		}
		_, err := store.Users.WithTx(tx).Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com",
			Password: pw, PasswordConfirmation: pw}) // hash first, then the rows and the activity row in tx
		if err != nil {
			return err // an error rolls back the order and the account
		}
		return outOfStock // so does the application's own
	})
	var orders int64
	db.Model(&Order{}).Count(&orders)
	_, findErr := store.Users.FindByEmail(ctx, "ada@example.com")
	fmt.Println(errors.Is(err, outOfStock), orders, errors.Is(findErr, repositories.ErrNotFound))

	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&Order{UserID: 1, Total: 42}).Error; err != nil {
			return err
		}
		_, err := store.Users.WithTx(tx).Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com",
			Password: pw, PasswordConfirmation: pw})
		return err
	})
	db.Model(&Order{}).Count(&orders)
	ada, findErr := store.Users.FindByEmail(ctx, "ada@example.com")
	fmt.Println(err, orders, ada.Name, findErr)
	// Output:
	// true 0 true
	// <nil> 1 Ada <nil>
}
