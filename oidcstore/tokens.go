package oidcstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// CreateAccessToken returns the access token (op.Storage) of a redeemed
// authorization request (issued by AuthRequestByCode) or issues one to a
// client authenticated for the client_credentials grant
// (AccessTokens.IssueClientCredentials). It returns the token's row id,
// the jti of the JWT op signs, and its expiry.
func (s *Storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	switch r := req.(type) {
	case *AuthRequest:
		pair, err := r.tokens()
		if err != nil {
			return "", time.Time{}, err
		}
		return pair.AccessTokenID.String(), pair.ExpiresAt, nil
	case *clientCredentialsRequest:
		c, err := s.client(ctx, r.clientID)
		if err != nil {
			return "", time.Time{}, toOIDC(err)
		}
		row, _, err := s.store.AccessTokens.IssueClientCredentials(ctx, c, r.scopes)
		if err != nil {
			return "", time.Time{}, toOIDC(err)
		}
		return row.ID.String(), row.ExpiresAt, nil
	}
	return "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("token request %T is not supported", req)
}

// CreateAccessAndRefreshTokens returns an access token and a refresh token
// (op.Storage): the first pair of a redeemed authorization request (issued
// by AuthRequestByCode), or the rotation of currentRefreshToken
// (RefreshTokens.Rotate: of concurrent rotations of one token exactly one
// succeeds; a used token revokes its family, unless within the reuse
// interval). It returns the access token's row id (the JWT's jti), the
// refresh token (only its digest is stored) and the access token's expiry.
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	var pair *repositories.TokenPair
	var err error
	switch r := req.(type) {
	case *AuthRequest:
		pair, err = r.tokens()
	case *RefreshTokenRequest:
		var c repositories.AuthenticatedClient
		if c, err = s.client(ctx, r.GetClientID()); err == nil {
			pair, err = s.store.RefreshTokens.Rotate(ctx, c, currentRefreshToken, r.current)
		}
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("token request %T is not supported", req)
	}
	if err != nil {
		return "", "", time.Time{}, toOIDC(err)
	}
	return pair.AccessTokenID.String(), pair.RefreshToken, pair.ExpiresAt, nil
}

// RefreshTokenRequest is the grant a refresh token continues, as op sees
// it (it implements op.RefreshTokenRequest).
type RefreshTokenRequest struct {
	in       repositories.Inspection
	audience []string
	current  []string
}

var _ op.RefreshTokenRequest = (*RefreshTokenRequest)(nil)

// GetAMR returns how the person logged in for the grant (RFC 8176 values
// such as "pwd", "otp"): the authorization request's AMR, which the refresh
// token keeps through rotation, so a refreshed ID token's amr is the
// original login's, neither upgraded nor lost. It is nil for a token issued
// before migration 000009 or without a login.
func (r *RefreshTokenRequest) GetAMR() []string { return slices.Clone(r.in.AMR) }

// GetAudience returns the client's id and its further audiences.
func (r *RefreshTokenRequest) GetAudience() []string { return slices.Clone(r.audience) }

// GetAuthTime returns when the person logged in for the grant: the
// authorization request's auth time, which the refresh token keeps through
// rotation, so a refreshed ID token's auth_time is the original
// authentication's (OpenID Connect Core 12.2). It is the zero time (no
// auth_time claim) for a token issued before migration 000009 or without a
// login.
func (r *RefreshTokenRequest) GetAuthTime() time.Time {
	if r.in.AuthTime == nil {
		return time.Time{}
	}
	return *r.in.AuthTime
}

// GetClientID returns the client the token was issued to.
func (r *RefreshTokenRequest) GetClientID() string { return r.in.ClientID.String() }

// GetScopes returns the grant's scopes, or those SetCurrentScopes
// narrowed them to.
func (r *RefreshTokenRequest) GetScopes() []string {
	if r.current != nil {
		return slices.Clone(r.current)
	}
	return slices.Clone(r.in.Scopes)
}

// GetSubject returns the user's id.
func (r *RefreshTokenRequest) GetSubject() string { return r.in.Subject }

// SetCurrentScopes narrows the access token of the rotation to scopes;
// the new refresh token keeps the grant's (SECURITY 38).
func (r *RefreshTokenRequest) SetCurrentScopes(scopes []string) { r.current = slices.Clone(scopes) }

// TokenRequestByRefreshToken returns the grant of a refresh token
// (op.Storage) without consuming it: the rotation
// (CreateAccessAndRefreshTokens) does. A used token is returned too, so
// that its rotation sees the reuse and revokes the family; an unknown,
// revoked or expired one is invalid_grant.
func (s *Storage) TokenRequestByRefreshToken(ctx context.Context, refreshToken string) (op.RefreshTokenRequest, error) {
	in, err := s.store.Tokens.Inspect(ctx, refreshToken)
	if err != nil {
		return nil, toOIDC(err)
	}
	if in.TokenType != repositories.TokenTypeRefresh || (in.State != repositories.TokenActive && in.State != repositories.TokenUsed) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token is not active")
	}
	c, err := s.store.Clients.Find(ctx, in.ClientID)
	if err != nil {
		return nil, toOIDC(err)
	}
	return &RefreshTokenRequest{in: in, audience: audience(c)}, nil
}

