package oidcstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/oidcstore"
	"github.com/forgeauth/authstore/repositories"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ExampleNew is the README's "OpenID provider adapter": a zitadel/oidc
// provider over a Store, its discovery document, and the login page's
// part of an authorization request.
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadFrom(map[string]string{
		"OAUTH_STORAGE":            "memory", // an in-memory database; set DATABASE_URL for yours
		"AUTH_SESSION_STORAGE":     "memory",
		"AUTHSTORE_ENCRYPTION_KEY": "ZXhhbXBsZSBtYXN0ZXIga2V5IG9mIDMyIGJ5dGVzISE=", // openssl rand -base64 32
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Keys.Rotate(ctx, repositories.RotateOptions{}); err != nil { // `authstore keys rotate`
		log.Fatal(err)
	}

	storage, err := oidcstore.New(store)
	if err != nil {
		log.Fatal(err)
	}
	opConfig, err := storage.ProviderConfig() // crypto key derived from AUTHSTORE_ENCRYPTION_KEY
	if err != nil {
		log.Fatal(err)
	}
	provider, err := op.NewProvider(opConfig, storage, op.StaticIssuer("https://auth.example.com"),
		op.WithHttpInterceptors(storage.Interceptor)) // hands the authenticated client to the token calls
	if err != nil {
		log.Fatal(err)
	}
	// http.ListenAndServe(addr, provider) serves it; here, one request in
	// process.
	rec := httptest.NewRecorder()
	provider.ServeHTTP(rec, httptest.NewRequest("GET", "https://auth.example.com/.well-known/openid-configuration", nil))
	var discovery oidc.DiscoveryConfiguration
	if err := json.Unmarshal(rec.Body.Bytes(), &discovery); err != nil {
		log.Fatal(err)
	}
	fmt.Println("issuer:", discovery.Issuer)
	fmt.Println("token endpoint:", discovery.TokenEndpoint)
	fmt.Println("signs ID tokens with:", discovery.IDTokenSigningAlgValuesSupported)

	// The login page: op created the request at /authorize and sent the
	// browser to /login?authRequestID=...; once the password checks out
	// (store.Users.Authenticate), record the login and redirect to
	// op.AuthCallbackURL(provider)(r.Context(), id), which issues the code.
	client, _, err := store.Clients.Create(ctx, repositories.ClientInput{Name: "Web app", Confidential: true,
		RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		log.Fatal(err)
	}
	user, err := store.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com",
		Password: "correct horse battery staple", PasswordConfirmation: "correct horse battery staple"})
	if err != nil {
		log.Fatal(err)
	}
	pending, err := storage.CreateAuthRequest(ctx, &oidc.AuthRequest{ClientID: client.ID.String(), Scopes: []string{"openid"},
		ResponseType: oidc.ResponseTypeCode, RedirectURI: "https://app.example.com/cb", State: "xyz", Nonce: "n-0S6",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: oidc.CodeChallengeMethodS256}, "")
	if err != nil {
		log.Fatal(err)
	}
	if err := storage.CompleteAuthRequest(ctx, pending.GetID(), user.ID, time.Now(), []string{"pwd"}); err != nil {
		log.Fatal(err)
	}
	done, err := storage.AuthRequestByID(ctx, pending.GetID())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in:", done.Done(), done.GetAMR())
	// Output:
	// issuer: https://auth.example.com
	// token endpoint: https://auth.example.com/oauth/token
	// signs ID tokens with: [RS256]
	// logged in: true [pwd]
}

// ExampleRequireAccessToken is the README's "Protecting your API": a
// resource server on the provider's database verifies the provider's
// access tokens with a Verifier, behind RequireAccessToken.
func ExampleRequireAccessToken() {
	ctx := context.Background()
	cfg, err := config.LoadFrom(map[string]string{
		"OAUTH_STORAGE":            "memory",
		"AUTH_SESSION_STORAGE":     "memory",
		"AUTHSTORE_ENCRYPTION_KEY": "ZXhhbXBsZSBtYXN0ZXIga2V5IG9mIDMyIGJ5dGVzISE=",
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Keys.Rotate(ctx, repositories.RotateOptions{}); err != nil {
		log.Fatal(err)
	}
	storage, err := oidcstore.New(store)
	if err != nil {
		log.Fatal(err)
	}
	opConfig, err := storage.ProviderConfig()
	if err != nil {
		log.Fatal(err)
	}
	const issuer = "https://auth.example.com"
	provider, err := op.NewProvider(opConfig, storage, op.StaticIssuer(issuer), op.WithHttpInterceptors(storage.Interceptor))
	if err != nil {
		log.Fatal(err)
	}

	// The API: the issuer is required, the audience (the API's client id,
	// or one of a client's --audience values) optional.
	api, clientSecret, err := store.Clients.Create(ctx, repositories.ClientInput{Name: "Reports API", Confidential: true,
		GrantTypes: []string{"client_credentials"}})
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := oidcstore.NewVerifier(store, issuer, oidcstore.WithAudience(api.ID.String()))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/reports", oidcstore.RequireAccessToken(verifier, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := oidcstore.AccessTokenFrom(r.Context())
		fmt.Fprintf(w, "reports for a %s, scopes %v", token.SubjectType, token.Scopes)
	})))
	// Or by hand: token, err := verifier.Verify(ctx, bearer), and
	// errors.Is(err, oidcstore.ErrInvalidToken) for a 401.

	// A token from the provider (client credentials, in process here).
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	req := httptest.NewRequest("POST", issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(api.ID.String(), clientSecret)
	rec := httptest.NewRecorder()
	provider.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		log.Fatalf("token: %d %s", rec.Code, rec.Body)
	}

	call := func(bearer string) {
		req := httptest.NewRequest("GET", "https://api.example.com/reports", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), strings.TrimSpace(rec.Body.String()))
	}
	call(tok.AccessToken)
	call("")
	if err := store.AccessTokens.Revoke(ctx, mustJTI(verifier, tok.AccessToken)); err != nil { // or the RFC 7009 endpoint
		log.Fatal(err)
	}
	call(tok.AccessToken)
	// Output:
	// 200  reports for a client, scopes [read]
	// 401 Bearer a bearer access token is required
	// 401 Bearer error="invalid_token" the access token is invalid, expired or revoked
}

// mustJTI returns the jti of a token the verifier accepts.
func mustJTI(v *oidcstore.Verifier, token string) models.UUID {
	at, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	return at.ID
}
