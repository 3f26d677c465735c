package hooks_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/forgeauth/authstore/hooks"
)

const pw = "correct horse battery staple"

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

// phc builds an Argon2id PHC string independently of the package.
func phc(m, t uint32, p uint8, salt []byte, password string) string {
	key := argon2.IDKey([]byte(password), salt, t, m, p, 32)
	e := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p, e.EncodeToString(salt), e.EncodeToString(key))
}

// allocated returns the bytes allocated while running f.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestHashRoundTrip(t *testing.T) {
	h := hooks.DefaultHasher()
	enc, err := h.Hash(pw)
	require.NoError(t, err)
	require.Regexp(t, phcRE, enc)

	p, err := hooks.ParseArgon2id(enc)
	require.NoError(t, err)
	require.Equal(t, hooks.DefaultParams(), p)
	require.GreaterOrEqual(t, p.SaltLength, uint32(16))
	require.True(t, hooks.IsArgon2id(enc))
	require.False(t, h.NeedsRehash(enc))

	ok, err := h.Verify(enc, pw)
	require.NoError(t, err)
	require.True(t, ok)

	ok, err = h.Verify(enc, pw+"!")
	require.NoError(t, err)
	require.False(t, ok)

	// A hash built independently with the same inputs verifies too.
	ok, err = h.Verify(phc(19456, 2, 1, []byte("0123456789abcdef"), pw), pw)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestHashIsSalted(t *testing.T) {
	h := hooks.DefaultHasher()
	a, err := h.Hash(pw)
	require.NoError(t, err)
	b, err := h.Hash(pw)
	require.NoError(t, err)
	require.NotEqual(t, a, b)

	// The salt comes from the reader: the same reader bytes give the same hash.
	salt := bytes.Repeat([]byte{7}, 16)
	c, err := h.HashWithRand(bytes.NewReader(salt), pw)
	require.NoError(t, err)
	require.Equal(t, phc(19456, 2, 1, salt, pw), c)
}

func TestHashRandomFailure(t *testing.T) {
	h := hooks.DefaultHasher()
	_, err := h.HashWithRand(bytes.NewReader(make([]byte, 15)), pw) // short read
	require.ErrorIs(t, err, hooks.ErrRandom)
	_, err = h.HashWithRand(iotest.ErrReader(errors.New("entropy exhausted")), pw)
	require.ErrorIs(t, err, hooks.ErrRandom)
}

func TestVerifyTampered(t *testing.T) {
	h := hooks.DefaultHasher()
	enc, err := h.Hash(pw)
	require.NoError(t, err)
	// Flip the first and the last key character: both must be mismatches of
	// equal length, which the constant-time compare reports as false.
	i := strings.LastIndexByte(enc, '$') + 1
	for _, j := range []int{i, len(enc) - 2} {
		b := []byte(enc)
		b[j] = map[bool]byte{true: 'A', false: 'B'}[b[j] != 'A']
		ok, err := h.Verify(string(b), pw)
		require.NoError(t, err)
		require.False(t, ok)
	}
}

func TestPasswordNotTruncated(t *testing.T) {
	h := hooks.DefaultHasher()
	long := strings.Repeat("p", hooks.MaxPasswordLength)
	enc, err := h.Hash(long)
	require.NoError(t, err)
	ok, err := h.Verify(enc, long[:len(long)-1])
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = h.Verify(enc, long)
	require.NoError(t, err)
	require.True(t, ok)

	_, err = h.Hash(long + "p")
	require.ErrorIs(t, err, hooks.ErrPasswordTooLong)
}

