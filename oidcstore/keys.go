package oidcstore

import (
	"context"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// signingKey is the Store's current signing key as op signs with it.
type signingKey struct {
	jwk jose.JSONWebKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.jwk.Algorithm)
}
func (k signingKey) Key() any   { return k.jwk.Key }
func (k signingKey) ID() string { return k.jwk.KeyID }

// publicKey is a published key of the JWKS as op serves it.
type publicKey struct {
	jwk jose.JSONWebKey
}

func (k publicKey) ID() string { return k.jwk.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.jwk.Algorithm)
}
func (k publicKey) Use() string { return "sig" }
func (k publicKey) Key() any    { return k.jwk.Key }

// SigningKey returns the Store's current signing key (op.Storage;
// SigningKeys.Current): ID tokens and JWT access tokens are signed with
// it, with its kid and pinned algorithm. A next key whose publish delay
// has passed becomes current first, so a rotation reaches the provider
// without a restart.
func (s *Storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	jwk, err := s.store.Keys.Current(ctx)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return signingKey{jwk: jwk}, nil
}

// SignatureAlgorithms returns the algorithms of the published keys
// (op.Storage), for discovery.
func (s *Storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	keys, err := s.publishedKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []jose.SignatureAlgorithm
	for _, k := range keys {
		alg := jose.SignatureAlgorithm(k.Algorithm)
		if !contains(out, alg) {
			out = append(out, alg)
		}
	}
	return out, nil
}

// KeySet returns the published public keys (op.Storage): the JWKS of the
// Store's signing keys (SigningKeys.JWKS: next, current and retired keys
// not yet removed), so tokens signed before a rotation still verify.
func (s *Storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.publishedKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{jwk: k}
	}
	return out, nil
}

// publishedKeys decodes the Store's JWKS.
func (s *Storage) publishedKeys(ctx context.Context) ([]jose.JSONWebKey, error) {
	set, err := s.store.Keys.JWKS(ctx)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(set.JSON, &jwks); err != nil {
		return nil, oidc.ErrServerError().WithParent(fmt.Errorf("oidcstore: jwks: %w", err))
	}
	return jwks.Keys, nil
}

// GetKeyByIDAndClientID is for the JWT profile grant and private_key_jwt
// client authentication (op.Storage), which authstore does not serve: it
// always returns an error.
func (s *Storage) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrInvalidClient().WithDescription("private_key_jwt and the JWT profile grant are not supported")
}

// ValidateJWTProfileScopes is for the JWT profile grant (op.Storage),
// which authstore does not serve: it always returns an error.
func (s *Storage) ValidateJWTProfileScopes(ctx context.Context, userID string, scopes []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("the JWT profile grant is not supported")
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
