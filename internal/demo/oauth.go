package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
)

// oauth walks the OAuth2 flows for the user the authentication flow made.
func (r *runner) oauth(ctx context.Context) error {
	s := r.s
	userID := models.UUID(r.rep.UserID)
	scopes := []string{"profile", "email"}

	web, webSecret, err := s.Clients.Create(ctx, repositories.ClientInput{
		Name: ClientPrefix + "web app", RedirectURIs: []string{"https://app.example.com/callback"}, Confidential: true, Scopes: scopes,
		GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken, protocol.GrantClientCredentials},
	})
	if err != nil {
		return err
	}
	r.secret("confidential_client_secret", webSecret)
	r.rep.ClientIDs = append(r.rep.ClientIDs, web.ID.String())
	r.step("confidential client", "client %s created; secret shown once, stored as Argon2id", web.ID)

	native, _, err := s.Clients.Create(ctx, repositories.ClientInput{
		Name: ClientPrefix + "native app", RedirectURIs: []string{"com.example.app:/oauth/callback"}, Scopes: scopes,
		GrantTypes: []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken},
	})
	if err != nil {
		return err
	}
	r.rep.ClientIDs = append(r.rep.ClientIDs, native.ID.String())
	// A token endpoint authenticates the client first; the token calls take
	// what that returns. A public client authenticates by its id alone.
	nativeAuth, err := s.Clients.Authenticate(ctx, native.ID, "")
	if err != nil {
		return err
	}
	r.step("public client", "client %s created; no secret, PKCE required", native.ID)

	verifier, err := protocol.NewVerifier()
	if err != nil {
		return err
	}
	r.secret("pkce_verifier_secret", verifier)
	redirect := native.RedirectURIs[0]
	_, code, err := s.AuthCodes.Create(ctx, repositories.AuthCodeInput{
		ClientID: native.ID, UserID: userID, RedirectURI: redirect, Scopes: scopes,
		CodeChallenge: protocol.S256Challenge(verifier), CodeChallengeMethod: protocol.PKCEMethodS256,
	})
	if err != nil {
		return err
	}
	r.secret("authorization_code", code)
	r.step("authorization code", "code issued to the public client with an S256 challenge (expires in %s)", s.Config().AuthCodeLifetime)

	pair, err := s.AuthCodes.Exchange(ctx, nativeAuth, code, redirect, verifier)
	if err != nil {
		return err
	}
	r.secret("access_token", pair.AccessToken)
	r.secret("refresh_token", pair.RefreshToken)
	r.step("code exchange", "verifier checked; access token %s and a refresh token issued (family %s)", pair.AccessTokenID, pair.FamilyID)

	claims, err := s.AccessTokens.Validate(ctx, pair.AccessToken)
	if err != nil {
		return err
	}
	r.step("validate access token", "signature, expiry, issuer and jti row ok: sub=%s scope=%q", claims.Subject, claims.Scope)

	rotated, err := s.RefreshTokens.Rotate(ctx, nativeAuth, pair.RefreshToken, nil)
	if err != nil {
		return err
	}
	r.secret("rotated_access_token", rotated.AccessToken)
	r.secret("rotated_refresh_token", rotated.RefreshToken)
	r.step("rotate refresh token", "old refresh token marked used; new pair issued in the same family")

	if _, err := s.RefreshTokens.Rotate(ctx, nativeAuth, pair.RefreshToken, nil); !errors.Is(err, repositories.ErrReused) {
		return fmt.Errorf("demo: replayed refresh token was not detected: %v", err)
	}
	if _, err := s.AccessTokens.Validate(ctx, rotated.AccessToken); !errors.Is(err, repositories.ErrRevoked) {
		return fmt.Errorf("demo: family survived refresh-token reuse: %v", err)
	}
	r.step("replay old refresh token", "reuse detected; every token of the family revoked")

	webAuth, err := s.Clients.Authenticate(ctx, web.ID, webSecret)
	if err != nil {
		return err
	}
	if _, err := s.Clients.Authenticate(ctx, web.ID, webSecret+"x"); !errors.Is(err, repositories.ErrInvalidCredentials) {
		return fmt.Errorf("demo: wrong client secret was accepted: %v", err)
	}
	_, cc, err := s.AccessTokens.IssueClientCredentials(ctx, webAuth, []string{"profile"})
	if err != nil {
		return err
	}
	r.secret("client_credentials_access_token", cc)
	r.step("client credentials", "secret verified (a wrong one refused); access token issued to the client")

	row, pat, err := s.PersonalTokens.Create(ctx, userID, "demo script", []string{"profile"}, nil)
	if err != nil {
		return err
	}
	r.secret("personal_access_token", pat)
	if _, err := s.PersonalTokens.Find(ctx, pat); err != nil {
		return err
	}
	r.step("personal access token", "token %s… created (digest stored) and looked up", strings.TrimSuffix(row.Prefix, "…"))
	return nil
}