// TerminateSession ends a person's session at the provider for a client
// (op.Storage): it revokes every token of the user's grants to the client
// (Grants.Revoke) and ends the user's login sessions (Sessions), so the
// next authorization request asks them to log in again.
func (s *Storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	uid := models.UUID(userID)
	if userID == "" {
		return nil // no id_token_hint: nobody to log out
	}
	if clientID != "" {
		if _, err := s.store.Grants.Revoke(ctx, uid, models.UUID(clientID)); err != nil && !errors.Is(err, repositories.ErrNotFound) {
			return toOIDC(err)
		}
	}
	if _, err := s.store.Sessions.RevokeForUser(ctx, uid); err != nil && !errors.Is(err, repositories.ErrNotFound) {
		return toOIDC(err)
	}
	return nil
}

// TerminateSessionFromRequest ends the session of the end-session request
// as TerminateSession does (op.CanTerminateSessionFromRequest) and returns
// the redirect URI op validated against the client's post-logout URIs.
func (s *Storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if err := s.TerminateSession(ctx, req.UserID, req.ClientID); err != nil {
		return "", err
	}
	return req.RedirectURI, nil
}

// refreshPrefix marks the token id GetRefreshTokenInfo returns for a
// refresh token, which RevokeToken receives back.
const refreshPrefix = "refresh:"

// GetRefreshTokenInfo tells op's revocation endpoint whether token is a
// refresh token of the client (op.Storage); it returns
// op.ErrInvalidRefreshToken for anything else.
func (s *Storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	in, err := s.store.Tokens.Inspect(ctx, token)
	if err != nil {
		return "", "", toOIDC(err)
	}
	if in.TokenType != repositories.TokenTypeRefresh {
		return "", "", op.ErrInvalidRefreshToken
	}
	return in.Subject, refreshPrefix + token, nil
}

// RevokeToken revokes a token for the client that asks (op.Storage, RFC
// 7009): a refresh token revokes its whole grant (RefreshTokens.Revoke),
// an access token its row (AccessTokens.Revoke). A token of another client
// is invalid_client and revokes nothing; an unknown token is success.
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	c, err := s.client(ctx, clientID)
	if err != nil {
		return oidc.ErrInvalidClient().WithParent(err)
	}
	if token, ok := strings.CutPrefix(tokenOrID, refreshPrefix); ok {
		if err := s.store.RefreshTokens.Revoke(ctx, c, token); err != nil {
			return revocationError(err)
		}
		return nil
	}
	jti := models.UUID(tokenOrID)
	in, err := s.store.Tokens.InspectJTI(ctx, jti)
	switch {
	case errors.Is(err, repositories.ErrNotFound), errors.Is(err, repositories.ErrInvalidInput):
		return nil // not a token of ours: nothing to revoke
	case err != nil:
		return oidc.ErrServerError().WithParent(err)
	case in.ClientID != c.ID():
		return oidc.ErrInvalidClient().WithDescription("token was issued to another client")
	}
	if err := s.store.AccessTokens.Revoke(ctx, jti); err != nil {
		return revocationError(err)
	}
	return nil
}

// revocationError is the OAuth error of a failed revocation.
func revocationError(err error) *oidc.Error {
	if errors.Is(err, repositories.ErrInvalidCredentials) {
		return oidc.ErrInvalidClient().WithDescription("token was issued to another client").WithParent(err)
	}
	return oidc.ErrServerError().WithParent(err)
}

// SetIntrospectionFromToken answers an introspection request (op.Storage,
// RFC 7662) about the access token with row tokenID, for clientID: the
// token is active only if its row is (not revoked, not expired) and the
// client is the token's or one of its audiences; the response then holds
// the row's scopes, client, subject, times and jti, and the user's claims
// its scopes allow.
func (s *Storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	in, err := s.activeAccess(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	c, err := s.store.Clients.Find(ctx, in.ClientID)
	if err != nil {
		return toOIDC(err)
	}
	aud := audience(c)
	if !slices.Contains(aud, clientID) {
		return errors.New("oidcstore: the token is not for the introspecting client")
	}
	info := new(oidc.UserInfo)
	if err := s.setUserinfo(ctx, info, in.Subject, in.UserID, in.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = in.Scopes
	resp.ClientID = in.ClientID.String()
	resp.TokenType = oidc.BearerToken
	resp.Subject = in.Subject
	resp.Audience = aud
	resp.IssuedAt = oidc.FromTime(in.IssuedAt)
	if in.ExpiresAt != nil {
		resp.Expiration = oidc.FromTime(*in.ExpiresAt)
	}
	resp.JWTID = in.ID.String()
	return nil
}

// activeAccess returns the inspection of an active access token whose
// subject is subject: its row is the authority (revoked or expired rows
// are refused although the JWT op verified is still good).
func (s *Storage) activeAccess(ctx context.Context, tokenID, subject string) (repositories.Inspection, error) {
	in, err := s.store.Tokens.InspectJTI(ctx, models.UUID(tokenID))
	if err != nil {
		return repositories.Inspection{}, toOIDC(err)
	}
	if !in.Active || in.TokenType != repositories.TokenTypeAccess {
		return repositories.Inspection{}, oidc.ErrInvalidRequest().WithDescription("access token is not active")
	}
	if subject != "" && subject != in.Subject {
		return repositories.Inspection{}, oidc.ErrInvalidRequest().WithDescription("access token subject differs from its row")
	}
	return in, nil
}
