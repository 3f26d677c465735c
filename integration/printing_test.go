package integration

// Issue 11, class 1: printing a value never shows a secret. A real Store
// on every backend (its configuration holding a known JWT secret and, on
// PostgreSQL, a DATABASE_URL with a known password) issues one of every
// secret the library makes; then a value of every exported type of every
// package of the module, holding those secrets where the type can, is
// printed with every verb, marshalled to JSON and logged with slog, and
// none of the secrets, their hashes or digests, or the hex and base64
// encodings of any of them may appear. TestHardeningPrintingCoversEveryType
// keeps the list of types complete.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/internal/dberr"
	"github.com/forgeauth/authstore/internal/demo"
	"github.com/forgeauth/authstore/migrations"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/protocol"
	oidcprovider "github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

const (
	// printingJWTSecret is the JWT secret of the printing test's Store.
	printingJWTSecret = "printing-test-jwt-secret-Zq7xW2vK9mB4nR8t"
	// printingDBPassword is the password in the PostgreSQL DATABASE_URL;
	// the test server's trust authentication ignores it.
	printingDBPassword = "hunter2"
	// printingPassword is the password of the printing test's user.
	printingPassword = "printing test password 4f9a1c"
	// printingEncryptionKey is the master encryption key (32 bytes) and
	// printingPreviousKey a previous one.
	printingEncryptionKey = "printing-test-master-key-32bytes"
	printingRecoveryKey   = "printing-test-recovery-key-32byt"
	printingPreviousKey   = "printing-test-previous-key-32byt"
)

// printingVerbs are the verbs every value is printed with: those fmt hands
// to String (v, s, q, x, X), GoString (#v) and those it would otherwise
// answer by walking the fields (d, t, o, U, and flags and widths). %p of a
// value that is not a pointer and %w outside fmt.Errorf are left out: fmt
// answers them without consulting any method (package internal/redact),
// and go vet reports both.
var printingVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%t", "%o", "%12.40v", "%-+#20s", "%U"}

// printedWorld is every value TestHardeningPrinting prints, by type name
// ("models.User"), and the secrets none of them may show.
type printedWorld struct {
	samples map[string][]any
	secrets map[string]string // what it is -> the secret
}

