package protocol

// The grant types a client may register (RFC 6749; "personal_access" is
// the grant of a personal access client).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPersonalAccess    = "personal_access"
)

// TokenTypeBearer is the token_type of every issued access token (RFC 6750).
const TokenTypeBearer = "Bearer"

// GrantTypes returns the grant types a client may register, in a new slice.
func GrantTypes() []string {
	return []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantPersonalAccess}
}

// KnownGrantType reports whether g is one of GrantTypes.
func KnownGrantType(g string) bool {
	switch g {
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantPersonalAccess:
		return true
	}
	return false
}
