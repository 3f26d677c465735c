package repositories

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Clients is the repository of OAuth2 clients (table oauth_clients).
//
// It keeps a bounded, process-local cache of successful secret
// verifications, shared by the values WithTx returns; see
// ValidateCredentials.
type Clients struct {
	base
	verified *verifiedSecrets
}

// NewClients returns the clients repository over db.
func NewClients(db *gorm.DB, opts Options) *Clients {
	return &Clients{base: newBase(db, opts), verified: newVerifiedSecrets(defaultCacheSize)}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints), so
// a caller can combine repositories in one transaction.
func (r *Clients) WithTx(tx *gorm.DB) *Clients {
	return &Clients{base: r.withTx(tx), verified: r.verified}
}

// ClientInput describes a client to register.
type ClientInput struct {
	// Name is shown to users on the consent screen; required.
	Name string
	// RedirectURIs are the URIs codes may be sent to; see
	// protocol.ValidateRedirectURI. A client with the authorization_code grant needs
	// at least one.
	RedirectURIs []string
	// Confidential clients get a secret; public clients (native and
	// browser apps) have none and must use PKCE.
	Confidential bool
	// Scopes, when not empty, are the only scopes the client may be granted.
	Scopes []string
	// GrantTypes default to authorization_code and refresh_token
	// (personal_access for a personal access client).
	GrantTypes []string
	// UserID is the owner, if any.
	UserID *models.UUID
	// PersonalAccessClient marks the client that issues personal tokens.
	PersonalAccessClient bool

	// ProviderMetadata is what an OpenID provider reads of the client.
	ProviderMetadata
}

// ProviderMetadata is what an OpenID provider (package oidcstore) reads
// of a client, beside its redirect URIs, grant types and scopes; each
// field left empty means its default.
type ProviderMetadata struct {
	// ResponseTypes the client may ask for at the authorize endpoint:
	// only "code" is served (the default).
	ResponseTypes []string
	// TokenEndpointAuthMethod is client_secret_basic (the default of a
	// confidential client) or client_secret_post; a public client's is
	// none.
	TokenEndpointAuthMethod string
	// AccessTokenType is "jwt" (the default) or "opaque".
	AccessTokenType string
	// PostLogoutRedirectURIs are where the end-session endpoint may send
	// the browser back to, each as strict as a redirect URI.
	PostLogoutRedirectURIs []string
	// Audiences are further audiences of the client's access tokens, such
	// as the ids of resource servers that introspect them; at most
	// protocol.MaxScopes, each one line.
	Audiences []string
	// IDTokenLifetime is the ID token's lifetime, whole seconds up to a
	// day; zero means the provider's default (an hour).
	IDTokenLifetime time.Duration
}

// providerMetadata returns what a stored client holds of its provider
// metadata, as ProviderMetadata (Export).
func providerMetadata(c *models.Client) ProviderMetadata {
	list := func(s models.Strings) []string {
		if len(s) == 0 {
			return nil // NULL (a row from before 000006) and [] alike
		}
		return slices.Clone(s)
	}
	out := ProviderMetadata{
		ResponseTypes:          list(c.ResponseTypes),
		PostLogoutRedirectURIs: list(c.PostLogoutRedirectURIs),
		Audiences:              list(c.Audiences),
	}
	if c.TokenEndpointAuthMethod != nil {
		out.TokenEndpointAuthMethod = *c.TokenEndpointAuthMethod
	}
	if c.AccessTokenType != nil {
		out.AccessTokenType = *c.AccessTokenType
	}
	if c.IDTokenLifetime != nil {
		out.IDTokenLifetime = time.Duration(*c.IDTokenLifetime) * time.Second
	}
	return out
}

// Create registers a client. A confidential client gets a generated 256-bit
// secret, hashed with Argon2id; the plaintext is returned here once and
// cannot be read back. A public client gets none ("" is returned). The
// creation is recorded in the activity log (event client.created).
//
// Create returns ErrInvalidInput if a field is invalid (the message names
// it) and ErrMissingReferent if UserID names no user.
func (r *Clients) Create(ctx context.Context, in ClientInput) (*models.Client, string, error) {
	const op = "create client"
	c, err := newClientRow(in)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	var secret string
	if in.Confidential {
		if secret, err = newSecretToken(); err != nil {
			return nil, "", fmt.Errorf("%s: %w", op, err)
		}
		hash, err := r.hasher().Hash(secret)
		if err != nil {
			return nil, "", fmt.Errorf("%s: hash secret: %w", op, err)
		}
		c.SecretHash = &hash
	}
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		c.CreatedAt, c.UpdatedAt = now, now
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return record(tx, now, c.UserID, models.EventClientCreated, map[string]any{"client_id": c.ID, "name": c.Name})
	})
	if err != nil {
		return nil, "", Translate(op, err)
	}
	return c, secret, nil
}

