package envelope_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
	"github.com/stretchr/testify/require"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

func newLocal(t testing.TB, current []byte, previous ...[]byte) *envelope.Local {
	t.Helper()
	l, err := envelope.NewLocal(current, previous...)
	require.NoError(t, err)
	return l
}

var row = envelope.Binding{Table: "signing_keys", Column: "private_key", Row: "6c3f7f0e-4d5e-4c8e-9f0a-1b2c3d4e5f60"}

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	p := newLocal(t, newKey(t))
	secret := []byte("a private key, in PKCS #8")
	ct, err := envelope.Seal(ctx, p, secret, row)
	require.NoError(t, err)
	require.NotContains(t, ct, string(secret))
	id, err := envelope.KeyID(ct)
	require.NoError(t, err)
	require.Equal(t, p.CurrentKeyID(), id)

	got, err := envelope.Open(ctx, p, ct, row)
	require.NoError(t, err)
	require.Equal(t, secret, got)

	again, err := envelope.Seal(ctx, p, secret, row)
	require.NoError(t, err)
	require.NotEqual(t, ct, again, "a fresh data key and nonce every time")
}

// A ciphertext opens only where it was sealed: another table, column or
// row, or any changed byte, is ErrTampered (SECURITY 44).
func TestOpenRefusesMisboundOrTampered(t *testing.T) {
	ctx := context.Background()
	p := newLocal(t, newKey(t))
	ct, err := envelope.Seal(ctx, p, []byte("secret"), row)
	require.NoError(t, err)
	for name, b := range map[string]envelope.Binding{
		"other row":    {Table: row.Table, Column: row.Column, Row: "7c3f7f0e-4d5e-4c8e-9f0a-1b2c3d4e5f60"},
		"other column": {Table: row.Table, Column: "public_key", Row: row.Row},
		"other table":  {Table: "users", Column: row.Column, Row: row.Row},
	} {
		_, err := envelope.Open(ctx, p, ct, b)
		require.ErrorIs(t, err, envelope.ErrTampered, name)
	}
	parts := strings.Split(ct, ".")
	for i := 2; i < 4; i++ {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		for _, at := range []int{0, len(raw) / 2, len(raw) - 1} {
			changed := append([]byte(nil), raw...)
			changed[at] ^= 1
			p2 := append([]string(nil), parts...)
			p2[i] = base64.RawURLEncoding.EncodeToString(changed)
			_, err := envelope.Open(ctx, p, strings.Join(p2, "."), row)
			require.ErrorIs(t, err, envelope.ErrTampered, "part %d byte %d", i, at)
		}
	}
	for _, bad := range []string{"", "ae1", "ae1.a.b", "ae2.YQ.YQ.YQ", ct + ".x", strings.Replace(ct, ".", "..", 1)} {
		_, err := envelope.Open(ctx, p, bad, row)
		require.ErrorIs(t, err, envelope.ErrMalformed, "%q", bad)
	}
}

func TestPreviousKeysAndReseal(t *testing.T) {
	ctx := context.Background()
	oldKey, newKeyBytes := newKey(t), newKey(t)
	old := newLocal(t, oldKey)
	ct, err := envelope.Seal(ctx, old, []byte("secret"), row)
	require.NoError(t, err)

	// Only the new key: the ciphertext names a key it does not hold.
	_, err = envelope.Open(ctx, newLocal(t, newKeyBytes), ct, row)
	require.ErrorIs(t, err, envelope.ErrUnknownKeyID)
	require.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString(oldKey))

	rotated := newLocal(t, newKeyBytes, oldKey)
	got, err := envelope.Open(ctx, rotated, ct, row)
	require.NoError(t, err)
	require.Equal(t, "secret", string(got))

	moved, changed, err := envelope.Reseal(ctx, rotated, ct, row)
	require.NoError(t, err)
	require.True(t, changed)
	id, err := envelope.KeyID(moved)
	require.NoError(t, err)
	require.Equal(t, rotated.CurrentKeyID(), id)
	got, err = envelope.Open(ctx, newLocal(t, newKeyBytes), moved, row)
	require.NoError(t, err)
	require.Equal(t, "secret", string(got))

	same, changed, err := envelope.Reseal(ctx, rotated, moved, row)
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, moved, same)

	_, _, err = envelope.Reseal(ctx, rotated, ct, envelope.Binding{Table: "users", Column: "c", Row: "r"})
	require.ErrorIs(t, err, envelope.ErrTampered, "a reseal checks the binding too")
}

