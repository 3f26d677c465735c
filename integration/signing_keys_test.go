package integration

// Signing keys and secrets at rest (issue 13; SECURITY 43 and 44) on
// SQLite file, SQLite memory and PostgreSQL.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// Master encryption keys of the tests (32 bytes each).
var (
	masterKey1 = []byte("integration-master-key-one-32byt")
	masterKey2 = []byte("integration-master-key-two-32byt")
)

// withMasterKey sets AUTHSTORE_ENCRYPTION_KEY to key and the previous keys.
func withMasterKey(key []byte, previous ...[]byte) fixtureOption {
	return withConfig(func(c *config.Config) { setMasterKey(c, key, previous...) })
}

func setMasterKey(c *config.Config, key []byte, previous ...[]byte) {
	c.EncryptionKey = config.Secret(base64.StdEncoding.EncodeToString(key))
	var prev []string
	for _, p := range previous {
		prev = append(prev, base64.StdEncoding.EncodeToString(p))
	}
	c.EncryptionKeysPrevious = config.Secret(strings.Join(prev, ","))
}

// header decodes a JWT's header.
func header(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

// privateKeyOf decrypts the private key of a signing key row with key, as
// only a holder of the master key can.
func privateKeyOf(t *testing.T, f *fixture, kid models.UUID, key []byte) crypto.Signer {
	t.Helper()
	var row models.SigningKey
	require.NoError(t, f.s.DB().Where("id = ?", kid).Take(&row).Error)
	p, err := envelope.NewLocal(key)
	require.NoError(t, err)
	der, err := envelope.Open(context.Background(), p, row.PrivateKey, envelope.Binding{Table: "signing_keys", Column: "private_key", Row: string(kid)})
	require.NoError(t, err)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	require.NoError(t, err)
	return priv.(crypto.Signer)
}

// forge signs claims with an arbitrary method, key and header.
func forge(t *testing.T, m jwt.SigningMethod, key any, hdr map[string]any, c protocol.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	tok.Header["typ"] = protocol.AccessTokenType
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// claimsOf returns the claims a token carries (unverified).
func claimsOf(t *testing.T, token string) protocol.Claims {
	t.Helper()
	var c protocol.Claims
	_, _, err := jwt.NewParser().ParseUnverified(token, &c)
	require.NoError(t, err)
	return c
}

// TestSigningKeysLifecycle is SECURITY 43's lifecycle: the first key signs
// at once; a rotated key is published before it signs; a token signed
// before the rotation validates after it until its key is retired and the
// token expired; a removed key's kid is refused; the purge deletes it.
func TestSigningKeysLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1), withConfig(func(c *config.Config) { c.JWTSecret = "" }))
		client, _ := f.confidentialClient(t, nil)
		user := f.user(t, "keys@example.com")

		_, _, err := f.s.AccessTokens.Issue(ctx, client.ID, &user.ID, nil, nil)
		require.ErrorIs(t, err, repositories.ErrNoSigningKey, "no key and no JWT_SECRET")

		first, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{})
		require.NoError(t, err)
		require.Equal(t, models.KeyStateCurrent, first.State, "the first key is current at once")
		require.Equal(t, "RS256", first.Algorithm)
		require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventSigningKeyCreated))

		_, before, err := f.s.AccessTokens.Issue(ctx, client.ID, &user.ID, []string{"read"}, nil)
		require.NoError(t, err)
		h := header(t, before)
		require.Equal(t, map[string]any{"alg": "RS256", "typ": "at+jwt", "kid": string(first.ID)}, h)
		c := claimsOf(t, before)
		require.Equal(t, jwt.ClaimStrings{f.cfg.JWTIssuer}, c.Audience, "aud defaults to the issuer")
		require.Equal(t, client.ID.String(), c.ClientID)
		require.Equal(t, user.ID.String(), c.Subject)
		require.Equal(t, "read", c.Scope)
		_, err = f.s.AccessTokens.Validate(ctx, before)
		require.NoError(t, err)

		// Rotation: the next key is published at once and signs after the
		// publish delay.
		next, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "ES256"})
		require.NoError(t, err)
		require.Equal(t, models.KeyStateNext, next.State)
		require.Equal(t, f.clock.Now().UTC().Truncate(time.Microsecond).Add(time.Hour), next.ActivatesAt)
		_, err = f.s.Keys.Rotate(ctx, repositories.RotateOptions{})
		require.ErrorIs(t, err, repositories.ErrDuplicate, "one next key at a time")
		jwks, err := f.s.Keys.JWKS(ctx)
		require.NoError(t, err)
		require.Equal(t, "public, max-age=1800", jwks.CacheControl())
		require.ElementsMatch(t, []string{string(first.ID), string(next.ID)}, jwksKids(t, jwks.JSON), "published before it signs")

		f.clock.Advance(59 * time.Minute)
		_, during, err := f.s.AccessTokens.Issue(ctx, client.ID, &user.ID, nil, nil)
		require.NoError(t, err)
		require.Equal(t, string(first.ID), header(t, during)["kid"], "the next key does not sign before its time")

		f.clock.Advance(2 * time.Minute)
		_, after, err := f.s.AccessTokens.Issue(ctx, client.ID, &user.ID, nil, nil)
		require.NoError(t, err)
		require.Equal(t, map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": string(next.ID)}, header(t, after))
		require.Equal(t, int64(1), countEvents(t, f.s.DB(), models.EventSigningKeyActivated))
		_, err = f.s.AccessTokens.Validate(ctx, after)
		require.NoError(t, err)
		_, err = f.s.AccessTokens.Validate(ctx, during)
		require.NoError(t, err, "a token signed before the rotation validates after it")

		var retired models.SigningKey
		require.NoError(t, f.s.DB().Where("id = ?", first.ID).Take(&retired).Error)
		require.Equal(t, models.KeyStateRetired, retired.State)
		require.Equal(t, retired.RetiredAt.Add(f.cfg.AccessTokenLifetime+repositories.KeyCacheTTL), *retired.RemoveAt)

		// A token the retired key could still sign (a process whose cache is
		// stale) validates until the key's expiry ...
		priv := privateKeyOf(t, f, first.ID, masterKey1)
		now := f.clock.Now()
		late := protocol.NewClaims(f.cfg.JWTIssuer, user.ID.String(), client.ID.String(), models.NewUUID().String(), nil, now, retired.RemoveAt.Add(time.Hour))
		late.Audience = jwt.ClaimStrings{f.cfg.JWTIssuer}
		forged := forge(t, jwt.SigningMethodRS256, priv, map[string]any{"kid": string(first.ID)}, late)

		f.clock.Advance(time.Hour)
		_, err = f.s.AccessTokens.Validate(ctx, during)
		require.ErrorIs(t, err, repositories.ErrExpired)

		st := keyStats(t, f)
		require.Equal(t, map[string]int64{"next": 0, "current": 1, "retired": 1, "removed": 0}, st.States)

		// ... and once the key is removed, its kid is refused whatever the
		// token's expiry (the signature is good, the row check is not
		// reached).
		f.clock.Advance(repositories.KeyCacheTTL + time.Second)
		_, err = f.s.AccessTokens.Validate(ctx, forged)
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		require.ErrorContains(t, err, "unknown or removed")
		jwks, err = f.s.Keys.JWKS(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{string(next.ID)}, jwksKids(t, jwks.JSON), "a removed key is not published")
		st = keyStats(t, f)
		require.Equal(t, map[string]int64{"next": 0, "current": 1, "retired": 0, "removed": 1}, st.States)
		require.Equal(t, int64(1), st.Expired)

		res, err := f.s.Cleanup.Purge(ctx, repositories.PurgeOptions{})
		require.NoError(t, err)
		require.Equal(t, int64(1), res.Tables["signing_keys"])
		require.Equal(t, int64(1), countRows(t, f.s.DB(), "signing_keys", ""))
	})
}