// printingPasswordURL returns raw, a postgres:// URL, with password set
// in its user info.
func printingPasswordURL(t *testing.T, raw, password string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	user := "postgres"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// newPrintedWorld opens a Store on b and makes, through the library, a
// user, a confidential client, a session, a reset, a verification, a code
// exchanged for a token pair, a rotation, a client-credentials token and a
// personal token; the models carry their plaintext (as host code holding
// one before a save would) beside their hash or digest.
func newPrintedWorld(t *testing.T, b Backend) printedWorld {
	t.Helper()
	ctx := requestCtx()
	cfg := b.Config(t)
	if b.Dialect == config.DialectPostgres {
		cfg.DatabaseURL = printingPasswordURL(t, cfg.DatabaseURL, printingDBPassword)
	}
	cfg.JWTSecret = printingJWTSecret
	cfg.EncryptionKey = config.Secret(base64.StdEncoding.EncodeToString([]byte(printingEncryptionKey)))
	cfg.EncryptionKeysPrevious = config.Secret(base64.StdEncoding.EncodeToString([]byte(printingPreviousKey)))
	cfg.EnableTwoFactor = true
	cfg.RecoveryKey = config.Secret(base64.StdEncoding.EncodeToString([]byte(printingRecoveryKey)))
	s := openWith(t, cfg, authstore.WithMigrate())

	w := printedWorld{samples: map[string][]any{}, secrets: map[string]string{
		"JWT secret": printingJWTSecret, "user password": printingPassword,
		"master encryption key": printingEncryptionKey, "previous master key": printingPreviousKey,
		"recovery key": printingRecoveryKey,
	}}
	if b.Dialect == config.DialectPostgres {
		w.secrets["database password"] = printingDBPassword
	}
	add := func(name string, v ...any) { w.samples[name] = append(w.samples[name], v...) }
	provider, err := envelope.FromConfig(cfg)
	require.NoError(t, err)
	secret := func(what, v string) {
		require.NotEmpty(t, v, "secret %s is empty", what)
		w.secrets[what] = v
	}

	// Users and their password hash.
	created, err := s.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: printingPassword, PasswordConfirmation: printingPassword})
	require.NoError(t, err)
	user, err := s.Users.FindByEmail(ctx, "ada@example.com")
	require.NoError(t, err)
	secret("password hash", user.PasswordHash)
	twoFactor, recovery := "JBSWY3DPEHPK3PXPJBSWY3DP", "recovery-code-1 recovery-code-2"
	secret("two-factor secret", twoFactor)
	secret("recovery codes", recovery)
	withPlain := *user
	withPlain.Password = printingPassword
	withPlain.TwoFactorSecret, withPlain.TwoFactorRecoveryCodes = &twoFactor, &recovery

	// A confidential client and its secret.
	client, clientSecret, err := s.Clients.Create(ctx, repositories.ClientInput{
		Name: "Server app", RedirectURIs: []string{redirectURI}, Confidential: true, UserID: &user.ID,
		GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken, protocol.GrantClientCredentials},
	})
	require.NoError(t, err)
	secret("client secret", clientSecret)
	client, err = s.Clients.Find(ctx, client.ID)
	require.NoError(t, err)
	secret("client secret hash", *client.SecretHash)
	clientPlain := *client
	clientPlain.Secret, clientPlain.User = clientSecret, &withPlain
	authedClient, err := s.Clients.Authenticate(ctx, client.ID, clientSecret)
	require.NoError(t, err)

	// A session.
	session, sessionToken, err := s.Sessions.Create(ctx, user.ID, repositories.SessionInput{})
	require.NoError(t, err)
	secret("session token", sessionToken)
	secret("session digest", session.TokenHash)
	sessionPlain := *session
	sessionPlain.Token, sessionPlain.User = sessionToken, &withPlain

	// A password reset and an email verification.
	var resetToken string
	require.NoError(t, s.PasswordResets.Request(ctx, user.Email, func(_ context.Context, _, tok string) error {
		resetToken = tok
		return nil
	}))
	secret("reset token", resetToken)
	secret("reset digest", hooks.Digest(resetToken))
	var reset models.PasswordReset
	require.NoError(t, s.DB().Where("user_id = ?", user.ID).Take(&reset).Error)
	reset.Token, reset.User = resetToken, &withPlain
	verification, verificationToken, err := s.EmailVerifications.Issue(ctx, user.ID)
	require.NoError(t, err)
	secret("verification token", verificationToken)
	secret("verification digest", verification.TokenHash)
	verificationPlain := *verification
	verificationPlain.Token, verificationPlain.User = verificationToken, &withPlain

	// A code, exchanged; a rotation; a client-credentials token.
	verifier, err := protocol.NewVerifier()
	require.NoError(t, err)
	codeInput := repositories.AuthCodeInput{ClientID: client.ID, UserID: user.ID, RedirectURI: redirectURI,
		CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: protocol.PKCEMethodS256}
	code, codeText, err := s.AuthCodes.Create(ctx, codeInput)
	require.NoError(t, err)
	secret("code", codeText)
	secret("code digest", code.CodeHash)
	codePlain := *code
	codePlain.Code, codePlain.Client, codePlain.User = codeText, &clientPlain, &withPlain
	pair, err := s.AuthCodes.Exchange(ctx, authedClient, codeText, redirectURI, verifier)
	require.NoError(t, err)
	secret("access token", pair.AccessToken)
	secret("access token signature", pair.AccessToken[strings.LastIndexByte(pair.AccessToken, '.')+1:])
	secret("refresh token", pair.RefreshToken)
	secret("refresh digest", hooks.Digest(pair.RefreshToken))
	rotated, err := s.RefreshTokens.Rotate(ctx, authedClient, pair.RefreshToken, nil)
	require.NoError(t, err)
	secret("rotated access token", rotated.AccessToken)
	secret("rotated refresh token", rotated.RefreshToken)
	secret("rotated refresh digest", hooks.Digest(rotated.RefreshToken))
	var refresh models.RefreshToken
	require.NoError(t, s.DB().Where("id = ?", rotated.RefreshTokenID).Take(&refresh).Error)
	refresh.Token, refresh.Client, refresh.User = rotated.RefreshToken, &clientPlain, &withPlain
	ccRow, ccToken, err := s.AccessTokens.IssueClientCredentials(ctx, authedClient, nil)
	require.NoError(t, err)
	secret("client-credentials token", ccToken)
	var access models.AccessToken
	require.NoError(t, s.DB().Where("id = ?", rotated.AccessTokenID).Take(&access).Error)
	access.Client, access.User = &clientPlain, &withPlain
	refresh.AccessToken = &access
	claims, err := s.AccessTokens.Validate(ctx, rotated.AccessToken)
	require.NoError(t, err)
	introspection, err := s.Tokens.Introspect(ctx, authedClient, rotated.AccessToken)
	require.NoError(t, err)
	require.True(t, introspection.Active)
	inspection, err := s.Tokens.Inspect(ctx, rotated.RefreshToken)
	require.NoError(t, err)

	// A signing key (made after the HS256 tokens above, so that both modes
	// are printed), its private key decrypted as only the master key's
	// holder can, and an RS256 token.
	signingKey, err := s.Keys.Rotate(ctx, repositories.RotateOptions{})
	require.NoError(t, err)
	var keyRow models.SigningKey
	require.NoError(t, s.DB().Where("id = ?", signingKey.ID).Take(&keyRow).Error)
	der, err := envelope.Open(ctx, provider, keyRow.PrivateKey, envelope.Binding{Table: "signing_keys", Column: "private_key", Row: string(keyRow.ID)})
	require.NoError(t, err)
	secret("private signing key (PKCS #8 DER)", string(der))
	secret("sealed private signing key", keyRow.PrivateKey)
	_, rsToken, err := s.AccessTokens.IssueClientCredentials(ctx, authedClient, nil)
	require.NoError(t, err)
	secret("RS256 access token", rsToken)
	rsClaims, err := s.AccessTokens.Validate(ctx, rsToken)
	require.NoError(t, err)
	jwks, err := s.Keys.JWKS(ctx)
	require.NoError(t, err)
	reencrypted, err := s.Keys.Reencrypt(ctx, repositories.ReencryptOptions{DryRun: true})
	require.NoError(t, err)
	rsHeader, err := protocol.PeekHeader(rsToken)
	require.NoError(t, err)

	// The provider adapter: an authorization request, completed, its code
	// saved, redeemed and its tokens issued.
	oidcStorage, err := oidcstore.New(s)
	require.NoError(t, err)
	cryptoKey, err := oidcStorage.CryptoKey()
	require.NoError(t, err)
	secret("provider crypto key", string(cryptoKey[:]))
	requestInput := repositories.AuthRequestInput{ClientID: client.ID, RedirectURI: redirectURI, Scopes: []string{"openid", "offline_access"},
		ResponseType: repositories.ResponseTypeCode, State: "state", Nonce: "nonce",
		CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: protocol.PKCEMethodS256}
	authRequest, err := s.AuthRequests.Create(ctx, requestInput)
	require.NoError(t, err)
	require.NoError(t, s.AuthRequests.Complete(ctx, authRequest.ID, user.ID, s.Now(), []string{"pwd"}))
	providerCode := "provider-code-" + string(authRequest.ID)
	secret("provider code", providerCode)
	secret("provider code digest", hooks.Digest(providerCode))
	require.NoError(t, s.AuthRequests.SaveCode(ctx, authRequest.ID, providerCode))
	redeemed, providerPair, err := s.AuthRequests.Redeem(ctx, providerCode)
	require.NoError(t, err)
	secret("provider refresh token", providerPair.RefreshToken)
	oidcRequest, err := oidcStorage.AuthRequestByID(ctx, authRequest.ID.String())
	require.NoError(t, err)
	oidcClient, err := oidcStorage.GetClientByClientID(ctx, client.ID.String())
	require.NoError(t, err)
	oidcRefresh, err := oidcStorage.TokenRequestByRefreshToken(ctx, providerPair.RefreshToken)
	require.NoError(t, err)

	// A personal token.
	pat, patToken, err := s.PersonalTokens.Create(ctx, user.ID, "script", nil, nil)
	require.NoError(t, err)
	secret("personal token", patToken)
	secret("personal digest", pat.TokenHash)
	patPlain := *pat
	patPlain.Token, patPlain.User = patToken, &withPlain

	// Export rows, grants, activity, statistics.
	var importUsers []repositories.ImportUser
	require.NoError(t, s.Users.Export(ctx, func(u repositories.ImportUser) error { importUsers = append(importUsers, u); return nil }))
	var importClients []repositories.ImportClient
	require.NoError(t, s.Clients.Export(ctx, func(c repositories.ImportClient) error { importClients = append(importClients, c); return nil }))
	require.NotEmpty(t, importUsers)
	require.NotEmpty(t, importClients)
	importResult, err := s.Users.Import(ctx, importUsers, repositories.ImportOptions{DryRun: true})
	require.NoError(t, err)
	grants, err := s.Grants.ListForUser(ctx, user.ID)
	require.NoError(t, err)
	require.NotEmpty(t, grants)
	activity, err := s.Activity.ListForUser(ctx, user.ID, 100)
	require.NoError(t, err)
	stats, err := s.Cleanup.Stats(ctx)
	require.NoError(t, err)
	purged, err := s.Cleanup.Purge(ctx, repositories.PurgeOptions{DryRun: true})
	require.NoError(t, err)
	dbURL, err := cfg.Database()
	require.NoError(t, err)
	migrator, err := migrations.NewGORM(context.Background(), s.DB())
	require.NoError(t, err)
	t.Cleanup(func() { migrator.Close() })
	status, err := migrations.ReadStatus(context.Background(), s.DB())
	require.NoError(t, err)
	versions, err := migrations.Versions(b.Dialect)
	require.NoError(t, err)
	schema, err := migrations.Inspect(context.Background(), s.DB(), migrations.InspectOptions{})
	require.NoError(t, err)
	tbl, ok := schema.Tables["users"]
	require.True(t, ok, "Inspect found no users table")

	// Two-factor: a confirmed factor, its recovery codes, a login left at
	// its second factor.
	grace, err := s.Users.Create(ctx, repositories.UserInput{Name: "Grace", Email: "grace@example.com", Password: printingPassword, PasswordConfirmation: printingPassword})
	require.NoError(t, err)
	totpSecret, totpURI, err := s.TwoFactor.Enrol(ctx, grace.ID)
	require.NoError(t, err)
	secret("TOTP secret", totpSecret)
	secret("otpauth URI", totpURI)
	recoveryCodes, err := s.TwoFactor.Confirm(ctx, grace.ID, totpCode(t, totpSecret, s.Now()))
	require.NoError(t, err)
	secret("recovery code", recoveryCodes[0])
	login, challenge, err := s.Users.Login(ctx, "grace@example.com", printingPassword)
	require.NoError(t, err)
	secret("second-factor challenge", challenge)
	var recoveryRow models.RecoveryCode
	require.NoError(t, s.DB().Where("user_id = ?", grace.ID).Take(&recoveryRow).Error)
	var challengeRow models.TwoFactorChallenge
	require.NoError(t, s.DB().Where("user_id = ?", grace.ID).Take(&challengeRow).Error)
	challengePlain := challengeRow
	challengePlain.Token = challenge
	var stepRow models.TwoFactorUsedStep
	require.NoError(t, s.DB().Where("user_id = ?", grace.ID).Take(&stepRow).Error)
	twoFactorStatus, err := s.TwoFactor.Status(ctx, grace.ID)
	require.NoError(t, err)
	graceRow, err := s.Users.FindByID(ctx, grace.ID)
	require.NoError(t, err)
	add("models.User", *graceRow)
	add("models.RecoveryCode", recoveryRow)
	add("models.TwoFactorChallenge", challengeRow, challengePlain)
	add("models.TwoFactorUsedStep", stepRow)
	add("repositories.TwoFactor", s.TwoFactor)
	add("repositories.TwoFactorStatus", twoFactorStatus)
	add("repositories.LoginResult", *login)

	// The root package.
	add("authstore.Store", s)
	add("authstore.Option", authstore.WithConfig(cfg))
	add("authstore.BackupOptions", authstore.BackupOptions{Overwrite: true})

	// config.
	add("config.Config", cfg)
	add("config.Secret", cfg.JWTSecret)
	add("config.DatabaseURL", dbURL)
	add("config.Dialect", dbURL.Dialect)
	add("config.Storage", cfg.OAuthStorage)
	add("config.Tables", cfg.Tables())

	// hooks.
	// envelope: the provider of the configuration's master keys.
	add("envelope.Local", provider, *provider)
	add("envelope.Provider", envelope.Provider(provider))
	add("envelope.Binding", envelope.Binding{Table: "signing_keys", Column: "private_key", Row: string(user.ID)})

	add("hooks.Hasher", hooks.DefaultHasher())
	add("hooks.Params", hooks.DefaultParams())

	// models.
	add("models.User", *created, *user, withPlain)
	add("models.Client", *client, clientPlain)
	add("models.Session", *session, sessionPlain)
	add("models.PasswordReset", reset)
	add("models.EmailVerification", *verification, verificationPlain)
	add("models.AuthorizationCode", *code, codePlain)
	add("models.RefreshToken", refresh)
	add("models.AccessToken", access, *ccRow)
	add("models.SigningKey", *signingKey, keyRow)
	add("models.AuthRequest", *authRequest, *redeemed)
	add("models.PersonalAccessToken", *pat, patPlain)
	add("models.Activity", activity[0])
	add("models.Event", models.EventRegistered)
	add("models.RequestMeta", models.RequestMeta{IP: requestIP, UserAgent: requestUA})
	add("models.Strings", models.Strings{"read", "write"})
	add("models.UUID", user.ID)

	// oidcstore: the adapter and what op reads through it.
	add("oidcstore.Storage", oidcStorage)
	add("oidcstore.Option", oidcstore.WithLoginLifetime(time.Minute))
	add("oidcstore.AuthRequest", oidcRequest)
	add("oidcstore.Client", oidcClient)
	add("oidcstore.RefreshTokenRequest", oidcRefresh)
	verifierOption := oidcstore.WithAudience(string(client.ID))
	oidcVerifier, err := oidcstore.NewVerifier(s, "https://login.example.com", verifierOption)
	require.NoError(t, err)
	add("oidcstore.Verifier", *oidcVerifier)
	add("oidcstore.VerifierOption", verifierOption)
	add("oidcstore.AccessToken", oidcstore.AccessToken{ID: pair.AccessTokenID, ClientID: client.ID, UserID: &user.ID,
		Subject: string(user.ID), SubjectType: repositories.SubjectUser, Scopes: []string{"openid"},
		Audience: []string{string(client.ID)}, IssuedAt: s.Now(), ExpiresAt: s.Now().Add(time.Hour)})

	// protocol.
	add("protocol.Claims", *claims, *rsClaims)
	add("protocol.Header", rsHeader)

	// provider: its configuration holds the crypto key, which %v would
	// print as numbers.
	add("provider.Config", oidcprovider.Config{Issuer: "https://login.example.com", CryptoKey: cryptoKey, Logger: slog.Default()})
	secret("provider crypto key as numbers", strings.Trim(fmt.Sprint(cryptoKey[:8]), "[]"))

	// repositories: every repository of the Store, and the values its
	// calls take and return.
	add("repositories.Users", s.Users)
	add("repositories.Sessions", s.Sessions)
	add("repositories.PasswordResets", s.PasswordResets)
	add("repositories.EmailVerifications", s.EmailVerifications)
	add("repositories.ActivityLog", s.Activity)
	add("repositories.Cleanup", s.Cleanup)
	add("repositories.Clients", s.Clients)
	add("repositories.AccessTokens", s.AccessTokens)
	add("repositories.RefreshTokens", s.RefreshTokens)
	add("repositories.AuthCodes", s.AuthCodes)
	add("repositories.PersonalTokens", s.PersonalTokens)
	add("repositories.Grants", s.Grants)
	add("repositories.Tokens", s.Tokens)
	add("repositories.SigningKeys", s.Keys)
	add("repositories.RotateOptions", repositories.RotateOptions{Algorithm: "ES256", Immediately: true})
	add("repositories.JWKS", jwks)
	add("repositories.ReencryptOptions", repositories.ReencryptOptions{BatchSize: 10, DryRun: true})
	add("repositories.ReencryptResult", reencrypted)
	add("repositories.Options", repositories.Options{Config: cfg, Hasher: hooks.DefaultHasher()},
		repositories.Options{Config: cfg, Encryption: provider, SigningKeys: s.Keys})
	add("repositories.UserInput", repositories.UserInput{Name: "Ada", Email: user.Email, Password: printingPassword, PasswordConfirmation: printingPassword})
	add("repositories.ProfileInput", repositories.ProfileInput{Name: &user.Name, Email: &user.Email})
	add("repositories.SessionInput", repositories.SessionInput{IPAddress: requestIP, UserAgent: requestUA})
	add("repositories.ClientInput", repositories.ClientInput{Name: "app", RedirectURIs: []string{redirectURI}, Confidential: true})
	add("repositories.AuthCodeInput", codeInput)
	add("repositories.AuthRequests", s.AuthRequests)
	add("repositories.AuthRequestInput", requestInput)
	add("repositories.ProviderMetadata", repositories.ProviderMetadata{AccessTokenType: models.AccessTokenJWT, Audiences: []string{"https://api.example.com"}})
	add("repositories.AuthenticatedClient", authedClient)
	add("repositories.TokenPair", *pair, *rotated, *providerPair)
	add("repositories.Introspection", introspection)
	add("repositories.Inspection", inspection)
	add("repositories.Grant", grants[0])
	add("repositories.ImportUser", importUsers[0])
	add("repositories.ImportClient", importClients[0])
	add("repositories.ImportOptions", repositories.ImportOptions{DryRun: true, PendingUsers: []models.UUID{user.ID}})
	add("repositories.ImportResult", importResult)
	add("repositories.ImportRow", importResult.Rows[0])
	add("repositories.ImportOutcome", repositories.ImportCreated)
	add("repositories.PurgeOptions", repositories.PurgeOptions{DryRun: true})
	add("repositories.PurgeResult", purged)
	add("repositories.TableStats", stats[0])
	add("repositories.Deliver", repositories.Deliver(func(context.Context, string, string) error { return nil }))

	// migrations.
	add("migrations.Migrator", migrator)
	add("migrations.Option", migrations.WithTables(cfg.Tables()))
	add("migrations.Status", status)
	add("migrations.Version", versions[0])
	add("migrations.View", migrations.Views()[0])
	add("migrations.Schema", schema)
	add("migrations.Table", tbl)
	add("migrations.Column", tbl.Columns[0])
	add("migrations.Index", migrations.Index{Name: "i"})
	add("migrations.ForeignKey", migrations.ForeignKey{})
	add("migrations.InspectOptions", migrations.InspectOptions{})
	add("migrations.ScriptOptions", migrations.ScriptOptions{})
	add("migrations.StepError", &migrations.StepError{File: "000001_create_auth_tables.up.sql", Err: errors.New("boom")})

	// internal/demo: what a demo run reports (its plaintexts included).
	add("demo.Step", demo.Step{Name: "register", Detail: "ada@example.com"})
	add("demo.Report", demo.Report{Dialect: string(b.Dialect), Email: user.Email,
		Secrets: map[string]string{"password": printingPassword, "session_token": sessionToken}})
	add("demo.Leftovers", demo.Leftovers{Users: importUsers, Clients: importClients})

	// internal/dberr: a classification holds no value of the error.
	add("dberr.Kind", dberr.Conflict)
	return w
}

