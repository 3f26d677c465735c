package repositories

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
	"github.com/forgeauth/authstore/models"
	"github.com/go-jose/go-jose/v4"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Signing keys (table signing_keys): the asymmetric keys that sign access
// tokens (RFC 9068), their lifecycle next → current → retired → removed,
// the JWKS, and the envelope encryption of their private keys.

// KeyCacheTTL is how long a process uses the signing keys it read before
// it reads them again: a rotation made by another process is seen within
// it (and at once by a token naming an unknown kid, see Validate). A key
// retired by another process may sign for up to this long after, so a
// retired key is kept this much longer than the access token lifetime.
const KeyCacheTTL = time.Minute

// unknownKidInterval is the least time between two reloads caused by a
// token naming an unknown kid, so that tokens with made-up kids cannot make
// every validation read the database.
const unknownKidInterval = time.Second

// rsaBits is the size of the RSA keys authstore makes (RS256).
const rsaBits = 2048

// SigningKeys is the repository of signing keys (table signing_keys). It
// keeps a process-local cache of the keys, shared by every repository of
// a Store that signs or validates access tokens.
type SigningKeys struct {
	base
	ring *keyring
}

// NewSigningKeys returns the signing-key repository over db. opts.Encryption
// decrypts and encrypts the private keys; without it, keys can be listed,
// published and used to validate, but none can be made or sign.
func NewSigningKeys(db *gorm.DB, opts Options) *SigningKeys {
	return &SigningKeys{base: newBase(db, opts), ring: &keyring{keys: map[models.UUID]*ringKey{}}}
}

// WithTx returns a copy of r whose methods run inside tx (as savepoints).
// It shares r's cache.
func (r *SigningKeys) WithTx(tx *gorm.DB) *SigningKeys {
	return &SigningKeys{base: r.withTx(tx), ring: r.ring}
}

// keyring is the process-local cache of the signing keys.
type keyring struct {
	mu sync.Mutex
	// keys are every key row read, by kid, with its parsed public key.
	keys map[models.UUID]*ringKey
	// loadedAt is the Store clock's reading at the last full read.
	loadedAt time.Time
	// missAt is when (wall clock) a token's unknown kid last caused a read.
	missAt time.Time
	// signer is the decrypted current key.
	signer *ringSigner
}

type ringKey struct {
	row models.SigningKey
	pub crypto.PublicKey
}

// ringSigner is a current key with its private key decrypted.
type ringSigner struct {
	kid  models.UUID
	alg  string
	priv crypto.PrivateKey
}

// binding is where a key's private key is stored, the associated data of
// its encryption: the original table name, so that a table prefix can
// change.
func keyBinding(id models.UUID) envelope.Binding {
	return envelope.Binding{Table: models.BaseTable(&models.SigningKey{}), Column: "private_key", Row: string(id)}
}

// RotateOptions tune Rotate.
type RotateOptions struct {
	// Algorithm of the new key: RS256, ES256 or EdDSA; "" takes the
	// configuration's (OAUTH_SIGNING_ALGORITHM).
	Algorithm string
	// Immediately makes the new key (or the next key already published)
	// current at once instead of after the publish delay
	// (OAUTH_SIGNING_KEY_PUBLISH_DELAY): for a compromised key. Resource
	// servers that cached the JWKS then fetch it on the unknown kid.
	Immediately bool
}