// newClientRow validates in and returns the row to insert, without its
// secret and timestamps.
func newClientRow(in ClientInput) (*models.Client, error) {
	name, err := checkName("client name", in.Name)
	if err != nil {
		return nil, err
	}
	if err := validOptionalID("owner user id", in.UserID); err != nil {
		return nil, err
	}
	uris, err := protocol.ValidateRedirectURIs(in.RedirectURIs)
	if err != nil {
		return nil, invalid(err)
	}
	scopes, err := normalizeScopes(in.Scopes)
	if err != nil {
		return nil, err
	}
	grants := in.GrantTypes
	if len(grants) == 0 {
		grants = []string{protocol.GrantAuthorizationCode, protocol.GrantRefreshToken}
		if in.PersonalAccessClient {
			grants = []string{protocol.GrantPersonalAccess}
		}
	}
	var gts models.Strings
	for _, g := range grants {
		if !protocol.KnownGrantType(g) {
			return nil, fmt.Errorf("grant type %q is not one of %s: %w", protocol.Clip(g, 64), strings.Join(protocol.GrantTypes(), ", "), ErrInvalidInput)
		}
		if !gts.Contains(g) {
			gts = append(gts, g)
		}
	}
	if gts.Contains(protocol.GrantClientCredentials) && !in.Confidential {
		return nil, fmt.Errorf("a public client cannot use the client_credentials grant: %w", ErrInvalidInput)
	}
	if gts.Contains(protocol.GrantAuthorizationCode) && len(uris) == 0 {
		return nil, fmt.Errorf("the authorization_code grant needs at least one redirect uri: %w", ErrInvalidInput)
	}
	c := &models.Client{
		ID:                   models.NewUUID(),
		UserID:               in.UserID,
		Name:                 name,
		RedirectURIs:         uris,
		GrantTypes:           gts,
		Scopes:               scopes,
		Confidential:         in.Confidential,
		PersonalAccessClient: in.PersonalAccessClient,
	}
	return c, setProviderMetadata(c, in.ProviderMetadata, in.Confidential)
}

// setProviderMetadata validates the OpenID provider's metadata of a client
// and sets it on c.
func setProviderMetadata(c *models.Client, in ProviderMetadata, confidential bool) error {
	for _, t := range in.ResponseTypes {
		if t != ResponseTypeCode {
			return fmt.Errorf("response type %q is not %q: %w", clip(t, 32), ResponseTypeCode, ErrInvalidInput)
		}
	}
	c.ResponseTypes = append(models.Strings{}, in.ResponseTypes...)
	switch m := in.TokenEndpointAuthMethod; {
	case m == "":
	case !confidential && m != models.AuthMethodNone,
		confidential && m != models.AuthMethodBasic && m != models.AuthMethodPost:
		return fmt.Errorf("token endpoint auth method %q is not one of %s: %w", clip(m, 32), authMethodsFor(confidential), ErrInvalidInput)
	default:
		c.TokenEndpointAuthMethod = &m
	}
	switch t := in.AccessTokenType; t {
	case "":
	case models.AccessTokenJWT, models.AccessTokenOpaque:
		c.AccessTokenType = &t
	default:
		return fmt.Errorf("access token type %q is not jwt or opaque: %w", clip(t, 32), ErrInvalidInput)
	}
	logout, err := protocol.ValidateRedirectURIs(in.PostLogoutRedirectURIs)
	if err != nil {
		return fmt.Errorf("post-logout %w", invalid(err))
	}
	c.PostLogoutRedirectURIs = append(models.Strings{}, logout...)
	if len(in.Audiences) > protocol.MaxScopes {
		return fmt.Errorf("more than %d audiences: %w", protocol.MaxScopes, ErrInvalidInput)
	}
	for _, a := range in.Audiences {
		if err := checkLine("audience", a, protocol.MaxRedirectURILength); err != nil {
			return err
		}
		if a == "" {
			return fmt.Errorf("an audience is empty: %w", ErrInvalidInput)
		}
	}
	c.Audiences = append(models.Strings{}, in.Audiences...)
	if l := in.IDTokenLifetime; l != 0 {
		if l < time.Second || l%time.Second != 0 || l > 24*time.Hour {
			return fmt.Errorf("id token lifetime %v is not whole seconds between 1s and 24h: %w", l, ErrInvalidInput)
		}
		secs := int64(l / time.Second)
		c.IDTokenLifetime = &secs
	}
	return nil
}