// jwksKids returns the kids of a JWKS.
func jwksKids(t *testing.T, js []byte) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(js, &set))
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func keyStats(t *testing.T, f *fixture) repositories.TableStats {
	t.Helper()
	stats, err := f.s.Cleanup.Stats(requestCtx())
	require.NoError(t, err)
	for _, st := range stats {
		if st.Table == "signing_keys" {
			return st
		}
	}
	t.Fatal("Stats has no signing_keys")
	return repositories.TableStats{}
}

// TestSigningKeysPinAlgorithm is SECURITY 43's "alg pinned to the key": a
// token naming a real kid is refused when its alg is "none", another
// asymmetric algorithm, or HS256 keyed with the public key (as JWK JSON,
// PEM or DER), and a token signed by another key under a real kid is
// refused; so is an HS256 token once JWT_SECRET is gone.
func TestSigningKeysPinAlgorithm(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1))
		client, _ := f.confidentialClient(t, nil)
		user := f.user(t, "pin@example.com")
		_, legacy, err := f.s.AccessTokens.Issue(ctx, client.ID, &user.ID, nil, nil)
		require.NoError(t, err)
		require.Equal(t, "HS256", header(t, legacy)["alg"], "JWT_SECRET alone: the legacy mode")

		key, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{})
		require.NoError(t, err)
		row, signed, err := f.s.AccessTokens.Issue(ctx, client.ID, &user.ID, nil, nil)
		require.NoError(t, err)
		require.Equal(t, string(key.ID), header(t, signed)["kid"])
		_, err = f.s.AccessTokens.Validate(ctx, legacy)
		require.NoError(t, err, "a legacy HS256 token still validates while JWT_SECRET is set")

		c := claimsOf(t, signed)
		pub := privateKeyOf(t, f, key.ID, masterKey1).Public()
		der, err := x509.MarshalPKIXPublicKey(pub)
		require.NoError(t, err)
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		_, otherEd, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		kid := map[string]any{"kid": string(key.ID)}
		none, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)
		noneWithKid := forgeNone(t, c, string(key.ID))
		for name, tok := range map[string]string{
			"alg none":                        none,
			"alg none with the kid":           noneWithKid,
			"HS256 keyed with the public JWK": forge(t, jwt.SigningMethodHS256, []byte(key.PublicKey), kid, c),
			"HS256 keyed with the public PEM": forge(t, jwt.SigningMethodHS256, pemBytes, kid, c),
			"HS256 keyed with the public DER": forge(t, jwt.SigningMethodHS256, der, kid, c),
			"EdDSA under the RS256 kid":       forge(t, jwt.SigningMethodEdDSA, otherEd, kid, c),
			"RS512 by the key itself":         forge(t, jwt.SigningMethodRS512, privateKeyOf(t, f, key.ID, masterKey1), kid, c),
			"RS256 by another key":            forge(t, jwt.SigningMethodRS256, otherRSA, kid, c),
			"RS256 with an unknown kid":       forge(t, jwt.SigningMethodRS256, otherRSA, map[string]any{"kid": string(models.NewUUID())}, c),
			"RS256 without a kid":             forge(t, jwt.SigningMethodRS256, otherRSA, nil, c),
			"HS256 with JWT_SECRET and a kid": forge(t, jwt.SigningMethodHS256, []byte(jwtSecret), kid, c),
		} {
			_, err := f.s.AccessTokens.Validate(ctx, tok)
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials, name)
			in, err := f.s.Tokens.Introspect(ctx, authed(f.s, client.ID), tok)
			require.NoError(t, err, name)
			require.False(t, in.Active, name)
		}
		_, err = f.s.AccessTokens.Validate(ctx, signed)
		require.NoError(t, err)
		require.Equal(t, row.ID.String(), c.ID)

		// Without JWT_SECRET (the move completed) an HS256 token is refused.
		noSecret := f.sibling(t, authstore.WithConfig(f.configWith(func(c *config.Config) { c.JWTSecret = "" })))
		_, err = noSecret.AccessTokens.Validate(ctx, legacy)
		require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
		_, err = noSecret.AccessTokens.Validate(ctx, signed)
		require.NoError(t, err)
	})
}