// Rotate makes a new signing key. On a database without a current key the
// new key is current at once (the first key). Otherwise it is published as
// the next key, which becomes current, retiring the current one, once the
// publish delay has passed (the first signing after that time promotes it,
// in any process). With Immediately, the next key already published, or
// else the new one, becomes current now. Each change writes an activity
// row (signing_key.created, signing_key.activated).
//
// Of concurrent rotations one wins: the table's unique slot index holds one
// current and one next key at most. A rotation that finds a next key
// already published, because another won or an operator rotated before,
// returns ErrDuplicate naming it.
//
// It returns ErrInvalidInput for an unknown algorithm and ErrNoSigningKey
// when the Store has no master encryption key (AUTHSTORE_ENCRYPTION_KEY).
func (r *SigningKeys) Rotate(ctx context.Context, opts RotateOptions) (*models.SigningKey, error) {
	const op = "rotate signing key"
	alg := opts.Algorithm
	if alg == "" {
		alg = r.cfg().Algorithm()
	}
	if err := r.needProvider(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	priv, err := generateKey(alg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	row := &models.SigningKey{ID: models.NewUUID(), Algorithm: alg}
	if row.PublicKey, row.PrivateKey, err = r.sealKey(ctx, row.ID, alg, priv); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out *models.SigningKey
	for attempt := 0; ; attempt++ {
		out, err = inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.SigningKey, error) {
			return r.rotate(tx, now, row, opts.Immediately)
		})
		// A concurrent rotation took the slot between this one's read and
		// its write (PostgreSQL; SQLite runs one writer at a time): look
		// again, once, to answer as if they had run one after the other.
		if errors.Is(err, gorm.ErrDuplicatedKey) && attempt == 0 {
			continue
		}
		break
	}
	r.invalidate()
	if err != nil {
		return nil, Translate(op, err)
	}
	return out, nil
}

// rotate is the transaction of Rotate.
func (r *SigningKeys) rotate(tx *gorm.DB, now time.Time, row *models.SigningKey, immediately bool) (*models.SigningKey, error) {
	var slots []models.SigningKey
	if err := tx.Where("slot IS NOT NULL").Find(&slots).Error; err != nil {
		return nil, err
	}
	var current, next *models.SigningKey
	for i := range slots {
		switch slots[i].State {
		case models.KeyStateCurrent:
			current = &slots[i]
		case models.KeyStateNext:
			next = &slots[i]
		}
	}
	if next != nil {
		if !immediately {
			return nil, fmt.Errorf("signing key %s is already the next key, current from %s (rotate immediately to make it current now): %w",
				next.ID, next.ActivatesAt.Format(time.RFC3339), ErrDuplicate)
		}
		if err := promote(tx, r.cfg(), now, next, current); err != nil {
			return nil, err
		}
		return next, nil
	}
	row.State, row.Slot, row.ActivatesAt = models.KeyStateNext, new(models.KeyStateNext), now.Add(r.cfg().SigningKeyPublishDelay)
	if current == nil || immediately {
		row.State, row.Slot, row.ActivatesAt = models.KeyStateCurrent, new(models.KeyStateCurrent), now
		if current != nil {
			if err := retire(tx, r.cfg(), now, current); err != nil {
				return nil, err
			}
		}
	}
	row.CreatedAt, row.UpdatedAt = now, now
	if err := tx.Create(row).Error; err != nil {
		return nil, err
	}
	return row, record(tx, now, nil, models.EventSigningKeyCreated, map[string]any{
		"kid": row.ID, "algorithm": row.Algorithm, "state": row.State, "activates_at": row.ActivatesAt,
	})
}

