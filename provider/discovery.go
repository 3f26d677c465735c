package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/forgeauth/authstore/repositories"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// supportedClaims are the claims the provider's discovery document lists
// (claims_supported): those of its ID tokens (iss, sub, aud, exp, iat,
// auth_time, nonce, amr, azp, client_id, at_hash, c_hash) and those
// userinfo and the ID token carry by scope (oidcstore: email and
// email_verified with email, name with profile). authstore records no acr
// and serves no phone, address or other profile claim.
var supportedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "client_id", "at_hash", "c_hash",
	"name", "email", "email_verified",
}

// discovery serves the provider's discovery document
// (/.well-known/openid-configuration) as op builds it, corrected where op
// lists what authstore does not serve. op hard-codes some of its values
// whatever the storage: the response types id_token and "id_token token",
// the implicit and JWT profile (jwt-bearer) grants, the device
// authorization endpoint and RS256 for private_key_jwt authentication at
// introspection and revocation. Every other value is op's, derived from
// the provider's configuration and storage (scopes, claims, signing
// algorithms of the published keys, authentication methods, PKCE S256).
type discovery struct {
	// provider is set once op.NewProvider returned; the interceptor reads
	// it at request time (op builds its middleware chain before).
	provider *op.Provider
}

// intercept is the op.HttpInterceptor that corrects the discovery
// document; every other request goes to next untouched.
func (d *discovery) intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != oidc.DiscoveryEndpoint || d.provider == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: make(http.Header), status: http.StatusOK}
		next.ServeHTTP(rec, r)
		var doc oidc.DiscoveryConfiguration
		if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &doc) != nil {
			rec.copyTo(w, rec.body.Bytes())
			return
		}
		correctDiscovery(&doc, d.provider)
		body, err := json.Marshal(&doc)
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		rec.copyTo(w, append(body, '\n'))
	})
}

// correctDiscovery removes from doc what p's endpoints refuse.
func correctDiscovery(doc *oidc.DiscoveryConfiguration, p *op.Provider) {
	// authstore's clients register the code response type alone
	// (repositories.ResponseTypeCode) and the authorize endpoint answers
	// any other with unauthorized_client: no implicit or hybrid flow.
	doc.ResponseTypesSupported = []string{repositories.ResponseTypeCode}
	// The implicit grant goes with those response types; the JWT profile
	// grant is refused by the storage (ValidateJWTProfileScopes).
	doc.GrantTypesSupported = slices.DeleteFunc(doc.GrantTypesSupported, func(g oidc.GrantType) bool {
		return g == oidc.GrantTypeImplicit || g == oidc.GrantTypeBearer
	})
	if !p.GrantTypeDeviceCodeSupported() {
		doc.DeviceAuthorizationEndpoint = ""
	}
	// No check-session iframe is served.
	doc.CheckSessionIframe = ""
	// Signing algorithms of client authentication only where a method
	// that signs (private_key_jwt) is listed.
	if !slices.Contains(doc.TokenEndpointAuthMethodsSupported, oidc.AuthMethodPrivateKeyJWT) {
		doc.TokenEndpointAuthSigningAlgValuesSupported = nil
	}
	if !slices.Contains(doc.IntrospectionEndpointAuthMethodsSupported, oidc.AuthMethodPrivateKeyJWT) {
		doc.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	}
	if !slices.Contains(doc.RevocationEndpointAuthMethodsSupported, oidc.AuthMethodPrivateKeyJWT) {
		doc.RevocationEndpointAuthSigningAlgValuesSupported = nil
	}
	if !doc.RequestParameterSupported {
		doc.RequestObjectSigningAlgValuesSupported = nil
	}
}

// recorder keeps op's discovery response to correct it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// copyTo writes the recorded response to w with body: op's headers (its
// content type, and any a wrapping handler set on w stay), a length for
// body.
func (r *recorder) copyTo(w http.ResponseWriter, body []byte) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(r.status)
	_, _ = w.Write(body)
}
