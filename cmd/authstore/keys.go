package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/spf13/cobra"
)

// keysCommand is `authstore keys`: the signing keys of access tokens.
func (a *app) keysCommand() *cobra.Command {
	cmd := groupCommand(&cobra.Command{
		Use:   "keys",
		Short: "List, rotate, retire signing keys; re-encrypt them under a new master key",
		Long: `keys manages the asymmetric keys that sign access tokens (RFC 9068):
  next     published in the JWKS, not signing yet (OAUTH_SIGNING_KEY_PUBLISH_DELAY)
  current  the one key that signs
  retired  signs no more; validates until every token it signed has expired
  removed  retired and past that time; purge deletes it

Private keys are stored encrypted under the master key AUTHSTORE_ENCRYPTION_KEY
(base64 of 32 bytes: openssl rand -base64 32); earlier master keys go in
AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS until keys reencrypt has run. On a SQLite
database with no AUTHSTORE_ENCRYPTION_KEY, keys rotate and demo generate a
development master key in a file beside the database (DATABASE.master-key,
mode 0600), which every authstore command then reads: set a real one in
production.

Each change writes an activity row.`,
		Example: `  authstore keys rotate && authstore keys list --json
  authstore keys rotate --now
  authstore keys retire KID
  AUTHSTORE_ENCRYPTION_KEY=NEW AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS=OLD authstore keys reencrypt`,
	})
	cmd.AddCommand(a.keysListCommand(), a.keysRotateCommand(), a.keysRetireCommand(), a.keysReencryptCommand())
	return cmd
}