// authMethodsFor lists the token endpoint auth methods a client may
// register.
func authMethodsFor(confidential bool) string {
	if confidential {
		return models.AuthMethodBasic + ", " + models.AuthMethodPost
	}
	return models.AuthMethodNone
}

// Find returns the client with the given id, revoked or not. It returns
// ErrInvalidInput for a malformed id and ErrNotFound if there is none.
func (r *Clients) Find(ctx context.Context, id models.UUID) (*models.Client, error) {
	const op = "find client"
	if err := validID("client id", id); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var c models.Client
	if err := r.conn(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
		return nil, Translate(op, err)
	}
	return &c, nil
}

// List returns up to limit clients (1 to 1000), oldest first, skipping the
// first offset. It returns ErrInvalidInput for a limit or offset out of
// range.
func (r *Clients) List(ctx context.Context, limit, offset int) ([]models.Client, error) {
	const op = "list clients"
	if err := checkList(limit, offset); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out []models.Client
	err := r.conn(ctx).Order("created_at, id").Limit(limit).Offset(offset).Find(&out).Error
	if err != nil {
		return nil, Translate(op, err)
	}
	return out, nil
}

// Update sets a client's name and redirect URIs and returns the updated
// client. It returns ErrInvalidInput for a malformed id, an invalid name or
// URI (or an empty list for a client with the authorization_code grant),
// ErrNotFound if there is no such client and ErrRevoked if it is revoked.
// The client row is locked (FOR UPDATE) for the whole update.
func (r *Clients) Update(ctx context.Context, id models.UUID, name string, redirectURIs []string) (*models.Client, error) {
	const op = "update client"
	if err := validID("client id", id); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	name, err := checkName("client name", name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	uris, err := protocol.ValidateRedirectURIs(redirectURIs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, invalid(err))
	}
	c, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.Client, error) {
		c, err := lockActiveClient(tx, id, clause.LockingStrengthUpdate)
		if err != nil {
			return nil, err
		}
		if c.GrantTypes.Contains(protocol.GrantAuthorizationCode) && len(uris) == 0 {
			return nil, fmt.Errorf("the authorization_code grant needs at least one redirect uri: %w", ErrInvalidInput)
		}
		res := tx.Model(&models.Client{}).Where("id = ?", id).Where("revoked = ?", false).
			Updates(map[string]any{"name": name, "redirect_uris": models.Strings(uris), "updated_at": now})
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected != 1 {
			return nil, fmt.Errorf("client changed during the update: %w", ErrConcurrentChange)
		}
		c.Name, c.RedirectURIs, c.UpdatedAt = name, uris, now
		return c, nil
	})
	if err != nil {
		return nil, Translate(op, err)
	}
	return c, nil
}

// RotateSecret gives a confidential client a new generated secret, hashed
// with Argon2id, and returns the plaintext once. The old secret stops
// working at once (cached verifications of it no longer match). The
// rotation is recorded (event client.secret_rotated).
//
// It returns ErrInvalidInput for a malformed id or a public client,
// ErrNotFound if there is no such client, ErrRevoked if it is revoked and
// ErrConcurrentChange if it changed during the rotation.
func (r *Clients) RotateSecret(ctx context.Context, id models.UUID) (string, error) {
	const op = "rotate client secret"
	c, err := r.Find(ctx, id)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case c.Revoked:
		return "", fmt.Errorf("%s: client %s: %w", op, id, ErrRevoked)
	case !c.Confidential:
		return "", fmt.Errorf("%s: client %s is public and has no secret: %w", op, id, ErrInvalidInput)
	}
	secret, err := newSecretToken()
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	hash, err := r.hasher().Hash(secret)
	if err != nil {
		return "", fmt.Errorf("%s: hash secret: %w", op, err)
	}
	// The secret is hashed before the transaction (Argon2id never runs under
	// a write lock), so the client is read before it too; the update is
	// conditional on what that read found.
	err = r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		res := tx.Model(&models.Client{}).Where("id = ?", id).Where("revoked = ?", false).Where("confidential = ?", true).
			Updates(map[string]any{"secret": hash, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			if _, err := lockActiveClient(tx, id, clause.LockingStrengthUpdate); err != nil {
				return err // deleted or revoked meanwhile
			}
			return fmt.Errorf("client changed during the rotation: %w", ErrConcurrentChange)
		}
		return record(tx, now, c.UserID, models.EventClientSecretRotated, map[string]any{"client_id": id})
	})
	if err != nil {
		return "", Translate(op, err)
	}
	return secret, nil
}