// retire ends a current or next key: it keeps validating until every token
// it can have signed has expired (the access token lifetime, plus the
// cache time during which another process may still sign with it).
func retire(tx *gorm.DB, cfg config.Config, now time.Time, k *models.SigningKey) error {
	expires := now.Add(cfg.AccessTokenLifetime + KeyCacheTTL)
	res := tx.Model(&models.SigningKey{}).Where("id = ? AND state = ?", k.ID, k.State).Updates(map[string]any{
		"state": models.KeyStateRetired, "slot": nil, "retired_at": now, "remove_at": expires, "updated_at": now,
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("signing key %s: %w", k.ID, ErrConcurrentChange)
	}
	k.State, k.Slot, k.RetiredAt, k.RemoveAt, k.UpdatedAt = models.KeyStateRetired, nil, &now, &expires, now
	return nil
}

// promote makes next the current key, retiring current (nil when there is
// none), and records it.
func promote(tx *gorm.DB, cfg config.Config, now time.Time, next, current *models.SigningKey) error {
	if current != nil {
		if err := retire(tx, cfg, now, current); err != nil {
			return err
		}
	}
	res := tx.Model(&models.SigningKey{}).Where("id = ? AND state = ?", next.ID, models.KeyStateNext).Updates(map[string]any{
		"state": models.KeyStateCurrent, "slot": models.KeyStateCurrent, "activates_at": now, "updated_at": now,
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("signing key %s: %w", next.ID, ErrConcurrentChange)
	}
	next.State, next.Slot, next.ActivatesAt, next.UpdatedAt = models.KeyStateCurrent, new(models.KeyStateCurrent), now, now
	meta := map[string]any{"kid": next.ID, "algorithm": next.Algorithm}
	if current != nil {
		meta["retired_kid"], meta["retired_until"] = current.ID, current.RemoveAt
	}
	return record(tx, now, nil, models.EventSigningKeyActivated, meta)
}

// Retire retires a signing key now: it signs no more and validates until
// every token it can have signed has expired. Retiring the current key
// makes the next key current at once, or, without one, a new key of the
// same algorithm (so that tokens can still be issued). It records
// signing_key.retired.
//
// It returns ErrInvalidInput for a malformed kid, ErrNotFound for an unknown
// one, ErrRevoked for a key already retired or removed, and ErrNoSigningKey
// when retiring the current key needs a new one and the Store has no master
// encryption key.
func (r *SigningKeys) Retire(ctx context.Context, kid models.UUID) (*models.SigningKey, error) {
	const op = "retire signing key"
	if err := validID("kid", kid); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var fresh *models.SigningKey
	if r.opts.Encryption != nil {
		// A replacement, made before the transaction (an RSA key takes
		// tens of milliseconds); unused unless the current key goes.
		var row models.SigningKey
		if err := r.conn(ctx).Where("id = ?", kid).Take(&row).Error; err == nil && row.State == models.KeyStateCurrent {
			priv, err := generateKey(row.Algorithm)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			fresh = &models.SigningKey{ID: models.NewUUID(), Algorithm: row.Algorithm}
			if fresh.PublicKey, fresh.PrivateKey, err = r.sealKey(ctx, fresh.ID, row.Algorithm, priv); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
	}
	out, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (*models.SigningKey, error) {
		var row models.SigningKey
		if err := tx.Where("id = ?", kid).Take(&row).Error; err != nil {
			return nil, err
		}
		if row.State == models.KeyStateRetired {
			return nil, fmt.Errorf("signing key %s is %s: %w", kid, row.StateAt(now), ErrRevoked)
		}
		wasCurrent := row.State == models.KeyStateCurrent
		if err := retire(tx, r.cfg(), now, &row); err != nil {
			return nil, err
		}
		if err := record(tx, now, nil, models.EventSigningKeyRetired, map[string]any{"kid": row.ID, "remove_at": row.RemoveAt}); err != nil {
			return nil, err
		}
		if !wasCurrent {
			return &row, nil
		}
		var next models.SigningKey
		err := tx.Where("state = ?", models.KeyStateNext).Take(&next).Error
		switch {
		case err == nil:
			return &row, promote(tx, r.cfg(), now, &next, nil)
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return nil, err
		case fresh == nil:
			return nil, fmt.Errorf("retiring the current key needs a new one: %w", r.needProvider())
		}
		fresh.State, fresh.Slot, fresh.ActivatesAt, fresh.CreatedAt, fresh.UpdatedAt = models.KeyStateCurrent, new(models.KeyStateCurrent), now, now, now
		if err := tx.Create(fresh).Error; err != nil {
			return nil, err
		}
		return &row, record(tx, now, nil, models.EventSigningKeyCreated, map[string]any{
			"kid": fresh.ID, "algorithm": fresh.Algorithm, "state": fresh.State, "activates_at": now,
		})
	})
	r.invalidate()
	if err != nil {
		return nil, Translate(op, err)
	}
	return out, nil
}

// List returns every signing key row, newest first. Their State is as
// stored; StateAt(now) tells a removed key from a retired one.
func (r *SigningKeys) List(ctx context.Context) ([]models.SigningKey, error) {
	var rows []models.SigningKey
	if err := r.conn(ctx).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, Translate("list signing keys", err)
	}
	return rows, nil
}

// JWKS is the JSON Web Key Set of the published signing keys (RFC 7517 5),
// as served at /.well-known/jwks.json, and how long a client may cache it.
type JWKS struct {
	// JSON is the key set: {"keys":[...]}, public members only.
	JSON []byte
	// MaxAge is the Cache-Control max-age the Store recommends: half the
	// publish delay, so that every cache sees a next key before it signs.
	MaxAge time.Duration
}

// CacheControl returns the Cache-Control header value for the JWKS.
func (j JWKS) CacheControl() string {
	if j.MaxAge <= 0 {
		return "no-cache"
	}
	return fmt.Sprintf("public, max-age=%d", int64(j.MaxAge/time.Second))
}

// JWKS returns the published public keys: next, current and retired keys
// that are not yet removed. It holds no private member: each key is
// rebuilt from its public part before it is encoded.
func (r *SigningKeys) JWKS(ctx context.Context) (JWKS, error) {
	rows, err := r.List(ctx)
	if err != nil {
		return JWKS{}, err
	}
	now := r.now()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for i := range rows {
		if rows[i].StateAt(now) == models.KeyStateRemoved {
			continue
		}
		jwk, err := publicJWK(&rows[i])
		if err != nil {
			return JWKS{}, fmt.Errorf("jwks: %w", err)
		}
		set.Keys = append(set.Keys, jwk)
	}
	js, err := json.Marshal(set)
	if err != nil {
		return JWKS{}, fmt.Errorf("jwks: %w", err)
	}
	return JWKS{JSON: js, MaxAge: r.cfg().SigningKeyPublishDelay / 2}, nil
}

// Current returns the current signing key as a private JWK (go-jose's
// type: kid, alg, use "sig" and the private key), for code in the process
// that signs other JWTs with it, such as an OpenID provider's ID tokens.
// A next key whose publish delay has passed is made current first. Never
// print or log what it returns: it holds the private key. It returns
// ErrNoSigningKey when there is no current key or the Store cannot decrypt
// it.
func (r *SigningKeys) Current(ctx context.Context) (jose.JSONWebKey, error) {
	s, err := r.currentSigner(ctx, r.db)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("current signing key: %w", err)
	}
	if s == nil {
		return jose.JSONWebKey{}, fmt.Errorf("current signing key: none; make one with Rotate (`authstore keys rotate`): %w", ErrNoSigningKey)
	}
	return jose.JSONWebKey{Key: s.priv, KeyID: string(s.kid), Algorithm: s.alg, Use: "sig"}, nil
}

