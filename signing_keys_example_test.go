package authstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// exampleMasterKey is a fixed master key for the examples; generate yours
// with `openssl rand -base64 32` and keep it out of the database's backups.
const exampleMasterKey = "ZXhhbXBsZSBtYXN0ZXIga2V5IG9mIDMyIGJ5dGVzISE="

// openExample opens an in-memory Store configured by env.
func openExample(ctx context.Context, env map[string]string) *authstore.Store {
	env["OAUTH_STORAGE"], env["AUTH_SESSION_STORAGE"] = "memory", "memory"
	cfg, err := config.LoadFrom(env)
	if err != nil {
		log.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	return store
}

// serviceClient makes a confidential client that may use the
// client_credentials grant, and authenticates it.
func serviceClient(ctx context.Context, store *authstore.Store) repositories.AuthenticatedClient {
	client, secret, err := store.Clients.Create(ctx, repositories.ClientInput{Name: "Billing service", Confidential: true,
		RedirectURIs: []string{"https://billing.example.com/cb"}, GrantTypes: []string{protocol.GrantClientCredentials}})
	if err != nil {
		log.Fatal(err)
	}
	authed, err := store.Clients.Authenticate(ctx, client.ID, secret)
	if err != nil {
		log.Fatal(err)
	}
	return authed
}

// Example_signingKeys is the README's "Signing keys": the first key signs
// at once, a rotated key is published before it signs, and the JWKS a
// resource server fetches holds public keys alone.
func Example_signingKeys() {
	ctx := context.Background()
	store := openExample(ctx, map[string]string{
		"AUTHSTORE_ENCRYPTION_KEY":        exampleMasterKey, // encrypts the private keys at rest
		"JWT_ISSUER":                      "https://auth.example.com",
		"OAUTH_ACCESS_TOKEN_AUDIENCE":     "https://api.example.com",
		"OAUTH_SIGNING_KEY_PUBLISH_DELAY": "3600", // a new key is in the JWKS an hour before it signs
	})
	defer store.Close()

	first, err := store.Keys.Rotate(ctx, repositories.RotateOptions{}) // `authstore keys rotate`
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first key:", first.Algorithm, first.State)

	_, token, err := store.AccessTokens.IssueClientCredentials(ctx, serviceClient(ctx, store), []string{"invoices:read"})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := store.AccessTokens.Validate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("aud:", claims.Audience[0])

	next, err := store.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "ES256"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rotated:", next.Algorithm, next.State, "signs from", next.ActivatesAt.Sub(store.Now()).Round(time.Minute))

	jwks, err := store.Keys.JWKS(ctx) // serve at /.well-known/jwks.json
	if err != nil {
		log.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks.JSON, &set); err != nil {
		log.Fatal(err)
	}
	fmt.Println("published:", len(set.Keys), "keys, all public:", set.Keys[0].IsPublic() && set.Keys[1].IsPublic())
	fmt.Println("Cache-Control:", jwks.CacheControl())
	// Output:
	// first key: RS256 current
	// aud: https://api.example.com
	// rotated: ES256 next signs from 1h0m0s
	// published: 2 keys, all public: true
	// Cache-Control: public, max-age=1800
}

// Example_resourceServer validates an access token the way a resource
// server does, offline, with the JWKS alone: the key is the one the token's
// kid names, the algorithm is pinned to that key's, and typ, iss, aud and
// exp are checked. (It cannot see revocations: a server that must, asks
// the authorization server's introspection endpoint, Tokens.Introspect.)
func Example_resourceServer() {
	ctx := context.Background()
	store := openExample(ctx, map[string]string{
		"AUTHSTORE_ENCRYPTION_KEY": exampleMasterKey, "JWT_ISSUER": "https://auth.example.com",
		"OAUTH_ACCESS_TOKEN_AUDIENCE": "https://api.example.com",
	})
	defer store.Close()
	if _, err := store.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "EdDSA"}); err != nil {
		log.Fatal(err)
	}
	_, token, err := store.AccessTokens.IssueClientCredentials(ctx, serviceClient(ctx, store), nil)
	if err != nil {
		log.Fatal(err)
	}
	jwks, err := store.Keys.JWKS(ctx)
	if err != nil {
		log.Fatal(err)
	}

	// The resource server: it holds the JWKS it fetched, and fetches it
	// again when a token names a kid it does not know.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks.JSON, &set); err != nil {
		log.Fatal(err)
	}
	keyFor := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		keys := set.Key(kid)
		if len(keys) != 1 {
			return nil, errors.New("unknown kid: fetch the JWKS again")
		}
		if t.Header["typ"] != "at+jwt" || t.Method.Alg() != keys[0].Algorithm {
			return nil, errors.New("not an access token of this key's algorithm")
		}
		return keys[0].Key, nil
	}
	var claims jwt.RegisteredClaims
	_, err = jwt.ParseWithClaims(token, &claims, keyFor,
		jwt.WithValidMethods([]string{"RS256", "ES256", "EdDSA"}), // never "none" nor HS256
		jwt.WithIssuer("https://auth.example.com"), jwt.WithAudience("https://api.example.com"), jwt.WithExpirationRequired())
	fmt.Println("valid:", err == nil)

	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	forged.Header["kid"], forged.Header["typ"] = set.Keys[0].KeyID, "at+jwt"
	pub, _ := set.Keys[0].MarshalJSON()
	s, _ := forged.SignedString(pub) // HS256 keyed with the public key
	_, err = jwt.ParseWithClaims(s, &jwt.RegisteredClaims{}, keyFor, jwt.WithValidMethods([]string{"RS256", "ES256", "EdDSA"}))
	fmt.Println("HS256 with the public key refused:", err != nil)
	// Output:
	// valid: true
	// HS256 with the public key refused: true
}

// Example_fromJWTSecret moves a Store from JWT_SECRET (HS256) to signing
// keys without logging anyone out: keep JWT_SECRET, set the master key and
// make the first key; tokens issued before keep validating until they
// expire, new ones are RS256. Drop JWT_SECRET once the last HS256 token has
// expired (OAUTH_ACCESS_TOKEN_LIFETIME after the first key).
func Example_fromJWTSecret() {
	ctx := context.Background()
	env := map[string]string{"JWT_SECRET": "an example secret of 32 bytes or more"}
	store := openExample(ctx, env)
	defer store.Close()
	authed := serviceClient(ctx, store)
	_, before, err := store.AccessTokens.IssueClientCredentials(ctx, authed, nil)
	if err != nil {
		log.Fatal(err)
	}
	h, _ := protocol.PeekHeader(before)
	fmt.Println("before:", h.Alg)

	// Deploy with AUTHSTORE_ENCRYPTION_KEY set (JWT_SECRET kept), then run
	// `authstore keys rotate`. Here: a second Store over the same database.
	env["AUTHSTORE_ENCRYPTION_KEY"] = exampleMasterKey
	cfg, err := config.LoadFrom(env)
	if err != nil {
		log.Fatal(err)
	}
	moved, err := authstore.New(store.DB(), authstore.WithConfig(cfg))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := moved.Keys.Rotate(ctx, repositories.RotateOptions{}); err != nil {
		log.Fatal(err)
	}
	_, after, err := moved.AccessTokens.IssueClientCredentials(ctx, authed, nil)
	if err != nil {
		log.Fatal(err)
	}
	h, _ = protocol.PeekHeader(after)
	fmt.Println("after:", h.Alg)
	_, err = moved.AccessTokens.Validate(ctx, before)
	fmt.Println("the HS256 token still validates:", err == nil)
	// Output:
	// before: HS256
	// after: RS256
	// the HS256 token still validates: true
}
