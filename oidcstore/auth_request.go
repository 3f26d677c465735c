package oidcstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// AuthRequest is a pending authorization request as op sees it (it
// implements op.AuthRequest), over its row of oauth_auth_requests. Its
// audience is the client and the client's further audiences.
type AuthRequest struct {
	row      models.AuthRequest
	audience []string
	// pair holds the tokens the redemption of the request's code issued
	// (AuthRequestByCode), until op asks for them.
	pair *repositories.TokenPair
}

var _ op.AuthRequest = (*AuthRequest)(nil)

// Row returns a copy of the request's row.
func (a *AuthRequest) Row() models.AuthRequest { return a.row }

// GetID returns the request's id.
func (a *AuthRequest) GetID() string { return a.row.ID.String() }

// GetACR returns "": authstore records no authentication context class.
func (a *AuthRequest) GetACR() string { return "" }

// GetAMR returns how the person logged in (RFC 8176 values).
func (a *AuthRequest) GetAMR() []string { return slices.Clone(a.row.AMR) }

// GetAudience returns the client's id and its further audiences.
func (a *AuthRequest) GetAudience() []string { return slices.Clone(a.audience) }

// GetAuthTime returns when the person logged in, or the zero time.
func (a *AuthRequest) GetAuthTime() time.Time {
	if a.row.AuthTime == nil {
		return time.Time{}
	}
	return *a.row.AuthTime
}

// GetClientID returns the client's id.
func (a *AuthRequest) GetClientID() string { return a.row.ClientID.String() }

// GetCodeChallenge returns the PKCE challenge, or nil.
func (a *AuthRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.row.CodeChallenge == nil {
		return nil
	}
	method := oidc.CodeChallengeMethodS256
	if a.row.CodeChallengeMethod != nil {
		method = oidc.CodeChallengeMethod(*a.row.CodeChallengeMethod)
	}
	return &oidc.CodeChallenge{Challenge: *a.row.CodeChallenge, Method: method}
}

// GetNonce returns the client's nonce.
func (a *AuthRequest) GetNonce() string { return a.row.Nonce }

// GetRedirectURI returns the redirect URI of the request.
func (a *AuthRequest) GetRedirectURI() string { return a.row.RedirectURI }

// GetResponseType returns the response type (code).
func (a *AuthRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.row.ResponseType)
}

// GetResponseMode returns the response mode asked for, or "".
func (a *AuthRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.row.ResponseMode)
}

// GetScopes returns the scopes asked for.
func (a *AuthRequest) GetScopes() []string { return slices.Clone(a.row.Scopes) }

// GetState returns the client's state.
func (a *AuthRequest) GetState() string { return a.row.State }

// GetSubject returns the id of the user who logged in, or "".
func (a *AuthRequest) GetSubject() string {
	if a.row.UserID == nil {
		return ""
	}
	return a.row.UserID.String()
}

// Done reports whether a person logged in for the request.
func (a *AuthRequest) Done() bool { return a.row.Done }

// CreateAuthRequest records the authorization request op validated
// (op.Storage). userID, from an id_token_hint, is not used: the person logs
// in on the login page.
func (s *Storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	in := repositories.AuthRequestInput{
		ClientID:     models.UUID(req.ClientID),
		RedirectURI:  req.RedirectURI,
		Scopes:       req.Scopes,
		State:        req.State,
		Nonce:        req.Nonce,
		ResponseType: string(req.ResponseType),
		ResponseMode: string(req.ResponseMode),
		Prompt:       req.Prompt,
		LoginHint:    req.LoginHint,
		Lifetime:     s.lifetime,
	}
	if req.CodeChallenge != "" {
		in.CodeChallenge, in.CodeChallengeMethod = req.CodeChallenge, string(req.CodeChallengeMethod)
	}
	if req.MaxAge != nil {
		age := int64(*req.MaxAge)
		in.MaxAge = &age
	}
	row, err := s.store.AuthRequests.Create(ctx, in)
	if err != nil {
		return nil, toOIDC(err)
	}
	return s.authRequest(ctx, row)
}

// authRequest wraps a row with its audience.
func (s *Storage) authRequest(ctx context.Context, row *models.AuthRequest) (*AuthRequest, error) {
	c, err := s.store.Clients.Find(ctx, row.ClientID)
	if err != nil {
		return nil, toOIDC(err)
	}
	return &AuthRequest{row: *row, audience: audience(c)}, nil
}

