package oidcstore

import (
	"context"
	"slices"

	"github.com/forgeauth/authstore/models"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// SetUserinfoFromScopes does nothing (op.Storage): op deprecates it for
// SetUserinfoFromRequest, which sets the ID token's claims.
func (s *Storage) SetUserinfoFromScopes(ctx context.Context, info *oidc.UserInfo, userID, clientID string, scopes []string) error {
	return nil
}

// SetUserinfoFromRequest sets the ID token's claims
// (op.CanSetUserinfoFromRequest) from the users table: sub, and with the
// email scope email and email_verified, with the profile scope name.
func (s *Storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	uid := models.UUID(req.GetSubject())
	return s.setUserinfo(ctx, info, req.GetSubject(), &uid, scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint (op.Storage) for the
// access token with row tokenID: the row must be active (a revoked token
// gets nothing although its JWT is still good) and belong to subject; the
// claims are its user's, as its scopes allow.
func (s *Storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	in, err := s.activeAccess(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if in.UserID == nil {
		return oidc.ErrInvalidRequest().WithDescription("the token has no user")
	}
	return s.setUserinfo(ctx, info, in.Subject, in.UserID, in.Scopes)
}

// setUserinfo sets sub, and the claims scopes allow, of the user with
// userID (nil for a client's own token: sub alone).
func (s *Storage) setUserinfo(ctx context.Context, info *oidc.UserInfo, subject string, userID *models.UUID, scopes []string) error {
	info.Subject = subject
	if userID == nil {
		return nil
	}
	email, profile := slices.Contains(scopes, oidc.ScopeEmail), slices.Contains(scopes, oidc.ScopeProfile)
	if !email && !profile {
		return nil
	}
	u, err := s.store.Users.FindByID(ctx, *userID)
	if err != nil {
		return toOIDC(err)
	}
	if email {
		info.Email = u.Email
		info.EmailVerified = oidc.Bool(u.EmailVerifiedAt != nil)
	}
	if profile {
		info.Name = u.Name
	}
	return nil
}

// GetPrivateClaimsFromScopes returns no private claims for JWT access
// tokens (op.Storage): the token's row holds its scopes and subject.
func (s *Storage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	return nil, nil
}
