package protocol

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AccessTokenType is the JWT "typ" header of access tokens (RFC 9068 2.1),
// so that another JWT signed with the same key is not taken for one.
const AccessTokenType = "at+jwt"

// MinHS256KeyLength is the least number of bytes of an HS256 key.
const MinHS256KeyLength = 32

// MaxJWTLength bounds a presented JWT: longer input is refused before it is
// parsed.
const MaxJWTLength = 2048

// Errors of ParseAccessToken.
var (
	// ErrTokenExpired means the JWT is past its exp.
	ErrTokenExpired = errors.New("access token expired")
	// ErrTokenInvalid means the JWT is malformed, badly signed, of another
	// type or algorithm, from another issuer, or lacks a required claim.
	ErrTokenInvalid = errors.New("access token is not a valid jwt")
)

// Claims are the claims of an access token JWT (RFC 9068): iss, sub (the
// user, or the client for a client-credentials grant), aud (the client),
// exp, iat, jti (the id of the token's row), client_id and scope.
type Claims struct {
	jwt.RegisteredClaims
	// ClientID is the client the token was issued to.
	ClientID string `json:"client_id"`
	// Scope is the space-separated list of granted scopes.
	Scope string `json:"scope,omitempty"`
}

// Scopes returns the granted scopes as a list.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// NewClaims returns the claims of an access token with id jti issued by
// issuer to clientID for subject (a user id, or the client id when there
// is no user), valid from iat to exp.
func NewClaims(issuer, subject, clientID, jti string, scopes []string, iat, exp time.Time) Claims {
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{clientID},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(iat),
			ID:        jti,
		},
		ClientID: clientID,
		Scope:    strings.Join(scopes, " "),
	}
}

// CheckHS256Key refuses an HS256 key that is empty or shorter than
// MinHS256KeyLength bytes. name is the setting that holds it, for the
// message.
func CheckHS256Key(name string, key []byte) error {
	if len(key) == 0 {
		return fmt.Errorf("%s is empty", name)
	}
	if len(key) < MinHS256KeyLength {
		return fmt.Errorf("%s is shorter than %d bytes", name, MinHS256KeyLength)
	}
	return nil
}

// SignAccessToken signs c as an HS256 JWT of type at+jwt.
func SignAccessToken(key []byte, c Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["typ"] = AccessTokenType
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// ParseAccessToken verifies an access token and returns its claims. The
// token must be an HS256 JWT (the algorithm is pinned; "none" and others are
// refused) of type at+jwt with a good signature, from issuer, with exp and
// iat, unexpired at now(), and carry a jti and a client_id. It returns
// ErrTokenExpired for an expired token and ErrTokenInvalid for any other
// failure.
func ParseAccessToken(token string, key []byte, issuer string, now func() time.Time) (*Claims, error) {
	if len(token) > MaxJWTLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrTokenInvalid, MaxJWTLength)
	}
	claims := &Claims{}
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != AccessTokenType {
			return nil, errors.New("not an access token")
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(now),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrTokenExpired
	case err != nil:
		return nil, ErrTokenInvalid
	case claims.ID == "" || claims.ClientID == "":
		return nil, fmt.Errorf("%w: it lacks a jti or client_id", ErrTokenInvalid)
	}
	return claims, nil
}