// audience is the client's id and its further audiences.
func audience(c *models.Client) []string {
	out := []string{c.ID.String()}
	for _, a := range c.Audiences {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// AuthRequestByID returns a pending request (op.Storage), for the login
// page and op's callback. An unknown, malformed, expired or revoked id is
// an error.
func (s *Storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	row, err := s.store.AuthRequests.Find(ctx, models.UUID(id))
	if err != nil {
		return nil, toOIDC(err)
	}
	return s.authRequest(ctx, row)
}

// AuthRequestByCode redeems a code and returns its request (op.Storage).
// The read consumes the code and issues its tokens in one transaction
// (AuthRequests.Redeem): of any number of token requests presenting one
// code, exactly one gets the request, and a replayed code revokes the
// tokens its first redemption issued. The tokens stay in the returned
// request, which op hands back to CreateAccessToken or
// CreateAccessAndRefreshTokens once it has checked the client, the
// redirect URI and the PKCE verifier.
func (s *Storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	row, pair, err := s.store.AuthRequests.Redeem(ctx, code)
	if err != nil {
		return nil, toOIDC(err)
	}
	a, err := s.authRequest(ctx, row)
	if err != nil {
		return nil, err
	}
	a.pair = pair
	return a, nil
}

// tokens returns the tokens the redemption of the request's code issued,
// or an error for a request op did not read by its code.
func (a *AuthRequest) tokens() (*repositories.TokenPair, error) {
	if a.pair == nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("the authorization request's code was not redeemed")
	}
	return a.pair, nil
}

// SaveAuthCode records the digest of the code op issued for a request
// (op.Storage).
func (s *Storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return toOIDC(s.store.AuthRequests.SaveCode(ctx, models.UUID(id), code))
}

// DeleteAuthRequest deletes a request whose code was not redeemed
// (op.Storage); a redeemed one is kept until it expires, for replay
// detection.
func (s *Storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return toOIDC(s.store.AuthRequests.Delete(ctx, models.UUID(id)))
}

// CompleteAuthRequest records that userID logged in for the pending
// authorization request (auth time, AMR such as "pwd"), after which the
// provider's callback (op.AuthCallbackURL) issues the code. It returns the
// errors of AuthRequests.Complete (repositories.ErrNotFound,
// ErrExpired, ErrUsed, ErrMissingReferent, ErrInvalidInput), unchanged.
func (s *Storage) CompleteAuthRequest(ctx context.Context, authRequestID string, userID models.UUID, authTime time.Time, amr []string) error {
	if err := s.store.AuthRequests.Complete(ctx, models.UUID(authRequestID), userID, authTime, amr); err != nil {
		return fmt.Errorf("oidcstore: %w", err)
	}
	return nil
}

// CompleteAuthRequestFromSession records that the person of a live login
// session logged in for the pending authorization request without a login
// page (single sign-on): AuthRequests.CompleteFromSession, which writes a
// login.session activity row in the same transaction. It returns that
// method's errors, unchanged.
func (s *Storage) CompleteAuthRequestFromSession(ctx context.Context, authRequestID string, session *models.Session, amr []string) error {
	if err := s.store.AuthRequests.CompleteFromSession(ctx, models.UUID(authRequestID), session, amr); err != nil {
		return fmt.Errorf("oidcstore: %w", err)
	}
	return nil
}

// toOIDC turns a repository error into the OAuth error op answers with:
// a bad code, token or request is invalid_grant, a failed client
// authentication invalid_client, a missing grant type
// unauthorized_client, a scope invalid_scope and other invalid input
// invalid_request, each wrapping err (errors.Is still finds the
// sentinel); anything else, a database failure, is server_error. The
// descriptions name no secret: repository errors never do.
func toOIDC(err error) error {
	if err == nil {
		return nil
	}
	var e *oidc.Error
	if errors.As(err, &e) {
		return err
	}
	var out *oidc.Error
	switch {
	case errors.Is(err, repositories.ErrNotFound), errors.Is(err, repositories.ErrExpired),
		errors.Is(err, repositories.ErrRevoked), errors.Is(err, repositories.ErrUsed),
		errors.Is(err, repositories.ErrReused), errors.Is(err, repositories.ErrMissingReferent):
		out = oidc.ErrInvalidGrant()
	case errors.Is(err, repositories.ErrInvalidCredentials):
		out = oidc.ErrInvalidClient()
	case errors.Is(err, repositories.ErrUnauthorizedClient):
		out = oidc.ErrUnauthorizedClient()
	case errors.Is(err, repositories.ErrInvalidScope):
		out = oidc.ErrInvalidScope()
	case errors.Is(err, repositories.ErrInvalidInput):
		out = oidc.ErrInvalidRequest()
	default:
		return oidc.ErrServerError().WithParent(err)
	}
	return out.WithDescription("%s", describe(err)).WithParent(err)
}

// describe is the part of err's message after the operation's name.
func describe(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