func TestNeedsRehash(t *testing.T) {
	h := hooks.DefaultHasher()

	weak := phc(8*1024, 1, 1, []byte("0123456789abcdef"), pw)
	ok, err := h.Verify(weak, pw) // old hashes still verify...
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, h.NeedsRehash(weak)) // ...but get upgraded

	other, err := hooks.NewHasher(hooks.Params{Memory: 46 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	require.NoError(t, err)
	enc, err := other.Hash(pw)
	require.NoError(t, err)
	require.True(t, h.NeedsRehash(enc))
	require.False(t, other.NeedsRehash(enc))

	bc, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	require.NoError(t, err)
	require.True(t, h.NeedsRehash(string(bc)))
	require.True(t, h.NeedsRehash("garbage"))
}

func TestVerifyBcrypt(t *testing.T) {
	h := hooks.DefaultHasher()
	bc, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(bc), "$2a$"))
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		enc := prefix + string(bc[4:])
		ok, err := h.Verify(enc, pw)
		require.NoError(t, err, prefix)
		require.True(t, ok, prefix)
		ok, err = h.Verify(enc, "wrong password")
		require.NoError(t, err, prefix)
		require.False(t, ok, prefix)
		require.True(t, h.NeedsRehash(enc), prefix)
	}

	// bcrypt reads only 72 bytes; a longer password must not match.
	p72 := strings.Repeat("x", 72)
	bc72, err := bcrypt.GenerateFromPassword([]byte(p72), bcrypt.MinCost)
	require.NoError(t, err)
	ok, err := h.Verify(string(bc72), p72)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = h.Verify(string(bc72), p72+"y")
	require.NoError(t, err)
	require.False(t, ok)

	// Cost is checked before hashing: 2^31 rounds would take hours.
	start := time.Now()
	_, err = h.Verify("$2a$31$"+string(bc[7:]), pw)
	require.ErrorIs(t, err, hooks.ErrHashParams)
	_, err = h.Verify("$2y$17$"+string(bc[7:]), pw)
	require.ErrorIs(t, err, hooks.ErrHashParams)
	_, err = h.Verify("$2b$03$"+string(bc[7:]), pw)
	require.ErrorIs(t, err, hooks.ErrHashParams)
	require.Less(t, time.Since(start), time.Second)

	for _, bad := range []string{string(bc[:59]), string(bc) + "x", "$2a$1x$" + string(bc[7:]), "$2a$04x" + string(bc[7:]), "$2a$04$" + strings.Repeat("!", 53)} {
		ok, err := h.Verify(bad, pw)
		require.ErrorIs(t, err, hooks.ErrMalformedHash, bad)
		require.False(t, ok)
	}
}

func TestHostileParams(t *testing.T) {
	h := hooks.DefaultHasher()
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", strings.Repeat("A", 43)
	hostile := "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key
	var err error
	var elapsed time.Duration
	n := allocated(func() {
		start := time.Now()
		_, err = h.Verify(hostile, pw)
		elapsed = time.Since(start)
	})
	require.ErrorIs(t, err, hooks.ErrHashParams)
	require.Less(t, elapsed, 50*time.Millisecond)
	require.Less(t, n, uint64(1<<20), "bytes allocated")
	require.NotContains(t, err.Error(), salt)

	for _, s := range []string{
		"$argon2id$v=19$m=262145,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=0,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=4294967295,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=17,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key,                              // 4-byte salt
		"$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 88) + "$" + key,     // 66-byte salt
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 11),    // 8-byte key
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 1<<20), // 768 KiB key
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",                              // empty key
	} {
		ok, err := h.Verify(s, pw)
		require.ErrorIs(t, err, hooks.ErrHashParams, s[:min(len(s), 60)])
		require.False(t, ok)
		require.False(t, hooks.IsArgon2id(s))
		require.True(t, h.NeedsRehash(s))
	}
}