// forgeNone returns an unsigned token with a kid.
func forgeNone(t *testing.T, c protocol.Claims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
	tok.Header["typ"] = protocol.AccessTokenType
	tok.Header["kid"] = kid
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return s
}

// TestSigningKeysHoldNoPrivateMaterial is SECURITY 43's "no private member
// in the JWKS; no private material in any dump": after keys of every
// algorithm are made, neither the JWKS nor any column of any table holds
// the private key in PEM, DER, hex, base64, base64url or as a JWK private
// member (d, and RSA's p, q, dp, dq, qi).
func TestSigningKeysHoldNoPrivateMaterial(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1))
		var kids []models.UUID
		for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
			k, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: alg, Immediately: true})
			require.NoError(t, err)
			kids = append(kids, k.ID)
		}
		jwks, err := f.s.Keys.JWKS(ctx)
		require.NoError(t, err)
		var raw struct{ Keys []map[string]any }
		require.NoError(t, json.Unmarshal(jwks.JSON, &raw))
		require.Len(t, raw.Keys, 3)
		for _, k := range raw.Keys {
			for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
				require.NotContains(t, k, member, "JWKS key %v", k["kid"])
			}
			require.Equal(t, "sig", k["use"])
		}

		needles := map[string]string{}
		for _, kid := range kids {
			priv := privateKeyOf(t, f, kid, masterKey1)
			for what, v := range privateEncodings(t, priv) {
				needles[string(kid)[:8]+" "+what] = v
			}
		}
		found, columns := scanForSecrets(t, f.s.DB(), needles)
		require.Empty(t, found)
		require.Greater(t, columns, 50)
		dump := snapshotTables(t, f.s.DB())
		var all strings.Builder
		for _, rows := range dump {
			for _, r := range rows {
				all.WriteString(r)
			}
		}
		for what, v := range needles {
			require.NotContains(t, all.String(), v, what)
			require.NotContains(t, string(jwks.JSON), v, what)
		}
	})
}