// jsonShowsSecrets lists the types whose JSON deliberately carries a
// secret, and why; fmt and slog still redact them.
var jsonShowsSecrets = map[string]string{
	// `authstore demo --json` prints the plaintexts the demo generated, so
	// that an operator can check none of them is stored.
	"demo.Report": "the demo's machine-readable report",
}

// encodings returns s and the hex and base64 forms a printed value could
// show it in.
func encodings(s string) []string {
	b := []byte(s)
	return []string{
		s,
		hex.EncodeToString(b),
		strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
	}
}

// phcParts returns the salt and hash fields of a PHC string, which a value
// could show without the rest.
func phcParts(s string) []string {
	if !strings.HasPrefix(s, "$") {
		return nil
	}
	f := strings.Split(s, "$")
	if len(f) < 2 {
		return nil
	}
	return f[len(f)-2:]
}

// printings returns every printing of v: each verb, JSON, and slog's JSON
// and text handlers; key says how it was printed.
func printings(v any, withJSON bool) map[string]string {
	out := map[string]string{}
	for _, verb := range printingVerbs {
		out[verb] = fmt.Sprintf(verb, v)
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v)
	if withJSON {
		if b, err := json.Marshal(v); err != nil {
			out["json error"] = err.Error()
		} else {
			out["json"] = string(b)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("printing", "value", v)
		out["slog json"] = buf.String()
	}
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("printing", "value", v)
	out["slog text"] = text.String()
	return out
}

// forms returns v, a pointer to a copy of it (or, for a pointer, the value
// it points to), and a slice and a map holding it.
func forms(v any) []any {
	rv := reflect.ValueOf(v)
	out := []any{v}
	if rv.Kind() == reflect.Pointer {
		if !rv.IsNil() {
			out = append(out, rv.Elem().Interface())
		}
	} else {
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		out = append(out, p.Interface())
	}
	s := reflect.MakeSlice(reflect.SliceOf(rv.Type()), 1, 1)
	s.Index(0).Set(rv)
	m := reflect.MakeMap(reflect.MapOf(reflect.TypeFor[string](), rv.Type()))
	m.SetMapIndex(reflect.ValueOf("k"), rv)
	return append(out, s.Interface(), m.Interface())
}

// TestHardeningPrinting prints a value of every exported type, holding the
// secrets of a real Store where the type can, with every verb, JSON and
// slog, on every backend: no secret, hash or digest, in plain, hex or
// base64, may show.
func TestHardeningPrinting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		w := newPrintedWorld(t, b)
		type needle struct{ what, text string }
		var needles []needle
		for what, s := range w.secrets {
			for _, e := range encodings(s) {
				needles = append(needles, needle{what, e})
			}
			for _, p := range phcParts(s) {
				for _, e := range encodings(p) {
					needles = append(needles, needle{what + " (PHC field)", e})
				}
			}
		}
		names := make([]string, 0, len(w.samples))
		for name := range w.samples {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			leaks, first := 0, ""
			for i, sample := range w.samples[name] {
				_, jsonShows := jsonShowsSecrets[name]
				for _, form := range forms(sample) {
					for how, text := range printings(form, !jsonShows) {
						for _, n := range needles {
							if strings.Contains(text, n.text) {
								if leaks++; first == "" {
									first = fmt.Sprintf("sample %d as %T printed with %s shows the %s: %.300s", i, form, how, n.what, text)
								}
								break
							}
						}
					}
				}
			}
			if leaks > 0 {
				t.Errorf("%s: %d printings show a secret; first: %s", name, leaks, first)
			}
		}
		if b.Dialect == config.DialectPostgres {
			// The password did reach the Store: redaction, not absence, is
			// what the test shows.
			cfg := w.samples["config.Config"][0].(config.Config)
			require.Contains(t, cfg.DatabaseURL, ":"+printingDBPassword+"@")
		}
	})
}