// publicJWK decodes a row's public JWK and returns its public part alone.
func publicJWK(row *models.SigningKey) (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(row.PublicKey)); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("signing key %s: its public key is not a JWK", row.ID)
	}
	pub := jwk.Public()
	if !pub.Valid() || pub.KeyID != string(row.ID) || pub.Algorithm != row.Algorithm {
		return jose.JSONWebKey{}, fmt.Errorf("signing key %s: its public JWK is not a public key of its kid and algorithm", row.ID)
	}
	return pub, nil
}

// sealedColumn is a column that holds envelope ciphertexts, one per row:
// the private keys of signing_keys and the TOTP secrets of users.
type sealedColumn struct {
	model   func() any
	column  string
	what    string // names a row in messages: "signing key", "TOTP secret of user"
	binding func(models.UUID) envelope.Binding
	touch   bool // a re-encryption sets updated_at
}

// sealedColumns are every column CheckEncryption and Reencrypt cover.
var sealedColumns = []sealedColumn{
	{model: func() any { return &models.SigningKey{} }, column: "private_key", what: "signing key", binding: keyBinding, touch: true},
	{model: func() any { return &models.User{} }, column: "two_factor_secret", what: "TOTP secret of user", binding: secretBinding},
}

// sealedRow is one ciphertext of a sealed column.
type sealedRow struct {
	ID     models.UUID
	Sealed string
}