// Revoke revokes a client and, in the same transaction, every access token,
// refresh token and authorization code issued to it, and records it (event
// client.revoked). Revoking a revoked client is a no-op. It returns
// ErrInvalidInput for a malformed id and ErrNotFound if there is no such
// client.
func (r *Clients) Revoke(ctx context.Context, id models.UUID) error {
	const op = "revoke client"
	if err := validID("client id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		var c models.Client
		if err := tx.Where("id = ?", id).Take(&c).Error; err != nil {
			return err
		}
		res := tx.Model(&models.Client{}).Where("id = ?", id).Where("revoked = ?", false).
			Updates(map[string]any{"revoked": true, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // already revoked
		}
		n, err := revokeGrants(tx, "client_id", id, now)
		if err != nil {
			return err
		}
		return record(tx, now, c.UserID, models.EventClientRevoked, map[string]any{"client_id": id, "revoked_rows": n})
	})
	return Translate(op, err)
}

// Delete deletes a client; the foreign keys delete its tokens and codes with
// it. The deletion is recorded (event client.deleted). It returns
// ErrInvalidInput for a malformed id and ErrNotFound if there is no such
// client.
func (r *Clients) Delete(ctx context.Context, id models.UUID) error {
	const op = "delete client"
	if err := validID("client id", id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := r.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		var c models.Client
		if err := tx.Where("id = ?", id).Take(&c).Error; err != nil {
			return err
		}
		res := tx.Where("id = ?", id).Delete(&models.Client{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("client %s: %w", id, ErrNotFound)
		}
		return record(tx, now, c.UserID, models.EventClientDeleted, map[string]any{"client_id": id, "name": c.Name})
	})
	return Translate(op, err)
}

// AuthenticatedClient is a client whose credentials Clients.Authenticate
// checked. The token calls (AuthCodes.Exchange, RefreshTokens.Rotate,
// AccessTokens.IssueClientCredentials, Tokens.Introspect and Tokens.Revoke)
// take one, so a token endpoint cannot forget to authenticate the client
// (RFC 6749 2.3, 3.2.1; SECURITY 37). Only Authenticate makes one; the zero
// value authenticates nobody and every token call refuses it with
// ErrInvalidCredentials. A provider library that authenticates clients
// itself gets one from Authenticate too and hands it on.
type AuthenticatedClient struct {
	client *models.Client
}

// ID returns the client's id, or "" for the zero value.
func (a AuthenticatedClient) ID() models.UUID {
	if a.client == nil {
		return ""
	}
	return a.client.ID
}

// Client returns a copy of the client's row as authentication read it.
func (a AuthenticatedClient) Client() models.Client {
	if a.client == nil {
		return models.Client{}
	}
	return *a.client
}

// valid returns the client's id, or ErrInvalidCredentials for the zero
// value.
func (a AuthenticatedClient) valid() (models.UUID, error) {
	if a.client == nil || validID("client id", a.client.ID) != nil {
		return "", fmt.Errorf("client is not authenticated: %w", ErrInvalidCredentials)
	}
	return a.client.ID, nil
}