// TestHardeningPrintingCoversEveryType fails when a package of the module
// declares an exported type TestHardeningPrinting does not print: add a
// sample of it to newPrintedWorld.
func TestHardeningPrintingCoversEveryType(t *testing.T) {
	declared := exportedTypes(t, "..")
	b := Backend{Name: "memory", Dialect: config.DialectSQLite, Config: memoryConfig}
	w := newPrintedWorld(t, b)
	for _, name := range declared {
		require.Contains(t, w.samples, name, "exported type %s has no sample in newPrintedWorld (printing_test.go)", name)
	}
	known := map[string]bool{}
	for _, name := range declared {
		known[name] = true
	}
	for name := range w.samples {
		require.True(t, known[name], "newPrintedWorld has a sample of %s, which no package declares", name)
	}
}

// exportedTypes returns "package.Type" for every exported type declared in
// the non-test Go files of every package under root but commands (package
// main) and test-only packages.
func exportedTypes(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "cmd") {
			return filepath.SkipDir
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, path, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for name, pkg := range pkgs {
			if name == "main" {
				continue
			}
			for _, f := range pkg.Files {
				for _, decl := range f.Decls {
					gd, ok := decl.(*ast.GenDecl)
					if !ok || gd.Tok != token.TYPE {
						continue
					}
					for _, spec := range gd.Specs {
						if ts := spec.(*ast.TypeSpec); ts.Name.IsExported() {
							out = append(out, name+"."+ts.Name.Name)
						}
					}
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "%s is not the module root", root)
	sort.Strings(out)
	require.NotEmpty(t, out)
	return out
}
