package provider_test

import (
	"errors"
	"testing"

	"github.com/forgeauth/authstore/provider"
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