func TestLocalKeys(t *testing.T) {
	_, err := envelope.NewLocal(make([]byte, 31))
	require.ErrorContains(t, err, "32 bytes")
	_, err = envelope.NewLocal(newKey(t), make([]byte, 16))
	require.ErrorContains(t, err, "previous master key 1")
	k := newKey(t)
	require.Equal(t, envelope.LocalKeyID(k), newLocal(t, k).CurrentKeyID())
	require.NotEqual(t, envelope.LocalKeyID(k), envelope.LocalKeyID(newKey(t)))
	require.Len(t, newLocal(t, k, k).KeyIDs(), 1, "a previous key equal to the current one is ignored")
}

func TestFromConfig(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	enc := base64.StdEncoding.EncodeToString
	cfg, err := config.LoadFrom(map[string]string{"AUTHSTORE_ENCRYPTION_KEY": enc(k1), "AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS": enc(k2) + ", " + enc(k1)})
	require.NoError(t, err)
	l, err := envelope.FromConfig(cfg)
	require.NoError(t, err)
	require.Equal(t, []string{envelope.LocalKeyID(k1), envelope.LocalKeyID(k2)}, l.KeyIDs())

	none, err := envelope.FromConfig(config.Default())
	require.NoError(t, err)
	require.Nil(t, none)

	for env, want := range map[string]string{
		"AUTHSTORE_ENCRYPTION_KEY": "AUTHSTORE_ENCRYPTION_KEY: want standard base64 of exactly 32 bytes (`openssl rand -base64 32`), got a value of 16 bytes",
	} {
		short := enc(make([]byte, 16))
		_, err := config.LoadFrom(map[string]string{env: short})
		require.ErrorIs(t, err, config.ErrInvalid)
		require.EqualError(t, err, want)
		require.NotContains(t, err.Error(), short)
	}
	bad := "not base64 at all!"
	_, err = config.LoadFrom(map[string]string{"AUTHSTORE_ENCRYPTION_KEY": enc(k1), "AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS": enc(k2) + "," + bad})
	require.EqualError(t, err, "AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS: want standard base64 of exactly 32 bytes (`openssl rand -base64 32`), got key 2 that is not base64")
	_, err = config.LoadFrom(map[string]string{"AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS": enc(k2)})
	require.ErrorIs(t, err, config.ErrInvalid)
	require.ErrorContains(t, err, "AUTHSTORE_ENCRYPTION_KEYS_PREVIOUS: want it only with AUTHSTORE_ENCRYPTION_KEY")
}

// The provider prints its key ids, never a key, under every verb, in JSON
// and in slog; so does a Config holding the keys.
func TestLocalPrintsNoKey(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	l := newLocal(t, k1, k2)
	cfg := config.Default()
	cfg.EncryptionKey = config.Secret(base64.StdEncoding.EncodeToString(k1))
	cfg.EncryptionKeysPrevious = config.Secret(base64.StdEncoding.EncodeToString(k2))
	var outs []string
	for _, v := range []any{l, *l, cfg} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			outs = append(outs, fmt.Sprintf(verb, v))
		}
		j, err := json.Marshal(v)
		require.NoError(t, err)
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
		outs = append(outs, string(j), buf.String())
	}
	for _, out := range outs {
		for _, k := range [][]byte{k1, k2} {
			for _, enc := range []string{string(k), fmt.Sprintf("%x", k), base64.StdEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k)} {
				require.NotContains(t, out, enc)
			}
		}
	}
	require.Contains(t, fmt.Sprint(l), l.CurrentKeyID())
}

// A provider error passes through Seal and Open wrapped, so a KMS outage
// is told apart from a wrong key.
func TestProviderErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("kms unavailable")
	_, err := envelope.Seal(ctx, failing{boom}, []byte("s"), row)
	require.ErrorIs(t, err, boom)
	_, err = envelope.Seal(ctx, newLocal(t, newKey(t)), []byte("s"), envelope.Binding{Table: "t", Column: "c"})
	require.ErrorContains(t, err, "binding row")
}

type failing struct{ err error }

func (f failing) CurrentKeyID() string { return "kms:1" }
func (f failing) WrapKey(context.Context, []byte, []byte) (string, []byte, error) {
	return "", nil, f.err
}
func (f failing) UnwrapKey(context.Context, string, []byte, []byte) ([]byte, error) {
	return nil, f.err
}
