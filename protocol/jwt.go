package protocol

import (
	"encoding/base64"
	"encoding/json"
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
// iat, unexpired at now(), and carry a jti and a client_id.
//
// Parsing is strict, so that two different strings never verify as the same
// token (SECURITY 3): the token is the JWS compact serialisation (RFC 7515
// 7.1) of three segments of unpadded base64url (RFC 7515 2) with nothing
// else (no padding, white space or line break) and no spare bits (a last
// character whose unused bits are not zero is refused), the header holds no
// "crit", and the dates exp, iat and nbf are JSON numbers (RFC 7519 2,
// NumericDate), never strings. It returns ErrTokenExpired for an expired
// token and ErrTokenInvalid for any other failure; no error holds the token.
func ParseAccessToken(token string, key []byte, issuer string, now func() time.Time) (*Claims, error) {
	if len(token) > MaxJWTLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrTokenInvalid, MaxJWTLength)
	}
	if problem := compactProblem(token); problem != "" {
		return nil, fmt.Errorf("%w: %s", ErrTokenInvalid, problem)
	}
	claims := &Claims{}
	_, err := jwt.NewParser(
		jwt.WithStrictDecoding(),
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(now),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	).ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != AccessTokenType {
			return nil, errors.New("not an access token")
		}
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("critical header parameters are not understood")
		}
		return key, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrTokenExpired
	case err != nil:
		return nil, ErrTokenInvalid
	case claims.IssuedAt == nil:
		return nil, fmt.Errorf("%w: it lacks an iat", ErrTokenInvalid)
	case claims.ID == "" || claims.ClientID == "":
		return nil, fmt.Errorf("%w: it lacks a jti or client_id", ErrTokenInvalid)
	}
	return claims, nil
}

// strictBase64URL is RFC 7515's base64url: unpadded, and refusing a last
// character with unused bits set. (It still skips CR and LF, which
// compactProblem refuses first.)
var strictBase64URL = base64.RawURLEncoding.Strict()

// compactProblem says what is wrong with the form of a JWS compact
// serialisation, or returns "": three non-empty segments of the base64url
// alphabet, each decoding strictly, and a payload whose dates are JSON
// numbers. golang-jwt decodes NumericDate through json.Number, which also
// takes a string ("exp":"1700000000"), so the dates are checked here, on the
// same bytes and with the same field matching as the claims are decoded.
// The signature is checked afterwards; these checks only refuse more.
func compactProblem(token string) string {
	segs := strings.Split(token, ".")
	if len(segs) != 3 {
		return "not three dot-separated segments"
	}
	for _, seg := range segs {
		if seg == "" {
			return "a segment is empty"
		}
		for i := 0; i < len(seg); i++ {
			switch c := seg[i]; {
			case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return "a segment holds a character outside unpadded base64url"
			}
		}
	}
	payload, err := strictBase64URL.DecodeString(segs[1])
	if err != nil {
		return "the claims are not strict base64url"
	}
	var dates struct {
		Exp json.RawMessage `json:"exp"`
		Iat json.RawMessage `json:"iat"`
		Nbf json.RawMessage `json:"nbf"`
	}
	if err := json.Unmarshal(payload, &dates); err != nil {
		return "the claims are not a json object"
	}
	for _, d := range []json.RawMessage{dates.Exp, dates.Iat, dates.Nbf} {
		if d != nil && !(d[0] == '-' || '0' <= d[0] && d[0] <= '9') {
			return "a date claim (exp, iat, nbf) is not a json number"
		}
	}
	return ""
}