// read returns up to limit ciphertexts of c after id after (all when limit
// is 0), in id order.
func (c sealedColumn) read(db *gorm.DB, after models.UUID, limit int) ([]sealedRow, error) {
	var rows []sealedRow
	q := db.Model(c.model()).Select("id, " + c.column + " AS sealed").Where(c.column + " IS NOT NULL AND " + c.column + " <> ''").Order("id")
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	return rows, q.Scan(&rows).Error
}

// CheckEncryption checks, at startup, that the Store's master keys decrypt
// the stored secrets (the signing keys' private keys, the users' TOTP
// secrets): it opens one secret per master key id each column holds. It
// returns nil when there are none, an error matching envelope.ErrWrongKey
// when a key id is unknown to the provider or a secret does not decrypt
// (AUTHSTORE_ENCRYPTION_KEY is wrong or a previous key is missing), and
// ErrNoSigningKey when secrets exist and the Store has no master key at
// all. The error names key ids, never a key.
func (r *SigningKeys) CheckEncryption(ctx context.Context) error {
	const op = "check encryption"
	for _, c := range sealedColumns {
		rows, err := c.read(r.conn(ctx), "", 0)
		if err != nil {
			return Translate(op, err)
		}
		seen := map[string]bool{}
		for _, row := range rows {
			id, err := envelope.KeyID(row.Sealed)
			if err != nil {
				return fmt.Errorf("%s: %s %s: %w", op, c.what, row.ID, err)
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			if r.opts.Encryption == nil {
				return fmt.Errorf("%s: %s %s is encrypted under master key %s: %w", op, c.what, row.ID, id, r.needProvider())
			}
			if _, err := envelope.Open(ctx, r.opts.Encryption, row.Sealed, c.binding(row.ID)); err != nil {
				return fmt.Errorf("%s: %w: %s %s is encrypted under master key %s, which the configured keys (current %s) do not decrypt: "+
					"AUTHSTORE_ENCRYPTION_KEY is wrong or the key that wrote it is missing from AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS (%w)",
					op, envelope.ErrWrongKey, c.what, row.ID, id, r.opts.Encryption.CurrentKeyID(), unwrapKind(err))
			}
		}
	}
	return nil
}

// unwrapKind returns the envelope sentinel err matches, for a message that
// must not quote a provider's own text.
func unwrapKind(err error) error {
	for _, s := range []error{envelope.ErrUnknownKeyID, envelope.ErrTampered, envelope.ErrMalformed} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// ReencryptOptions tune Reencrypt.
type ReencryptOptions struct {
	// BatchSize is how many rows one transaction re-encrypts; 0 means 100.
	BatchSize int
	// DryRun counts what would be re-encrypted and changes nothing.
	DryRun bool
	// Progress, if set, is called after every committed batch with the
	// running totals.
	Progress func(ReencryptResult)
}

// ReencryptResult counts what Reencrypt did.
type ReencryptResult struct {
	// Checked is how many encrypted secrets were read.
	Checked int64 `json:"checked"`
	// Reencrypted is how many were moved to the current master key (or, in
	// a dry run, would be).
	Reencrypted int64 `json:"reencrypted"`
	// KeyID is the current master key's id.
	KeyID  string `json:"key_id"`
	DryRun bool   `json:"dry_run"`
}

// Reencrypt moves every reversible secret (the signing keys' private keys,
// the users' TOTP secrets) to the current master key, table by table, in
// batches of opts.BatchSize rows in id order, each batch its own
// transaction: the data key of each secret is unwrapped with the key that
// wrapped it and wrapped again under the current one (envelope.Reseal),
// and the row is updated only while it still holds what was read. It is
// resumable: an interrupted run leaves whole batches done, and the next
// run skips the rows already under the current key without decrypting
// them. It records secrets.reencrypted for each batch that changed
// anything.
//
// It returns ErrNoSigningKey when the Store has no master key, and an
// error matching envelope.ErrUnknownKeyID or envelope.ErrTampered, having
// committed the batches before it, for a secret it cannot decrypt.
func (r *SigningKeys) Reencrypt(ctx context.Context, opts ReencryptOptions) (ReencryptResult, error) {
	const op = "reencrypt secrets"
	if opts.BatchSize == 0 {
		opts.BatchSize = 100
	}
	if opts.BatchSize < 0 {
		return ReencryptResult{}, fmt.Errorf("%s: batch size must not be negative: %w", op, ErrInvalidInput)
	}
	if err := r.needProvider(); err != nil {
		return ReencryptResult{}, fmt.Errorf("%s: %w", op, err)
	}
	res := ReencryptResult{KeyID: r.opts.Encryption.CurrentKeyID(), DryRun: opts.DryRun}
	for _, c := range sealedColumns {
		if err := r.reencrypt(ctx, op, c, opts, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// reencrypt is Reencrypt for one sealed column.
func (r *SigningKeys) reencrypt(ctx context.Context, op string, c sealedColumn, opts ReencryptOptions, res *ReencryptResult) error {
	p := r.opts.Encryption
	after := models.UUID("")
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		batch, err := c.read(r.conn(ctx), after, opts.BatchSize)
		if err != nil {
			return Translate(op, err)
		}
		if len(batch) == 0 {
			return nil
		}
		after = batch[len(batch)-1].ID
		type change struct {
			id       models.UUID
			old, new string
		}
		var changes []change
		for _, row := range batch {
			res.Checked++
			moved, changed, err := envelope.Reseal(ctx, p, row.Sealed, c.binding(row.ID))
			if err != nil {
				return fmt.Errorf("%s: %s %s: %w", op, c.what, row.ID, unwrapKind(err))
			}
			if changed {
				changes = append(changes, change{row.ID, row.Sealed, moved})
			}
		}
		if opts.DryRun || len(changes) == 0 {
			if opts.DryRun {
				res.Reencrypted += int64(len(changes))
			}
			if opts.Progress != nil {
				opts.Progress(*res)
			}
			continue
		}
		n, err := inTx(ctx, r.base, func(tx *gorm.DB, now time.Time) (int64, error) {
			var n int64
			for _, ch := range changes {
				set := map[string]any{c.column: ch.new}
				if c.touch {
					set["updated_at"] = now
				}
				u := tx.Model(c.model()).Where("id = ? AND "+c.column+" = ?", ch.id, ch.old).UpdateColumns(set)
				if u.Error != nil {
					return 0, u.Error
				}
				n += u.RowsAffected
			}
			return n, record(tx, now, nil, models.EventSecretsReencrypted, map[string]any{
				"table": models.BaseTable(c.model().(schema.TablerWithNamer)), "rows": n, "key_id": p.CurrentKeyID(),
			})
		})
		if err != nil {
			return Translate(op, err)
		}
		res.Reencrypted += n
		if opts.Progress != nil {
			opts.Progress(*res)
		}
	}
}

// needProvider returns ErrNoSigningKey, saying what to set, when the Store
// has no master encryption key.
func (r *SigningKeys) needProvider() error {
	if r.opts.Encryption != nil {
		return nil
	}
	return fmt.Errorf("%w: signing keys need a master encryption key: set AUTHSTORE_ENCRYPTION_KEY (`openssl rand -base64 32`) "+
		"and load it with config.Load(), or give the Store an envelope.Provider", ErrNoSigningKey)
}

// generateKey makes a private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case config.AlgorithmRS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case config.AlgorithmES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case config.AlgorithmEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("algorithm %q is not RS256, ES256 or EdDSA: %w", clip(alg, 16), ErrInvalidInput)
}

// sealKey returns the public JWK of priv and its PKCS #8 encoding sealed
// for the row id.
func (r *SigningKeys) sealKey(ctx context.Context, id models.UUID, alg string, priv crypto.Signer) (string, string, error) {
	jwk, err := jose.JSONWebKey{Key: priv.Public(), KeyID: string(id), Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		return "", "", fmt.Errorf("encode public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", fmt.Errorf("encode private key: %w", err)
	}
	defer clear(der)
	sealed, err := envelope.Seal(ctx, r.opts.Encryption, der, keyBinding(id))
	if err != nil {
		return "", "", err
	}
	return string(jwk), sealed, nil
}

// invalidate makes the next use read the keys again.
func (r *SigningKeys) invalidate() {
	r.ring.mu.Lock()
	r.ring.loadedAt = time.Time{}
	r.ring.mu.Unlock()
}

// load reads every key into the ring through db (the caller's handle, or
// transaction: on SQLite a read on another connection would wait for the
// caller's own write lock); the caller holds ring.mu.
func (r *SigningKeys) load(ctx context.Context, db *gorm.DB, now time.Time) error {
	var rows []models.SigningKey
	if err := db.WithContext(ctx).Omit("private_key").Find(&rows).Error; err != nil {
		return Translate("read signing keys", err)
	}
	keys := make(map[models.UUID]*ringKey, len(rows))
	for _, row := range rows {
		if old, ok := r.ring.keys[row.ID]; ok && old.row.PublicKey == row.PublicKey {
			keys[row.ID] = &ringKey{row: row, pub: old.pub}
			continue
		}
		jwk, err := publicJWK(&row)
		if err != nil {
			return err
		}
		keys[row.ID] = &ringKey{row: row, pub: jwk.Key}
	}
	r.ring.keys, r.ring.loadedAt = keys, now
	return nil
}

// fresh reads the keys again when the cache is older than KeyCacheTTL; the
// caller holds ring.mu.
func (r *SigningKeys) fresh(ctx context.Context, db *gorm.DB, now time.Time) error {
	at := r.ring.loadedAt
	if at.IsZero() || now.Sub(at) >= KeyCacheTTL || now.Before(at) {
		return r.load(ctx, db, now)
	}
	return nil
}

// currentSigner returns the current key, decrypted, or nil when there is
// none (a Store that signs with JWT_SECRET alone), reading through db. A
// next key whose time has come is promoted first.
func (r *SigningKeys) currentSigner(ctx context.Context, db *gorm.DB) (*ringSigner, error) {
	now := r.now()
	r.ring.mu.Lock()
	defer r.ring.mu.Unlock()
	if err := r.fresh(ctx, db, now); err != nil {
		return nil, err
	}
	var current, next *ringKey
	for _, k := range r.ring.keys {
		switch k.row.State {
		case models.KeyStateCurrent:
			current = k
		case models.KeyStateNext:
			next = k
		}
	}
	if next != nil && !now.Before(next.row.ActivatesAt) {
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var cur *models.SigningKey
			if current != nil {
				c := current.row
				cur = &c
			}
			n := next.row
			return promote(tx, r.cfg(), now, &n, cur)
		})
		// Another process promoting it first is as good; read what won. A
		// promotion that failed otherwise (a lock held by a caller's
		// transaction) leaves the current key signing; the next signing
		// tries again.
		if err != nil && ctx.Err() != nil {
			return nil, Translate("promote signing key", err)
		}
		if err := r.load(ctx, db, now); err != nil {
			return nil, err
		}
		return r.currentSignerLocked(ctx, db)
	}
	return r.currentSignerLocked(ctx, db)
}

// currentSignerLocked decrypts the ring's current key (once per key).
func (r *SigningKeys) currentSignerLocked(ctx context.Context, db *gorm.DB) (*ringSigner, error) {
	var current *ringKey
	for _, k := range r.ring.keys {
		if k.row.State == models.KeyStateCurrent {
			current = k
		}
	}
	if current == nil {
		return nil, nil
	}
	if s := r.ring.signer; s != nil && s.kid == current.row.ID {
		return s, nil
	}
	if err := r.needProvider(); err != nil {
		return nil, fmt.Errorf("signing key %s is current: %w", current.row.ID, err)
	}
	var sealed string
	if err := db.WithContext(ctx).Model(&models.SigningKey{}).Select("private_key").Where("id = ?", current.row.ID).Scan(&sealed).Error; err != nil {
		return nil, Translate("read signing key", err)
	}
	der, err := envelope.Open(ctx, r.opts.Encryption, sealed, keyBinding(current.row.ID))
	if err != nil {
		return nil, fmt.Errorf("%w: signing key %s does not decrypt: %w", ErrNoSigningKey, current.row.ID, unwrapKind(err))
	}
	defer clear(der)
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: signing key %s: its private key is not PKCS #8", ErrNoSigningKey, current.row.ID)
	}
	r.ring.signer = &ringSigner{kid: current.row.ID, alg: current.row.Algorithm, priv: priv}
	return r.ring.signer, nil
}

// verifier returns the published key kid, for validation, or nil when
// there is none or it was removed. An unknown kid reads the keys again,
// at most once per unknownKidInterval, so that another process's new key
// is seen at once.
func (r *SigningKeys) verifier(ctx context.Context, db *gorm.DB, kid models.UUID) (*ringKey, error) {
	now := r.now()
	r.ring.mu.Lock()
	defer r.ring.mu.Unlock()
	if err := r.fresh(ctx, db, now); err != nil {
		return nil, err
	}
	k, ok := r.ring.keys[kid]
	if !ok && time.Since(r.ring.missAt) >= unknownKidInterval {
		r.ring.missAt = time.Now()
		if err := r.load(ctx, db, now); err != nil {
			return nil, err
		}
		k, ok = r.ring.keys[kid]
	}
	if !ok || k.row.StateAt(now) == models.KeyStateRemoved {
		return nil, nil
	}
	return k, nil
}

// PublicKey returns the published signing key kid (next, current, or
// retired and not removed) as the JWKS lists it: its public key, kid and
// algorithm. It reads the process cache Validate uses (read again after
// KeyCacheTTL, and at once, at most once per second, for a kid it does not
// hold), so, as for Validate, a key another process removed may still be
// returned for up to KeyCacheTTL. It returns ErrInvalidInput for a kid
// that is not a UUID and ErrNotFound for no such key or a removed one.
func (r *SigningKeys) PublicKey(ctx context.Context, kid models.UUID) (jose.JSONWebKey, error) {
	const op = "find public key"
	if err := validID("kid", kid); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%s: %w", op, err)
	}
	k, err := r.verifier(ctx, r.db, kid)
	switch {
	case err != nil:
		return jose.JSONWebKey{}, err
	case k == nil:
		return jose.JSONWebKey{}, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return jose.JSONWebKey{Key: k.pub, KeyID: string(k.row.ID), Algorithm: k.row.Algorithm, Use: "sig"}, nil
}

// hasKeys reports whether any signing key exists (from the cache).
func (r *SigningKeys) hasKeys(ctx context.Context, db *gorm.DB) (bool, error) {
	now := r.now()
	r.ring.mu.Lock()
	defer r.ring.mu.Unlock()
	if err := r.fresh(ctx, db, now); err != nil {
		return false, err
	}
	return len(r.ring.keys) > 0, nil
}
