package repositories

import (
	"errors"
	"fmt"
	"testing"

	"github.com/forgeauth/authstore/config"
	"github.com/stretchr/testify/require"
)

func TestSigningKey(t *testing.T) {
	var cfg = testConfig()
	cfg.JWTSecret = ""
	_, err := signingKey(cfg)
	require.True(t, errors.Is(err, ErrNoSigningKey))
	cfg.JWTSecret = "tiny-key-123"
	_, err = signingKey(cfg)
	require.ErrorIs(t, err, ErrNoSigningKey)
	require.NotContains(t, err.Error(), "tiny-key-123")
}

func TestTokenPairDoesNotPrintTokens(t *testing.T) {
	p := TokenPair{AccessToken: "eyJ.secret.jwt", RefreshToken: "refresh-secret", Scopes: []string{"read"}}
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v", &p), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p), fmt.Sprintf("%s", p)} {
		require.NotContains(t, s, "secret", s)
	}
}

func testConfig() config.Config { return config.Default() }