// head returns s cut to at most n bytes.
func head(s string, n int) string { return s[:min(len(s), n)] }

// privateEncodings returns the encodings a dump could show priv in.
func privateEncodings(t *testing.T, priv crypto.Signer) map[string]string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	out := map[string]string{
		"PKCS8 PEM":       string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"PKCS8 DER":       string(der),
		"DER hex":         hex.EncodeToString(der),
		"DER base64":      head(base64.StdEncoding.EncodeToString(der), 64),
		"DER base64url":   head(base64.RawURLEncoding.EncodeToString(der), 64),
		"DER base64 tail": head(base64.StdEncoding.EncodeToString(der[len(der)/2:]), 48),
	}
	js, err := jose.JSONWebKey{Key: priv}.MarshalJSON()
	require.NoError(t, err)
	var members map[string]any
	require.NoError(t, json.Unmarshal(js, &members))
	for _, m := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if v, ok := members[m].(string); ok {
			out["JWK "+m] = v
			if raw, err := base64.RawURLEncoding.DecodeString(v); err == nil {
				out["JWK "+m+" base64"] = head(base64.StdEncoding.EncodeToString(raw), 24)
				out["JWK "+m+" hex"] = hex.EncodeToString(raw)
			}
		}
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		out["PKCS1 PEM"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
		out["PKCS1 base64"] = head(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k)), 64)
	case *ecdsa.PrivateKey:
		sec1, err := x509.MarshalECPrivateKey(k)
		require.NoError(t, err)
		out["SEC1 PEM"] = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	case ed25519.PrivateKey:
		out["Ed25519 seed hex"] = hex.EncodeToString(k.Seed())
		out["Ed25519 seed base64"] = base64.StdEncoding.EncodeToString(k.Seed())
		out["Ed25519 seed base64url"] = base64.RawURLEncoding.EncodeToString(k.Seed())
	}
	return out
}

