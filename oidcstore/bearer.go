package oidcstore

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// accessTokenKey is the context key of the verified access token.
type accessTokenKey struct{}

// RequireAccessToken returns net/http middleware for a resource server
// (RFC 6750): it reads the bearer token of the Authorization header,
// verifies it with v, checks it was issued with every one of scopes, and
// calls next with the token in the request's context (AccessTokenFrom).
// Otherwise it answers, without calling next:
//
//	no bearer token                  401, WWW-Authenticate: Bearer
//	Verify refuses it (ErrInvalidToken)  401, Bearer error="invalid_token"
//	a scope missing                  403, Bearer error="insufficient_scope", scope="..."
//	Verify fails otherwise           500 (the database unreachable)
//
// The answer never holds the token or why it was refused.
func RequireAccessToken(v *Verifier, scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r)
			if !ok {
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, "a bearer access token is required", http.StatusUnauthorized)
				return
			}
			at, err := v.Verify(r.Context(), token)
			switch {
			case errors.Is(err, ErrInvalidToken):
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				http.Error(w, "the access token is invalid, expired or revoked", http.StatusUnauthorized)
				return
			case err != nil:
				http.Error(w, "the access token could not be checked", http.StatusInternalServerError)
				return
			}
			for _, s := range scopes {
				if !at.HasScope(s) {
					w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+strings.Join(scopes, " ")+`"`)
					http.Error(w, "the access token lacks a required scope", http.StatusForbidden)
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accessTokenKey{}, at)))
		})
	}
}

// AccessTokenFrom returns the access token RequireAccessToken verified for
// the request of ctx, and false when there is none.
func AccessTokenFrom(ctx context.Context) (*AccessToken, bool) {
	at, ok := ctx.Value(accessTokenKey{}).(*AccessToken)
	return at, ok && at != nil
}

// bearerToken returns the token of an "Authorization: Bearer" header (RFC
// 6750 2.1; the scheme's case does not matter).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
