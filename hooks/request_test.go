package hooks_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/hooks"
)

func TestRequestMeta(t *testing.T) {
	m := hooks.RequestMeta{IP: "203.0.113.7", UserAgent: "Mozilla/5.0"}
	ctx := hooks.WithRequestMeta(context.Background(), m)
	require.Equal(t, m, hooks.RequestMetaFrom(ctx))
	require.Zero(t, hooks.RequestMetaFrom(context.Background()))

	var nilCtx context.Context
	require.Zero(t, hooks.RequestMetaFrom(nilCtx))
	require.Equal(t, m, hooks.RequestMetaFrom(hooks.WithRequestMeta(nilCtx, m)))
}

func TestRequestMetaTrimming(t *testing.T) {
	for _, tc := range []struct{ in, wantUA string }{
		{strings.Repeat("u", 600), strings.Repeat("u", hooks.MaxUserAgentLength)},
		{"a" + strings.Repeat("é", 300), "a" + strings.Repeat("é", 255)}, // cut on a rune boundary: 511 bytes
		{"  Mozilla\x00/5.0\r\n", "Mozilla/5.0"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	} {
		got := hooks.RequestMetaFrom(hooks.WithRequestMeta(context.Background(), hooks.RequestMeta{IP: strings.Repeat("1", 100), UserAgent: tc.in}))
		require.Equal(t, tc.wantUA, got.UserAgent)
		require.True(t, utf8.ValidString(got.UserAgent))
		require.LessOrEqual(t, len(got.UserAgent), hooks.MaxUserAgentLength)
		require.Equal(t, strings.Repeat("1", hooks.MaxIPLength), got.IP)
	}
}

func TestHasherFromContext(t *testing.T) {
	require.Same(t, hooks.DefaultHasher(), hooks.HasherFrom(context.Background()))
	var nilCtx context.Context
	require.Same(t, hooks.DefaultHasher(), hooks.HasherFrom(nilCtx))
	require.Same(t, hooks.DefaultHasher(), hooks.HasherFrom(hooks.WithHasher(context.Background(), nil)))

	h, err := hooks.NewHasher(hooks.Params{Memory: 46 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	require.NoError(t, err)
	require.Same(t, h, hooks.HasherFrom(hooks.WithHasher(context.Background(), h)))
}
