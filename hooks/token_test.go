package hooks_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/hooks"
)

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := hooks.NewToken()
		require.NoError(t, err)
		require.Regexp(t, tokenRE, tok)
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err)
		require.Len(t, raw, hooks.TokenBytes)
		require.Equal(t, 256, 8*len(raw))
		require.False(t, seen[tok], "duplicate token")
		seen[tok] = true
	}
}

func TestNewTokenFrom(t *testing.T) {
	src := bytes.Repeat([]byte{0xff}, hooks.TokenBytes)
	tok, err := hooks.NewTokenFrom(bytes.NewReader(src))
	require.NoError(t, err)
	require.Equal(t, base64.RawURLEncoding.EncodeToString(src), tok)

	for name, r := range map[string]interface{ Read([]byte) (int, error) }{
		"error": iotest.ErrReader(errors.New("entropy exhausted")),
		"short": bytes.NewReader(make([]byte, hooks.TokenBytes-1)),
		"empty": strings.NewReader(""),
	} {
		tok, err := hooks.NewTokenFrom(r)
		require.ErrorIs(t, err, hooks.ErrRandom, name)
		require.Empty(t, tok, name)
	}
}

func TestNewPrefixedToken(t *testing.T) {
	tok, err := hooks.NewPrefixedToken("asp_")
	require.NoError(t, err)
	rest, ok := strings.CutPrefix(tok, "asp_")
	require.True(t, ok)
	require.Regexp(t, tokenRE, rest)
}

func TestDigest(t *testing.T) {
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hooks.Digest("abc"))
	tok, err := hooks.NewToken()
	require.NoError(t, err)
	require.Regexp(t, `^[0-9a-f]{64}$`, hooks.Digest(tok))
	require.NotEqual(t, hooks.Digest(tok), hooks.Digest(tok+"x"))
}