// TestEncryptionAtRest is SECURITY 44: private keys are sealed with their
// row bound in; a wrong master key fails at startup; a previous key still
// decrypts; reencrypt moves everything to the current key, resumably.
func TestEncryptionAtRest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1), withConfig(func(c *config.Config) { c.SigningKeyPublishDelay = 0 }))
		client, _ := f.confidentialClient(t, nil)
		var kids []models.UUID
		for i := 0; i < 3; i++ {
			k, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "EdDSA", Immediately: true})
			require.NoError(t, err)
			kids = append(kids, k.ID)
		}
		_, token, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, client.ID), nil)
		require.NoError(t, err)
		id1 := envelope.LocalKeyID(masterKey1)
		for _, kid := range kids {
			var row models.SigningKey
			require.NoError(t, f.s.DB().Where("id = ?", kid).Take(&row).Error)
			got, err := envelope.KeyID(row.PrivateKey)
			require.NoError(t, err)
			require.Equal(t, id1, got, "each ciphertext names its master key")
		}

		open := func(key []byte, previous ...[]byte) (*authstore.Store, error) {
			return authstore.New(f.s.DB(), authstore.WithConfig(f.configWith(func(c *config.Config) { setMasterKey(c, key, previous...) })), authstore.WithClock(f.clock.Now))
		}
		_, err = open(masterKey2)
		require.ErrorIs(t, err, envelope.ErrWrongKey, "a wrong master key fails at startup")
		require.ErrorContains(t, err, id1)
		for _, k := range [][]byte{masterKey1, masterKey2} {
			require.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString(k))
		}
		noKey := f.configWith(func(c *config.Config) { c.EncryptionKey, c.EncryptionKeysPrevious = "", "" })
		_, err = authstore.New(f.s.DB(), authstore.WithConfig(noKey))
		require.ErrorIs(t, err, repositories.ErrNoSigningKey, "keys exist and the Store has no master key")

		rotated, err := open(masterKey2, masterKey1)
		require.NoError(t, err, "the previous key still decrypts")
		_, err = rotated.AccessTokens.Validate(ctx, token)
		require.NoError(t, err)
		_, _, err = rotated.AccessTokens.IssueClientCredentials(ctx, authed(rotated, client.ID), nil)
		require.NoError(t, err, "the current key signs, decrypted with the previous master key")

		dry, err := rotated.Keys.Reencrypt(ctx, repositories.ReencryptOptions{DryRun: true})
		require.NoError(t, err)
		require.Equal(t, repositories.ReencryptResult{Checked: 3, Reencrypted: 3, KeyID: envelope.LocalKeyID(masterKey2), DryRun: true}, dry)

		// Interrupted after its first batch, a run leaves that batch done;
		// the next run does the rest, and a third finds nothing to do.
		cut, cancel := context.WithCancel(ctx)
		part, err := rotated.Keys.Reencrypt(cut, repositories.ReencryptOptions{BatchSize: 1, Progress: func(repositories.ReencryptResult) { cancel() }})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, int64(1), part.Reencrypted)
		rest, err := rotated.Keys.Reencrypt(ctx, repositories.ReencryptOptions{BatchSize: 1})
		require.NoError(t, err)
		require.Equal(t, int64(3), rest.Checked)
		require.Equal(t, int64(2), rest.Reencrypted)
		again, err := rotated.Keys.Reencrypt(ctx, repositories.ReencryptOptions{})
		require.NoError(t, err)
		require.Zero(t, again.Reencrypted)
		require.Equal(t, int64(3), countEvents(t, f.s.DB(), models.EventSecretsReencrypted), "one per batch that changed rows")

		only2, err := open(masterKey2)
		require.NoError(t, err, "after reencrypt the new key alone is enough")
		_, err = only2.AccessTokens.Validate(ctx, token)
		require.NoError(t, err)
		_, _, err = only2.AccessTokens.IssueClientCredentials(ctx, authed(only2, client.ID), nil)
		require.NoError(t, err)
		_, err = open(masterKey1)
		require.ErrorIs(t, err, envelope.ErrWrongKey, "the old key alone no longer opens them")

		// A ciphertext copied to another row does not decrypt there.
		var current, old models.SigningKey
		require.NoError(t, f.s.DB().Where("state = ?", models.KeyStateCurrent).Take(&current).Error)
		require.NoError(t, f.s.DB().Where("id = ?", kids[0]).Take(&old).Error)
		require.NoError(t, f.s.DB().Model(&models.SigningKey{}).Where("id = ?", current.ID).Update("private_key", old.PrivateKey).Error)
		moved, err := open(masterKey2)
		if err == nil {
			_, _, err = moved.AccessTokens.IssueClientCredentials(ctx, authed(moved, client.ID), nil)
		}
		require.ErrorIs(t, err, envelope.ErrTampered, "a ciphertext bound to another row")
	})
}

