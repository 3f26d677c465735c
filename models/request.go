package models

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIPLength is the length in bytes to which WithRequestMeta trims
// RequestMeta.IP. It is the cap of every stored IP address: an IP given
// to a repository directly (repositories.SessionInput) that is longer, not
// valid UTF-8 or holds a control character is refused, not cut.
const MaxIPLength = 64

// MaxUserAgentLength is the length in bytes to which WithRequestMeta trims
// RequestMeta.UserAgent. It is the cap of every stored user agent: one
// given to a repository directly (repositories.SessionInput) that is
// longer, not valid UTF-8 or holds a control character is refused, not cut.
const MaxUserAgentLength = 512

// RequestMeta describes the HTTP request on whose behalf a model is saved,
// for the activity log: repositories copy its IP and user agent into the
// activity rows they write, and Sessions.Create into a new session.
type RequestMeta struct {
	IP        string
	UserAgent string
}

type ctxKey int

const requestMetaKey ctxKey = 0

// WithRequestMeta returns a copy of ctx carrying m. On the way in, control
// characters are removed, invalid UTF-8 is replaced by U+FFFD, surrounding
// space is trimmed, and IP and UserAgent are cut, on a character boundary, to
// at most MaxIPLength and MaxUserAgentLength bytes so they fit their columns.
// A nil ctx is treated as context.Background().
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	m.IP = clean(m.IP, MaxIPLength)
	m.UserAgent = clean(m.UserAgent, MaxUserAgentLength)
	return context.WithValue(ctx, requestMetaKey, m)
}

// RequestMetaFrom returns the RequestMeta stored in ctx by WithRequestMeta,
// or the zero value if there is none or ctx is nil.
func RequestMetaFrom(ctx context.Context) RequestMeta {
	if ctx == nil {
		return RequestMeta{}
	}
	m, _ := ctx.Value(requestMetaKey).(RequestMeta)
	return m
}

func clean(s string, limit int) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s))
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
