package models_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/forgeauth/authstore/models"
)

func TestRequestMeta(t *testing.T) {
	m := models.RequestMeta{IP: "203.0.113.7", UserAgent: "Mozilla/5.0"}
	ctx := models.WithRequestMeta(context.Background(), m)
	require.Equal(t, m, models.RequestMetaFrom(ctx))
	require.Zero(t, models.RequestMetaFrom(context.Background()))

	var nilCtx context.Context
	require.Zero(t, models.RequestMetaFrom(nilCtx))
	require.Equal(t, m, models.RequestMetaFrom(models.WithRequestMeta(nilCtx, m)))
}

func TestRequestMetaTrimming(t *testing.T) {
	for _, tc := range []struct{ in, wantUA string }{
		{strings.Repeat("u", 600), strings.Repeat("u", models.MaxUserAgentLength)},
		{"a" + strings.Repeat("é", 300), "a" + strings.Repeat("é", 255)}, // cut on a rune boundary: 511 bytes
		{"  Mozilla\x00/5.0\r\n", "Mozilla/5.0"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	} {
		got := models.RequestMetaFrom(models.WithRequestMeta(context.Background(), models.RequestMeta{IP: strings.Repeat("1", 100), UserAgent: tc.in}))
		require.Equal(t, tc.wantUA, got.UserAgent)
		require.True(t, utf8.ValidString(got.UserAgent))
		require.LessOrEqual(t, len(got.UserAgent), models.MaxUserAgentLength)
		require.Equal(t, strings.Repeat("1", models.MaxIPLength), got.IP)
	}
}