// TestSigningKeysConcurrentRotation is SECURITY 43's "one current key under
// concurrency": rotations from two processes released together leave
// exactly one current key and one next key at most; every loser gets
// ErrDuplicate (or ErrConcurrentChange for immediate rotations), and no
// call sees "database is locked".
func TestSigningKeysConcurrentRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1))
		f.warmPool(t)
		other := f.sibling(t)
		stores := []*authstore.Store{f.s, other}
		const n = 8
		for round, immediately := range []bool{false, false, true} {
			errs := make([]error, n)
			var mu sync.Mutex
			won := 0
			barrier(n, func(i int) {
				_, err := stores[i%2].Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "ES256", Immediately: immediately})
				errs[i] = err
				if err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
			requireNoLockErrors(t, errs)
			for _, err := range errs {
				if err != nil && !errors.Is(err, repositories.ErrDuplicate) && !errors.Is(err, repositories.ErrConcurrentChange) {
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			require.Equal(t, int64(1), countRows(t, f.s.DB(), "signing_keys", "state = ?", models.KeyStateCurrent), "round %d", round)
			require.LessOrEqual(t, countRows(t, f.s.DB(), "signing_keys", "state = ?", models.KeyStateNext), int64(1), "round %d", round)
			switch round {
			case 0: // a fresh database: one first key, and one next key
				require.Equal(t, 2, won)
				require.Equal(t, int64(2), countEvents(t, f.s.DB(), models.EventSigningKeyCreated))
			case 1: // a next key exists: nobody wins
				require.Zero(t, won)
				require.Equal(t, int64(2), countEvents(t, f.s.DB(), models.EventSigningKeyCreated))
			case 2: // the first promotes the next key; each winner after makes one
				require.GreaterOrEqual(t, won, 1)
				require.Equal(t, int64(won-1), countEvents(t, f.s.DB(), models.EventSigningKeyCreated)-2)
				require.Equal(t, int64(won), countRows(t, f.s.DB(), "signing_keys", "state = ?", models.KeyStateRetired), "each winner retired the key before")
			}
		}
	})
}

// TestSigningKeysSeenByAnotherProcess: a process that cached the keys
// validates a token signed with a key another process made a moment ago
// (the unknown kid reads the keys again), and signs with it once its cache
// expires.
func TestSigningKeysSeenByAnotherProcess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1))
		client, _ := f.confidentialClient(t, nil)
		first, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{})
		require.NoError(t, err)
		_, tok, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, client.ID), nil)
		require.NoError(t, err)
		_, err = f.s.AccessTokens.Validate(ctx, tok)
		require.NoError(t, err)

		other := f.sibling(t)
		second, err := other.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "EdDSA", Immediately: true})
		require.NoError(t, err)
		_, fresh, err := other.AccessTokens.IssueClientCredentials(ctx, authed(other, client.ID), nil)
		require.NoError(t, err)
		require.Equal(t, string(second.ID), header(t, fresh)["kid"])
		_, err = f.s.AccessTokens.Validate(ctx, fresh)
		require.NoError(t, err, "an unknown kid reads the keys again")

		_, mine, err := f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, client.ID), nil)
		require.NoError(t, err)
		require.Contains(t, []any{string(first.ID), string(second.ID)}, header(t, mine)["kid"])
		f.clock.Advance(repositories.KeyCacheTTL)
		_, mine, err = f.s.AccessTokens.IssueClientCredentials(ctx, authed(f.s, client.ID), nil)
		require.NoError(t, err)
		require.Equal(t, string(second.ID), header(t, mine)["kid"], "the cache expires")
	})
}

// TestSigningKeysMigrateFromJWTSecret is the move from JWT_SECRET without
// logging anyone out: HS256 tokens and refresh tokens issued before the
// first key keep working; new tokens are RFC 9068's; the configured
// audience is their aud; a refresh rotation works without JWT_SECRET.
func TestSigningKeysMigrateFromJWTSecret(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1), withConfig(func(c *config.Config) { c.AccessTokenAudience = "https://api.example.com" }))
		client, _ := f.confidentialClient(t, nil)
		user := f.user(t, "move@example.com")
		old := f.pair(t, client.ID, &user.ID)
		require.Equal(t, "HS256", header(t, old.AccessToken)["alg"])
		require.Equal(t, jwt.ClaimStrings{client.ID.String()}, claimsOf(t, old.AccessToken).Audience, "legacy tokens keep the client id as aud")

		_, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{})
		require.NoError(t, err)
		_, err = f.s.AccessTokens.Validate(ctx, old.AccessToken)
		require.NoError(t, err)
		pair, err := f.s.RefreshTokens.Rotate(ctx, authed(f.s, client.ID), old.RefreshToken, nil)
		require.NoError(t, err, "a refresh token from before the move rotates")
		require.Equal(t, "RS256", header(t, pair.AccessToken)["alg"])
		require.Equal(t, jwt.ClaimStrings{"https://api.example.com"}, claimsOf(t, pair.AccessToken).Audience)
		_, err = f.s.AccessTokens.Validate(ctx, pair.AccessToken)
		require.NoError(t, err)

		// JWT_SECRET removed once the HS256 tokens have expired: refresh
		// rotation keys on the master key instead.
		f.clock.Advance(f.cfg.AccessTokenLifetime + time.Second)
		noSecret := f.sibling(t, authstore.WithConfig(f.configWith(func(c *config.Config) { c.JWTSecret = "" })))
		fresh, err := noSecret.RefreshTokens.Issue(ctx, client.ID, &user.ID, nil)
		require.NoError(t, err)
		next, err := noSecret.RefreshTokens.Rotate(ctx, authed(noSecret, client.ID), fresh.RefreshToken, nil)
		require.NoError(t, err)
		_, err = noSecret.AccessTokens.Validate(ctx, next.AccessToken)
		require.NoError(t, err)
	})
}