func TestMalformedHashes(t *testing.T) {
	h := hooks.DefaultHasher()
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", strings.Repeat("A", 43)
	for _, s := range []string{
		"",
		"hunter2",
		"$argon2id$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$extra",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=18$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m= 19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999999999999999999,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,          // padding
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdB$" + key,  // non-canonical
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRz-Wx0c2FsdA$" + key,  // URL alphabet
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:42] + "!", // bad character
		"$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
		"$2x$10$" + strings.Repeat("a", 53),
		"$1$saltsalt$hash",
	} {
		ok, err := h.Verify(s, pw)
		require.ErrorIs(t, err, hooks.ErrMalformedHash, s)
		require.False(t, ok, s)
		require.False(t, hooks.IsArgon2id(s), s)
		require.True(t, h.NeedsRehash(s), s)
		if s != "" {
			require.NotContains(t, err.Error(), s)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	const MiB = 1024
	p := func(m, t uint32) hooks.Params {
		return hooks.Params{Memory: m, Iterations: t, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	}
	with := func(f func(*hooks.Params)) hooks.Params { q := hooks.DefaultParams(); f(&q); return q }
	for _, tc := range []struct {
		name string
		p    hooks.Params
		ok   bool
	}{
		{"default", hooks.DefaultParams(), true},
		{"19MiB t2", p(19*MiB, 2), true},
		{"18MiB t2", p(18*MiB, 2), false},
		{"46MiB t1", p(46*MiB, 1), true},
		{"45MiB t1", p(45*MiB, 1), false},
		{"19MiB t1", p(19*MiB, 1), false},
		{"12MiB t3", p(12*MiB, 3), true},
		{"11MiB t3", p(11*MiB, 3), false},
		{"9MiB t4", p(9*MiB, 4), true},
		{"7MiB t5", p(7*MiB, 5), true},
		{"7MiB t10", p(7*MiB, 10), true},
		{"6MiB t5", p(6*MiB, 5), false},
		{"256MiB t16", p(256*MiB, 16), true},
		{"257MiB", p(257*MiB, 2), false},
		{"t0", p(64*MiB, 0), false},
		{"t17", p(19*MiB, 17), false},
		{"p0", with(func(q *hooks.Params) { q.Parallelism = 0 }), false},
		{"p17", with(func(q *hooks.Params) { q.Parallelism = 17 }), false},
		{"salt15", with(func(q *hooks.Params) { q.SaltLength = 15 }), false},
		{"salt65", with(func(q *hooks.Params) { q.SaltLength = 65 }), false},
		{"key15", with(func(q *hooks.Params) { q.KeyLength = 15 }), false},
		{"key65", with(func(q *hooks.Params) { q.KeyLength = 65 }), false},
	} {
		err := tc.p.Validate()
		_, herr := hooks.NewHasher(tc.p)
		if tc.ok {
			require.NoError(t, err, tc.name)
			require.NoError(t, herr, tc.name)
		} else {
			require.ErrorIs(t, err, hooks.ErrHashParams, tc.name)
			require.ErrorIs(t, herr, hooks.ErrHashParams, tc.name)
		}
	}
}

func TestVerifyDummy(t *testing.T) {
	h := hooks.DefaultHasher()
	// The dummy verification does a real Argon2id run: it allocates the
	// hasher's full memory cost.
	n := allocated(func() { h.VerifyDummy(pw) })
	require.GreaterOrEqual(t, n, uint64(h.Params().Memory)*1024)
}

func TestCheckPasswordLength(t *testing.T) {
	for _, tc := range []struct {
		p    string
		want error
	}{
		{"", hooks.ErrPasswordTooShort},
		{"1234567", hooks.ErrPasswordTooShort},
		{"éééé", hooks.ErrPasswordTooShort}, // 8 bytes, 4 characters
		{"12345678", nil},
		{"éééééééé", nil},
		{strings.Repeat("a", hooks.MaxPasswordLength), nil},
		{strings.Repeat("a", hooks.MaxPasswordLength+1), hooks.ErrPasswordTooLong},
	} {
		require.ErrorIs(t, hooks.CheckPasswordLength(tc.p), tc.want, tc.p)
	}
	require.Contains(t, hooks.ErrPasswordTooShort.Error(), "8")
	require.Contains(t, hooks.ErrPasswordTooLong.Error(), "1024")
}

func BenchmarkHash(b *testing.B) {
	h := hooks.DefaultHasher()
	for b.Loop() {
		if _, err := h.Hash(pw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := hooks.DefaultHasher()
	enc, err := h.Hash(pw)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := h.Verify(enc, pw); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
