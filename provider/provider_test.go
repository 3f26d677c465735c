package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/provider"
	"github.com/forgeauth/authstore/repositories"
	exstorage "github.com/zitadel/oidc/v3/example/server/storage"
)

// TestIssuer: https anywhere, http on a loopback host only, and no path,
// query, fragment or user information.
func TestIssuer(t *testing.T) {
	st := exstorage.NewStorage(exstorage.NewUserStore("https://login.example.com"))
	for issuer, ok := range map[string]bool{
		"https://login.example.com":      true,
		"https://login.example.com:8443": true,
		"http://127.0.0.1:8080":          true,
		"http://localhost:8080":          true,
		"http://[::1]:8080":              true,
		"http://login.example.com":       false,
		"http://10.0.0.1:8080":           false,
		"https://login.example.com/auth": false,
		"https://login.example.com/":     false,
		"https://login.example.com?a=b":  false,
		"https://u:p@login.example.com":  false,
		"ftp://login.example.com":        false,
		"login.example.com":              false,
		"":                               false,
	} {
		_, err := provider.NewOpenIDProvider(st, provider.Config{Issuer: issuer})
		if ok && err != nil {
			t.Errorf("NewOpenIDProvider(issuer %q) = %v; want nil", issuer, err)
		}
		if !ok && !errors.Is(err, provider.ErrInvalidIssuer) {
			t.Errorf("NewOpenIDProvider(issuer %q) = %v; want ErrInvalidIssuer", issuer, err)
		}
	}
}

// TestDiscovery reads the discovery document of New over a SQLite Store:
// every key and value is one the provider serves (code with PKCE S256,
// the grants, scopes, claims and authentication methods authstore
// implements, the signing algorithm of the Store's key), and nothing else
// is listed: no implicit or hybrid response type, no implicit or JWT
// profile grant, no device authorization endpoint, no check-session
// iframe, no private_key_jwt signing algorithm, no phone claim. op's
// headers (content type, CORS) are kept.
func TestDiscovery(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.LoadFrom(map[string]string{
		"DATABASE_URL":             "sqlite://" + filepath.Join(t.TempDir(), "authstore.db"),
		"AUTHSTORE_ENCRYPTION_KEY": "aW50ZWdyYXRpb24tbWFzdGVyLWtleS1vbmUtMzJieXQ=",
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := authstore.Open(ctx, cfg, authstore.WithMigrate())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Keys.Rotate(ctx, repositories.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	const issuer = "https://login.example.com"
	h, err := provider.New(ctx, store, provider.Config{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	req.Header.Set("Origin", "https://app.example.com")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET discovery = %d; want 200", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", got)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Errorf("Access-Control-Allow-Origin = %q; want op's CORS answer", got)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("discovery is not JSON: %v", err)
	}
	want := map[string]any{
		"issuer":                                        issuer,
		"authorization_endpoint":                        issuer + "/authorize",
		"token_endpoint":                                issuer + "/oauth/token",
		"introspection_endpoint":                        issuer + "/oauth/introspect",
		"userinfo_endpoint":                             issuer + "/userinfo",
		"revocation_endpoint":                           issuer + "/revoke",
		"end_session_endpoint":                          issuer + "/end_session",
		"jwks_uri":                                      issuer + "/keys",
		"scopes_supported":                              []any{"openid", "profile", "email", "offline_access"},
		"response_types_supported":                      []any{"code"},
		"grant_types_supported":                         []any{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                       []any{"public"},
		"id_token_signing_alg_values_supported":         []any{"RS256"},
		"token_endpoint_auth_methods_supported":         []any{"none", "client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported":    []any{"none", "client_secret_basic", "client_secret_post"},
		"introspection_endpoint_auth_methods_supported": []any{"client_secret_basic"},
		"claims_supported": []any{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp",
			"client_id", "at_hash", "c_hash", "name", "email", "email_verified"},
		"code_challenge_methods_supported": []any{"S256"},
		"request_uri_parameter_supported":  false,
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("discovery %s = %v; want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("discovery lists %s = %v, which the provider does not serve", k, v)
		}
	}
}