// TestSigningKeysCurrent: the current key as a private JWK, for an
// OpenID provider signing ID tokens; it verifies with the JWKS.
func TestSigningKeysCurrent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1))
		_, err := f.s.Keys.Current(ctx)
		require.ErrorIs(t, err, repositories.ErrNoSigningKey)
		k, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "ES256"})
		require.NoError(t, err)
		cur, err := f.s.Keys.Current(ctx)
		require.NoError(t, err)
		require.Equal(t, string(k.ID), cur.KeyID)
		require.Equal(t, "ES256", cur.Algorithm)
		require.False(t, cur.IsPublic())
		signed := forge(t, jwt.SigningMethodES256, cur.Key, map[string]any{"kid": cur.KeyID}, protocol.Claims{})
		jwks, err := f.s.Keys.JWKS(ctx)
		require.NoError(t, err)
		var set jose.JSONWebKeySet
		require.NoError(t, json.Unmarshal(jwks.JSON, &set))
		_, err = jwt.Parse(signed, func(*jwt.Token) (any, error) { return set.Key(cur.KeyID)[0].Key, nil }, jwt.WithValidMethods([]string{"ES256"}))
		require.NoError(t, err)
	})
}

func TestSigningKeysPublicKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		ctx := requestCtx()
		f := newFixture(t, b, withMasterKey(masterKey1))
		_, err := f.s.Keys.PublicKey(ctx, "not-a-uuid")
		require.ErrorIs(t, err, repositories.ErrInvalidInput)
		_, err = f.s.Keys.PublicKey(ctx, models.NewUUID())
		require.ErrorIs(t, err, repositories.ErrNotFound)

		first, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "ES256"})
		require.NoError(t, err)
		jwks, err := f.s.Keys.JWKS(ctx)
		require.NoError(t, err)
		var set jose.JSONWebKeySet
		require.NoError(t, json.Unmarshal(jwks.JSON, &set))
		got, err := f.s.Keys.PublicKey(ctx, first.ID)
		require.NoError(t, err, "PublicKey of the current key")
		require.True(t, got.IsPublic())
		require.Equal(t, string(first.ID), got.KeyID)
		require.Equal(t, "ES256", got.Algorithm)
		want, err := set.Key(string(first.ID))[0].Thumbprint(crypto.SHA256)
		require.NoError(t, err)
		thumb, err := got.Thumbprint(crypto.SHA256)
		require.NoError(t, err)
		require.Equal(t, want, thumb, "the key the JWKS publishes")

		next, err := f.s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: "EdDSA"})
		require.NoError(t, err)
		got, err = f.s.Keys.PublicKey(ctx, next.ID)
		require.NoError(t, err, "PublicKey of the next key, published before it signs")
		require.Equal(t, "EdDSA", got.Algorithm)

		f.clock.Advance(61 * time.Minute)
		_, err = f.s.Keys.Current(ctx) // promotes next, retires first
		require.NoError(t, err)
		_, err = f.s.Keys.PublicKey(ctx, first.ID)
		require.NoError(t, err, "a retired key not yet removed")

		f.clock.Advance(f.cfg.AccessTokenLifetime + repositories.KeyCacheTTL + time.Second)
		_, err = f.s.Keys.PublicKey(ctx, first.ID)
		require.ErrorIs(t, err, repositories.ErrNotFound, "a removed key")
		_, err = f.s.Keys.PublicKey(ctx, next.ID)
		require.NoError(t, err)
	})
}
