package protocol

// The length of the largest access token the library can issue, derived
// from the limits on what goes into one, so that ParseAccessToken accepts
// every token SignAccessToken makes (issue 11, class 5). The parts are
// counted at their worst: JSON escapes '<', '>' and '&' (and a control
// character) as six bytes (\u003c), and base64url makes 4 bytes of 3.
//
// Headroom is left for the signing keys the library is gaining (asymmetric
// RS256, ES256, EdDSA): a kid header of up to MaxKeyIDLength bytes, an RSA
// 4096 signature (512 bytes; ES256 and EdDSA are 64, HS256 32), and an
// issuer and an audience of up to MaxIssuerLength bytes each, though
// today's tokens carry a 36-byte client id as their audience.
//
// At these limits a token is at most MaxJWTLength (14,595 bytes); a typical
// one, a few scopes and a short issuer, is under 500 bytes.
const (
	// MaxIssuerLength bounds the issuer (JWT_ISSUER, the iss claim), and
	// the audience a token names, in bytes.
	MaxIssuerLength = 255
	// MaxKeyIDLength bounds the kid header of a signing key, in bytes.
	MaxKeyIDLength = 128
	// maxSignatureLength is the longest signature: RSA with a 4096-bit key.
	maxSignatureLength = 512
	// maxIDLength bounds sub, jti and client_id: 36-byte UUIDs today.
	maxIDLength = 64
	// maxDateLength bounds exp, iat and nbf: 253402300799 (year 9999) is 12
	// digits.
	maxDateLength = 20
	// jsonEscape is the most bytes JSON writes for one byte of a string.
	jsonEscape = 6

	// maxHeaderJSON is the header: alg (at most 5 bytes: RS256, EdDSA),
	// typ (at+jwt) and kid, with their names, quotes and punctuation.
	maxHeaderJSON = 64 + jsonEscape*MaxKeyIDLength
	// maxClaimsJSON is the payload: iss and aud (aud may be a list of one),
	// sub, jti and client_id, three dates and scope, with 128 bytes for
	// the names, quotes and punctuation of the nine claims.
	maxClaimsJSON = 128 + 2*(4+jsonEscape*MaxIssuerLength) + 3*(2+maxIDLength) + 3*maxDateLength + 2 + jsonEscape*MaxScopeListLength

	// MaxJWTLength bounds a presented JWT: longer input is refused before
	// it is parsed. It is the length of the largest token the library can
	// issue: the header, the payload and the signature at their limits, in
	// unpadded base64url, and the two dots.
	// (Unpadded base64url of n bytes is (4n+2)/3 characters.)
	MaxJWTLength = (4*maxHeaderJSON+2)/3 + 1 + (4*maxClaimsJSON+2)/3 + 1 + (4*maxSignatureLength+2)/3
)
