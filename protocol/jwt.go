package protocol

import (
	"crypto"
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

// NewAudienceClaims returns the claims of an RFC 9068 access token: those
// of NewClaims, with audience (the resource server) as aud in place of
// the client id, which stays in client_id.
func NewAudienceClaims(issuer, audience, subject, clientID, jti string, scopes []string, iat, exp time.Time) Claims {
	c := NewClaims(issuer, subject, clientID, jti, scopes, iat, exp)
	c.Audience = jwt.ClaimStrings{audience}
	return c
}

// AlgorithmHS256 is the "alg" of the legacy access tokens signed with
// JWT_SECRET.
const AlgorithmHS256 = "HS256"

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
	return parseAccessToken(token, jwt.SigningMethodHS256.Alg(), key, issuer, now)
}

// ParseAccessTokenWith is ParseAccessToken for a token signed with an
// asymmetric key: the algorithm is pinned to alg (RS256, ES256 or EdDSA, the
// key's), so "none", HS256 with the public key as its secret and every
// other algorithm are refused, and the signature must verify with pub.
func ParseAccessTokenWith(token, alg string, pub crypto.PublicKey, issuer string, now func() time.Time) (*Claims, error) {
	if signingMethod(alg) == nil || pub == nil {
		return nil, fmt.Errorf("%w: unsupported algorithm", ErrTokenInvalid)
	}
	return parseAccessToken(token, alg, pub, issuer, now)
}

// parseAccessToken verifies token signed with alg under key.
func parseAccessToken(token, alg string, key any, issuer string, now func() time.Time) (*Claims, error) {
	if len(token) > MaxJWTLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrTokenInvalid, MaxJWTLength)
	}
	if problem := compactProblem(token); problem != "" {
		return nil, fmt.Errorf("%w: %s", ErrTokenInvalid, problem)
	}
	claims := &Claims{}
	_, err := jwt.NewParser(
		jwt.WithStrictDecoding(),
		jwt.WithValidMethods([]string{alg}),
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

// SignAccessTokenWith signs c as a JWT of type at+jwt with an asymmetric
// private key (*rsa.PrivateKey for RS256, *ecdsa.PrivateKey on P-256 for
// ES256, ed25519.PrivateKey for EdDSA), naming kid in its header.
func SignAccessTokenWith(alg, kid string, key crypto.PrivateKey, c Claims) (string, error) {
	m := signingMethod(alg)
	if m == nil {
		return "", fmt.Errorf("sign access token: unsupported algorithm %q", alg)
	}
	tok := jwt.NewWithClaims(m, c)
	tok.Header["typ"] = AccessTokenType
	tok.Header["kid"] = kid
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// signingMethod returns golang-jwt's method for an asymmetric algorithm
// authstore signs with, or nil.
func signingMethod(alg string) jwt.SigningMethod {
	switch alg {
	case "RS256":
		return jwt.SigningMethodRS256
	case "ES256":
		return jwt.SigningMethodES256
	case "EdDSA":
		return jwt.SigningMethodEdDSA
	}
	return nil
}

// Header is what a JWT's header says before anything is verified: which
// algorithm and key to verify it with.
type Header struct {
	// Alg is the "alg" header parameter.
	Alg string
	// Kid is the "kid" header parameter, "" when there is none.
	Kid string
}

// PeekHeader reads the header of a JWT without verifying it, after the
// same checks of form as ParseAccessToken, so that a caller can pick the
// key to verify it with. Nothing it returns is to be trusted until the
// token verifies with that key and the algorithm pinned to the key's.
func PeekHeader(token string) (Header, error) {
	if len(token) > MaxJWTLength {
		return Header{}, fmt.Errorf("%w: longer than %d bytes", ErrTokenInvalid, MaxJWTLength)
	}
	if problem := compactProblem(token); problem != "" {
		return Header{}, fmt.Errorf("%w: %s", ErrTokenInvalid, problem)
	}
	raw, err := strictBase64URL.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return Header{}, fmt.Errorf("%w: the header is not strict base64url", ErrTokenInvalid)
	}
	var h struct {
		Alg any `json:"alg"`
		Kid any `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return Header{}, fmt.Errorf("%w: the header is not a json object", ErrTokenInvalid)
	}
	alg, ok := h.Alg.(string)
	if !ok {
		return Header{}, fmt.Errorf("%w: the header has no alg", ErrTokenInvalid)
	}
	kid, ok := h.Kid.(string)
	if !ok && h.Kid != nil {
		return Header{}, fmt.Errorf("%w: the header's kid is not a string", ErrTokenInvalid)
	}
	return Header{Alg: alg, Kid: kid}, nil
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
