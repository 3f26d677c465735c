// Package protocol holds the OAuth2 rules that need no database: the
// grant types, access-token JWT claims with their signing and verification
// (RFC 9068), the redirect-URI policy (RFC 9700 2.1, RFC 8252 7), the scope
// grammar (RFC 6749 3.3) and PKCE S256 (RFC 7636).
//
// It imports neither GORM nor any authstore package. Its functions return
// plain errors that say what is wrong and never hold a secret; package
// repositories wraps them in its sentinels (ErrInvalidInput,
// ErrInvalidCredentials, ErrExpired).
package protocol