// Authenticate authenticates a client as a token endpoint must (RFC 6749
// 2.3): a confidential client by its secret (ValidateCredentials), a public
// client by its id alone, with an empty secret. An unknown or malformed id,
// a wrong or missing secret, a secret presented for a public client and a
// revoked client all return the same error, wrapping ErrInvalidCredentials,
// after the same Argon2id work. Database failures are returned as such.
func (r *Clients) Authenticate(ctx context.Context, clientID models.UUID, secret string) (AuthenticatedClient, error) {
	const op = "authenticate client"
	fail := fmt.Errorf("%s: %w", op, ErrInvalidCredentials)
	if secret != "" {
		c, err := r.ValidateCredentials(ctx, clientID, secret)
		if errors.Is(err, ErrInvalidCredentials) {
			return AuthenticatedClient{}, fail // one message for every failure
		}
		if err != nil {
			return AuthenticatedClient{}, err
		}
		return AuthenticatedClient{client: c}, nil
	}
	h := r.hasher()
	if validID("client id", clientID) != nil {
		h.VerifyDummy(secret)
		return AuthenticatedClient{}, fail
	}
	var c models.Client
	if err := r.conn(ctx).Where("id = ?", clientID).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			h.VerifyDummy(secret)
			return AuthenticatedClient{}, fail
		}
		return AuthenticatedClient{}, Translate(op, err)
	}
	if c.Confidential || c.Revoked {
		h.VerifyDummy(secret) // a confidential client without its secret costs what a wrong secret does
		return AuthenticatedClient{}, fail
	}
	return AuthenticatedClient{client: &c}, nil
}

// ValidateCredentials authenticates a confidential client by id and secret
// and returns it. A wrong secret, an unknown or malformed id, a public
// client and a revoked client all return the same error, wrapping
// ErrInvalidCredentials, after the same Argon2id work (a dummy verification
// where there is no hash to check), so neither the answer nor its timing
// tells which clients exist.
//
// The row is read on every call, so a revocation counts at once. A
// successful verification is remembered in a bounded, process-local cache
// (1024 entries, least recently used evicted) keyed by an HMAC of the client
// id, the stored hash and the secret; the secret itself is never kept. A
// repeated call with a secret already verified against the same stored hash
// skips the Argon2id run; a rotation changes the hash and so misses the
// cache.
//
// Database failures are returned as such, not as ErrInvalidCredentials.
func (r *Clients) ValidateCredentials(ctx context.Context, clientID models.UUID, secret string) (*models.Client, error) {
	const op = "validate client credentials"
	fail := fmt.Errorf("%s: %w", op, ErrInvalidCredentials)
	h := r.hasher()
	if len(secret) > maxTokenLength {
		h.VerifyDummy(secret[:maxTokenLength])
		return nil, fail
	}
	if validID("client id", clientID) != nil || secret == "" {
		h.VerifyDummy(secret)
		return nil, fail
	}
	var c models.Client
	if err := r.conn(ctx).Where("id = ?", clientID).Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			h.VerifyDummy(secret)
			return nil, fail
		}
		return nil, Translate(op, err)
	}
	if c.Revoked || !c.Confidential || c.SecretHash == nil {
		h.VerifyDummy(secret)
		return nil, fail
	}
	stored := *c.SecretHash
	if r.verified.contains(c.ID.String(), stored, secret) {
		return &c, nil
	}
	ok, err := h.Verify(stored, secret)
	if err != nil {
		h.VerifyDummy(secret) // a malformed stored hash costs the same too
		return nil, fail
	}
	if !ok {
		return nil, fail
	}
	r.verified.add(c.ID.String(), stored, secret)
	return &c, nil
}

// verifiedSecrets remembers successful client-secret verifications, so the
// hot path skips the Argon2id run for a secret already verified against the
// same stored hash. It holds no secret: a key is an HMAC, under a random
// per-cache key, of the client id, the stored PHC hash and the secret. A new
// hash (rotation) gives new keys, so rotation invalidates at once.
type verifiedSecrets struct {
	key     [32]byte
	entries *lru[[32]byte, struct{}]
}

func newVerifiedSecrets(size int) *verifiedSecrets {
	v := &verifiedSecrets{entries: newLRU[[32]byte, struct{}](size)}
	_, _ = rand.Read(v.key[:]) // crypto/rand.Read never fails (Go 1.24+)
	return v
}

func (v *verifiedSecrets) mac(clientID, storedHash, secret string) [32]byte {
	m := hmac.New(sha256.New, v.key[:])
	for _, s := range []string{clientID, storedHash, secret} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		m.Write(n[:])
		m.Write([]byte(s))
	}
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

func (v *verifiedSecrets) contains(clientID, storedHash, secret string) bool {
	_, ok := v.entries.get(v.mac(clientID, storedHash, secret))
	return ok
}

func (v *verifiedSecrets) add(clientID, storedHash, secret string) {
	v.entries.put(v.mac(clientID, storedHash, secret), struct{}{})
}
