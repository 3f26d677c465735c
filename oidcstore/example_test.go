package oidcstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
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