// keyJSON is one key in the output of `keys list --json` and the others.
type keyJSON struct {
	Kid         models.UUID `json:"kid"`
	Algorithm   string      `json:"alg"`
	State       string      `json:"state"`
	ActivatesAt time.Time   `json:"activates_at"`
	RetiredAt   *time.Time  `json:"retired_at,omitempty"`
	RemoveAt    *time.Time  `json:"remove_at,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
}

func newKeyJSON(k *models.SigningKey, now time.Time) keyJSON {
	return keyJSON{Kid: k.ID, Algorithm: k.Algorithm, State: k.StateAt(now), ActivatesAt: k.ActivatesAt,
		RetiredAt: k.RetiredAt, RemoveAt: k.RemoveAt, CreatedAt: k.CreatedAt}
}

func (a *app) keysListCommand() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the signing keys and their states",
		Long: `list prints every signing key, newest first: its kid, algorithm, state and
times. With --json: {"keys": [{"kid", "alg", "state", "activates_at",
"retired_at", "remove_at", "created_at"}], "jwks_max_age_seconds": N}.`,
		Example: `  authstore keys list
  authstore keys list --json | jq -r '.keys[] | select(.state == "current") | .kid'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withExistingStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				keys, err := s.Keys.List(ctx)
				if err != nil {
					return err
				}
				now := s.Now()
				if out.JSON() {
					list := []keyJSON{}
					for i := range keys {
						list = append(list, newKeyJSON(&keys[i], now))
					}
					return printJSON(a.stdout, map[string]any{"keys": list, "jwks_max_age_seconds": int64(s.Config().SigningKeyPublishDelay / 2 / time.Second)})
				}
				if len(keys) == 0 {
					fmt.Fprintln(a.stdout, "no signing keys; make the first with: authstore keys rotate")
					return nil
				}
				rows := make([][]string, 0, len(keys))
				for i := range keys {
					k := &keys[i]
					rows = append(rows, []string{string(k.ID), k.Algorithm, k.StateAt(now), k.ActivatesAt.Format(time.RFC3339), timeOrDash(k.RetiredAt), timeOrDash(k.RemoveAt)})
				}
				return printTable(a.stdout, []string{"KID", "ALG", "STATE", "SIGNS FROM", "RETIRED", "REMOVED AT"}, rows)
			})
		},
	}
	out = addOutput(cmd, "the keys")
	return cmd
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func (a *app) keysRotateCommand() *cobra.Command {
	var out *output
	var alg string
	var now bool
	cmd := &cobra.Command{
		Use:   "rotate [--algorithm RS256|ES256|EdDSA] [--now]",
		Short: "Make a new signing key (the first one signs at once)",
		Long: `rotate makes a new signing key. On a database without keys it is the first
key and signs at once (on a new SQLite file the schema is created first).
Otherwise it is published as the next key, and becomes current, retiring the
current one, after OAUTH_SIGNING_KEY_PUBLISH_DELAY; --now makes it (or the
next key already published) current at once, for a compromised key. A second
rotate while a next key waits fails, naming it.`,
		Example: `  authstore keys rotate
  authstore keys rotate --algorithm EdDSA
  authstore keys rotate --now --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch alg {
			case "", config.AlgorithmRS256, config.AlgorithmES256, config.AlgorithmEdDSA:
			default:
				return usagef("--algorithm %q: want RS256, ES256 or EdDSA", alg)
			}
			cfg, opts, err := a.devConfig()
			if err != nil {
				return err
			}
			return a.withConfigStore(cmd.Context(), cfg, func(ctx context.Context, s *authstore.Store) error {
				k, err := s.Keys.Rotate(ctx, repositories.RotateOptions{Algorithm: alg, Immediately: now})
				if err != nil {
					return noMasterKey(err, s)
				}
				if out.JSON() {
					return printJSON(a.stdout, newKeyJSON(k, s.Now()))
				}
				if k.State == models.KeyStateCurrent {
					fmt.Fprintf(a.stdout, "signing key %s (%s) is current: it signs from now\n", k.ID, k.Algorithm)
				} else {
					fmt.Fprintf(a.stdout, "signing key %s (%s) is published as the next key; it signs from %s\n", k.ID, k.Algorithm, k.ActivatesAt.Format(time.RFC3339))
				}
				return nil
			}, opts...)
		},
	}
	cmd.Flags().StringVar(&alg, "algorithm", "", "RS256, ES256 or EdDSA (default OAUTH_SIGNING_ALGORITHM, RS256)")
	cmd.Flags().BoolVar(&now, "now", false, "make the new (or next) key current at once")
	out = addOutput(cmd, "the key")
	return cmd
}

func (a *app) keysRetireCommand() *cobra.Command {
	var out *output
	cmd := &cobra.Command{
		Use:   "retire KID",
		Short: "Retire a signing key now (the next key, or a new one, takes over)",
		Long: `retire stops a key signing at once; it keeps validating the tokens it signed
until they have expired, then it is removed. Retiring the current key makes
the next key current, or a new key of the same algorithm.`,
		Example: `  authstore keys retire 6c3f7f0e-4d5e-4c8e-9f0a-1b2c3d4e5f60`,
		Args:    uuidArg("key id (kid)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kid := models.UUID(strings.ToLower(args[0]))
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				k, err := s.Keys.Retire(ctx, kid)
				if errors.Is(err, repositories.ErrNotFound) {
					return fmt.Errorf("no signing key with kid %s", kid)
				}
				if err != nil {
					return err
				}
				if out.JSON() {
					return printJSON(a.stdout, newKeyJSON(k, s.Now()))
				}
				fmt.Fprintf(a.stdout, "signing key %s retired; it validates until %s\n", k.ID, timeOrDash(k.RemoveAt))
				return nil
			})
		},
	}
	out = addOutput(cmd, "the key")
	return cmd
}

func (a *app) keysReencryptCommand() *cobra.Command {
	var out *output
	var dryRun bool
	var batch int
	cmd := &cobra.Command{
		Use:   "reencrypt [--dry-run] [--batch-size N]",
		Short: "Re-encrypt every private key and TOTP secret under the current master key",
		Long: `reencrypt moves every reversible secret (the signing keys' private keys, the
users' two-factor TOTP secrets) to AUTHSTORE_ENCRYPTION_KEY, reading those
under a key of AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS, in batches (each its own
transaction). It is resumable: run it again after an interruption and it
skips what is done. Afterwards the previous keys can be dropped.
With --json: {"checked", "reencrypted", "key_id", "dry_run"}.`,
		Example: `  AUTHSTORE_ENCRYPTION_KEY=NEW AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS=OLD authstore keys reencrypt --dry-run
  AUTHSTORE_ENCRYPTION_KEY=NEW AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS=OLD authstore keys reencrypt`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if batch < 1 {
				return usagef("--batch-size must be at least 1, got %d", batch)
			}
			return a.withStore(cmd.Context(), func(ctx context.Context, s *authstore.Store) error {
				res, err := s.Keys.Reencrypt(ctx, repositories.ReencryptOptions{BatchSize: batch, DryRun: dryRun, Progress: func(r repositories.ReencryptResult) {
					if !out.JSON() {
						fmt.Fprintf(a.stderr, "checked %d, re-encrypted %d\n", r.Checked, r.Reencrypted)
					}
				}})
				if err != nil {
					return err
				}
				if out.JSON() {
					return printJSON(a.stdout, res)
				}
				verb := "re-encrypted"
				if dryRun {
					verb = "would re-encrypt"
				}
				fmt.Fprintf(a.stdout, "%s %d of %d secrets (private keys, TOTP secrets) under master key %s\n", verb, res.Reencrypted, res.Checked, res.KeyID)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "count what would be re-encrypted; change nothing")
	cmd.Flags().IntVar(&batch, "batch-size", 100, "secrets per transaction")
	out = addOutput(cmd, "the result")
	return cmd
}

// devKeySuffix names the development master key file beside a SQLite
// database.
const devKeySuffix = ".master-key"

// devKeyPath returns the development master key file of cfg's database:
// beside a SQLite file, nothing for PostgreSQL and memory.
func devKeyPath(cfg config.Config) (string, bool) {
	if cfg.Memory() {
		return "", false
	}
	u, err := cfg.Database()
	if err != nil || u.Dialect != config.DialectSQLite {
		return "", false
	}
	return u.DSN + devKeySuffix, true
}

// readDevMasterKey sets cfg's master key from the development key file
// beside its SQLite database, when AUTHSTORE_ENCRYPTION_KEY is unset and
// the file exists, and likewise the recovery key of two-factor recovery
// codes (AUTHSTORE_RECOVERY_KEY, devRecoveryKeySuffix).
func readDevMasterKey(cfg *config.Config) error {
	path, ok := devKeyPath(*cfg)
	if !ok {
		return nil
	}
	for _, k := range []struct {
		what, path string
		value      *config.Secret
	}{
		{"master key", path, &cfg.EncryptionKey},
		{"recovery key", strings.TrimSuffix(path, devKeySuffix) + devRecoveryKeySuffix, &cfg.RecoveryKey},
	} {
		if *k.value != "" {
			continue
		}
		b, err := os.ReadFile(k.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read the development %s: %w", k.what, err)
		}
		*k.value = config.Secret(strings.TrimSpace(string(b)))
	}
	if _, _, err := cfg.EncryptionKeys(); err != nil {
		return fmt.Errorf("development master key file %s: %w", path, err)
	}
	if _, _, err := cfg.RecoveryKeys(); err != nil {
		return fmt.Errorf("development recovery key file %s%s: %w", strings.TrimSuffix(path, devKeySuffix), devRecoveryKeySuffix, err)
	}
	return nil
}

// devConfig is a.config with devMasterKey applied: the notice of a
// generated development key goes to stderr, and the options that go with
// the configuration are returned.
func (a *app) devConfig() (config.Config, []authstore.Option, error) {
	cfg, err := a.config()
	if err != nil {
		return config.Config{}, nil, err
	}
	opts, notice, err := devMasterKey(&cfg)
	if err != nil {
		return config.Config{}, nil, err
	}
	if notice != "" {
		fmt.Fprintln(a.stderr, notice)
	}
	return cfg, opts, nil
}

// memoryMasterKey gives the in-memory database without
// AUTHSTORE_ENCRYPTION_KEY a master key made for this run (the database
// lives as long as the run: so may its master key), and reports whether it
// did.
func memoryMasterKey(cfg *config.Config) (bool, error) {
	if cfg.EncryptionKey != "" || !cfg.Memory() {
		return false, nil
	}
	key, err := newKeyText()
	if err != nil {
		return false, err
	}
	cfg.EncryptionKey = key
	return true, nil
}

// runRecoveryKey gives cfg without AUTHSTORE_RECOVERY_KEY (and without a
// development key file, on a database that is not a SQLite file) a
// recovery key made for this run, and reports whether it did: the demo's
// recovery codes then work during the run only.
func runRecoveryKey(cfg *config.Config) (bool, error) {
	if cfg.RecoveryKey != "" {
		return false, nil
	}
	key, err := newKeyText()
	if err != nil {
		return false, err
	}
	cfg.RecoveryKey = key
	return true, nil
}

// newKeyText returns a new 32-byte key in standard base64, the form of
// AUTHSTORE_ENCRYPTION_KEY and AUTHSTORE_RECOVERY_KEY.
func newKeyText() (config.Secret, error) {
	key := make([]byte, config.EncryptionKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return config.Secret(base64.StdEncoding.EncodeToString(key)), nil
}

// devRecoveryKeySuffix names the development recovery key file (the HMAC
// key of two-factor recovery codes) beside a SQLite database.
const devRecoveryKeySuffix = ".recovery-key"

// writeDevKey creates a development key file at path (mode 0600, failing
// if it exists) holding a new 32-byte key in standard base64, and returns
// the key.
func writeDevKey(path, what string) (config.Secret, error) {
	enc, err := newKeyText()
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create the development %s %s: %w", what, path, err)
	}
	if _, err := f.WriteString(enc.Reveal() + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write the development %s %s: %w", what, path, err)
	}
	return enc, f.Close()
}

// devRecoveryKey makes sure cfg has a recovery key when its database is a
// SQLite file: with no AUTHSTORE_RECOVERY_KEY it generates the development
// recovery key file beside it and returns the notice that says so.
func devRecoveryKey(cfg *config.Config) (string, error) {
	path, ok := devKeyPath(*cfg)
	if !ok || cfg.RecoveryKey != "" {
		return "", nil
	}
	path = strings.TrimSuffix(path, devKeySuffix) + devRecoveryKeySuffix
	key, err := writeDevKey(path, "recovery key")
	if err != nil {
		return "", err
	}
	cfg.RecoveryKey = key
	return fmt.Sprintf("AUTHSTORE_RECOVERY_KEY is not set: generated a development recovery key in %s (mode 0600)\n"+
		"  for the digests of two-factor recovery codes. In production set a real one, separate from\n"+
		"  AUTHSTORE_ENCRYPTION_KEY: AUTHSTORE_RECOVERY_KEY=$(openssl rand -base64 32)", path), nil
}

// devMasterKey makes sure cfg has a master key when its database is a
// SQLite file: with no AUTHSTORE_ENCRYPTION_KEY it generates the
// development key file, and returns the notice that says so and how to set
// a real key. A database file that does not exist yet is created with the
// schema: the options returned say so.
func devMasterKey(cfg *config.Config) ([]authstore.Option, string, error) {
	path, ok := devKeyPath(*cfg)
	if !ok {
		return nil, "", nil
	}
	var opts []authstore.Option
	if u, err := cfg.Database(); err == nil {
		if st, err := os.Stat(u.DSN); errors.Is(err, fs.ErrNotExist) || err == nil && st.Size() == 0 {
			opts = append(opts, authstore.WithMigrate())
		}
	}
	if cfg.EncryptionKey != "" {
		return opts, "", nil
	}
	key, err := writeDevKey(path, "master key")
	if err != nil {
		return nil, "", err
	}
	cfg.EncryptionKey = key
	return opts, fmt.Sprintf("AUTHSTORE_ENCRYPTION_KEY is not set: generated a development master key in %s (mode 0600);\n"+
		"  authstore commands on this database read it. In production set a real one instead,\n"+
		"  AUTHSTORE_ENCRYPTION_KEY=$(openssl rand -base64 32), kept out of the database's backups\n"+
		"  (move to it with AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS=<this file's key> and authstore keys reencrypt)", path), nil
}
