// Package hooks holds the secret handling that authstore's model hooks
// (package models) and repositories share: Argon2id password hashing, which
// also verifies imported bcrypt hashes, with its parameters and limits; and
// 256-bit random tokens with the SHA-256 digests in which they are stored.
//
// The event vocabulary and request metadata of the activity log live with
// the activity model (package models); PKCE, redirect-URI and scope rules
// live in package protocol.
//
// The package imports neither GORM nor any other package of this module, so
// it can be tested and reused on its own. No error it returns ever contains a
// password, a hash or a token.
package hooks

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength is the shortest password, in characters (runes), that
// CheckPasswordLength accepts.
const MinPasswordLength = 8

// MaxPasswordLength is the longest password, in bytes, that
// CheckPasswordLength and Hasher.Hash accept. Passwords are never truncated.
const MaxPasswordLength = 1024

var (
	// ErrMalformedHash reports a stored hash that cannot be parsed or uses an
	// unknown scheme.
	ErrMalformedHash = errors.New("password hash is malformed")
	// ErrHashParams reports hashing parameters outside the accepted range:
	// below the OWASP floor for new hashes, or above the caps for stored ones.
	ErrHashParams = errors.New("password hash parameters are out of range")
	// ErrPasswordTooShort reports a password shorter than MinPasswordLength.
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	// ErrPasswordTooLong reports a password longer than MaxPasswordLength.
	ErrPasswordTooLong = fmt.Errorf("password must be at most %d bytes", MaxPasswordLength)
)

// Caps on parameters, including those read back from a stored hash, so that a
// hostile hash string cannot make Verify allocate or spin without bound.
const (
	maxMemory      = 256 * 1024 // KiB
	maxIterations  = 16
	maxParallelism = 16
	minSaltLength  = 8 // stored hashes; new hashes need minNewLength
	maxSaltLength  = 64
	minKeyLength   = 16
	maxKeyLength   = 64
	minNewLength   = 16 // salt and key bytes for new hashes
	maxBcryptCost  = 16
	bcryptMaxInput = 72 // bcrypt only reads this many password bytes
)

var b64 = base64.RawStdEncoding.Strict()

// Params are Argon2id parameters.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // bytes
	KeyLength   uint32 // bytes
}

// DefaultParams returns the OWASP minimum for Argon2id: 19 MiB of memory,
// two iterations, one lane, a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// memoryFloor returns OWASP's minimum memory in KiB for t iterations.
func memoryFloor(t uint32) uint32 {
	switch t {
	case 1:
		return 46 * 1024
	case 2:
		return 19 * 1024
	case 3:
		return 12 * 1024
	case 4:
		return 9 * 1024
	default:
		return 7 * 1024
	}
}

// Validate reports, wrapping ErrHashParams, whether p is unfit for new
// hashes: memory below the OWASP floor for its iteration count (46 MiB for
// t=1, 19 MiB for t=2, 12 MiB for t=3, 9 MiB for t=4, 7 MiB for t>=5), salt or
// key shorter than 16 bytes, or any value above the caps (256 MiB, 16
// iterations, 16 lanes, 64-byte salt and key).
func (p Params) Validate() error {
	if err := p.checkCaps(minNewLength); err != nil {
		return err
	}
	if floor := memoryFloor(p.Iterations); p.Memory < floor {
		return fmt.Errorf("%w: memory must be at least %d KiB with %d iterations", ErrHashParams, floor, p.Iterations)
	}
	return nil
}

func (p Params) checkCaps(minSalt uint32) error {
	var msg string
	switch {
	case p.Memory == 0 || p.Memory > maxMemory:
		msg = fmt.Sprintf("memory must be 1 to %d KiB", maxMemory)
	case p.Iterations == 0 || p.Iterations > maxIterations:
		msg = fmt.Sprintf("iterations must be 1 to %d", maxIterations)
	case p.Parallelism == 0 || p.Parallelism > maxParallelism:
		msg = fmt.Sprintf("parallelism must be 1 to %d", maxParallelism)
	case p.SaltLength < minSalt || p.SaltLength > maxSaltLength:
		msg = fmt.Sprintf("salt must be %d to %d bytes", minSalt, maxSaltLength)
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		msg = fmt.Sprintf("key must be %d to %d bytes", minKeyLength, maxKeyLength)
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrHashParams, msg)
}

// Hasher hashes passwords with Argon2id and verifies Argon2id and bcrypt
// hashes. It is immutable and safe for concurrent use.
type Hasher struct {
	params Params
	dummy  string // well-formed hash no password matches, for VerifyDummy
	// slots bounds how many hashes run at once: each Argon2id run holds
	// Params.Memory and a CPU for ~20-40 ms, so a burst of logins must queue
	// here instead of taking every CPU (and the lookups' latency) with it.
	slots chan struct{}
}

// NewHasher returns a Hasher using p, which must pass Params.Validate.
func NewHasher(p Params) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// An all-zero key: verifying against it costs one full Argon2id run.
	dummy := encodePHC(p, make([]byte, p.SaltLength), make([]byte, p.KeyLength))
	return &Hasher{params: p, dummy: dummy, slots: make(chan struct{}, defaultConcurrency())}, nil
}

// defaultConcurrency leaves one CPU free for everything else when there are
// two or more.
func defaultConcurrency() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// WithConcurrency returns a Hasher with h's parameters that runs at most n
// hashes or verifications at once (n >= 1); callers beyond n wait. The
// default is one less than GOMAXPROCS (at least one), so hashing never takes
// every CPU: memory use is bounded by n x Params.Memory.
func (h *Hasher) WithConcurrency(n int) *Hasher {
	c := *h
	c.slots = make(chan struct{}, max(1, n))
	return &c
}

// work runs one hash under the concurrency bound.
func (h *Hasher) work(f func()) {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	f()
}

var defaultHasher = func() *Hasher {
	h, err := NewHasher(DefaultParams())
	if err != nil {
		panic(err)
	}
	return h
}()

// DefaultHasher returns the shared Hasher using DefaultParams.
func DefaultHasher() *Hasher { return defaultHasher }

// Params returns the parameters h hashes with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the Argon2id PHC string of password, salted from crypto/rand.
// It refuses passwords longer than MaxPasswordLength with ErrPasswordTooLong
// but does not enforce MinPasswordLength; see CheckPasswordLength.
func (h *Hasher) Hash(password string) (string, error) {
	return h.HashWithRand(rand.Reader, password)
}

// HashWithRand is like Hash but reads the salt from r. A failing or short
// read returns an error wrapping ErrRandom; there is no fallback.
func (h *Hasher) HashWithRand(r io.Reader, password string) (string, error) {
	if len(password) > MaxPasswordLength {
		return "", ErrPasswordTooLong
	}
	salt, err := readRandom(r, int(h.params.SaltLength))
	if err != nil {
		return "", err
	}
	p := h.params
	var key []byte
	h.work(func() { key = argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength) })
	return encodePHC(p, salt, key), nil
}

func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches encoded, comparing in constant
// time. It accepts Argon2id PHC strings (with any parameters within the caps,
// so older, weaker hashes still verify; see NeedsRehash) and imported bcrypt
// hashes with the $2a$, $2b$ or $2y$ prefix. A wrong password yields
// (false, nil); an unknown scheme or unparsable hash yields ErrMalformedHash;
// parameters above the caps (or a bcrypt cost above 16) yield ErrHashParams
// before any hashing work.
//
// bcrypt only reads the first 72 bytes of a password, so for bcrypt hashes a
// password longer than 72 bytes never matches (the comparison work is still
// done so timing does not differ).
func (h *Hasher) Verify(encoded, password string) (bool, error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, key, err := parseArgon2id(encoded)
		if err != nil {
			return false, err
		}
		var got []byte
		h.work(func() { got = argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength) })
		return subtle.ConstantTimeCompare(got, key) == 1, nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		var ok bool
		var err error
		h.work(func() { ok, err = verifyBcrypt(encoded, password) })
		return ok, err
	}
	return false, ErrMalformedHash
}

// VerifyDummy runs one Argon2id verification with h's parameters against a
// fixed hash that no password matches, and discards the result. Call it when
// the user or client is unknown, so that case costs the same hashing work as
// a wrong password and does not reveal which accounts exist.
func (h *Hasher) VerifyDummy(password string) {
	_, _ = h.Verify(h.dummy, password)
}

// NeedsRehash reports whether encoded should be replaced by a fresh Hash:
// true for bcrypt, for Argon2id with parameters other than h's (weaker or
// merely different), and for malformed hashes.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, err := ParseArgon2id(encoded)
	return err != nil || p != h.params
}

// IsArgon2id reports whether s is a well-formed Argon2id PHC string within
// the caps.
func IsArgon2id(s string) bool {
	_, err := ParseArgon2id(s)
	return err == nil
}

// ParseArgon2id returns the parameters of the Argon2id PHC string s, with
// SaltLength and KeyLength taken from the decoded salt and key. It returns
// ErrMalformedHash for unparsable strings and ErrHashParams for parameters
// above the caps; it does not apply the OWASP floor (see Params.Validate).
func ParseArgon2id(s string) (Params, error) {
	p, _, _, err := parseArgon2id(s)
	return p, err
}

func parseArgon2id(s string) (p Params, salt, key []byte, err error) {
	parts := strings.SplitN(s, "$", 7)
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return p, nil, nil, ErrMalformedHash
	}
	fields := strings.SplitN(parts[3], ",", 4)
	if len(fields) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok || v == "" || (v[0] == '0' && len(v) > 1) {
			return p, nil, nil, ErrMalformedHash
		}
		if vals[i], err = strconv.ParseUint(v, 10, 64); err != nil {
			return p, nil, nil, ErrMalformedHash
		}
	}
	m, t, par := vals[0], vals[1], vals[2]
	if m > maxMemory || t > maxIterations || par > maxParallelism {
		return p, nil, nil, fmt.Errorf("%w: stored parameters exceed the caps", ErrHashParams)
	}
	// Check lengths before decoding so a huge segment is never decoded.
	p = Params{Memory: uint32(m), Iterations: uint32(t), Parallelism: uint8(par),
		SaltLength: uint32(b64.DecodedLen(len(parts[4]))), KeyLength: uint32(b64.DecodedLen(len(parts[5])))}
	if len(parts[4]) > b64.EncodedLen(maxSaltLength) || len(parts[5]) > b64.EncodedLen(maxKeyLength) {
		return Params{}, nil, nil, fmt.Errorf("%w: stored parameters exceed the caps", ErrHashParams)
	}
	if err := p.checkCaps(minSaltLength); err != nil {
		return Params{}, nil, nil, err
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}

func verifyBcrypt(encoded, password string) (bool, error) {
	// $2y$10$ + 22 salt + 31 hash characters.
	if len(encoded) != 60 || encoded[6] != '$' || !isDigit(encoded[4]) || !isDigit(encoded[5]) {
		return false, ErrMalformedHash
	}
	if cost := int(encoded[4]-'0')*10 + int(encoded[5]-'0'); cost < bcrypt.MinCost || cost > maxBcryptCost {
		return false, fmt.Errorf("%w: bcrypt cost must be %d to %d", ErrHashParams, bcrypt.MinCost, maxBcryptCost)
	}
	hash := []byte(encoded)
	if hash[2] == 'y' {
		hash[2] = 'a' // $2y$ (PHP) is the same algorithm as $2a$/$2b$.
	}
	pw := []byte(password)
	tooLong := len(pw) > bcryptMaxInput
	if tooLong {
		pw = pw[:bcryptMaxInput] // do the same work, then report a mismatch
	}
	switch err := bcrypt.CompareHashAndPassword(hash, pw); {
	case err == nil:
		return !tooLong, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, ErrMalformedHash
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// CheckPasswordLength returns ErrPasswordTooShort if p has fewer than
// MinPasswordLength characters, ErrPasswordTooLong if it has more than
// MaxPasswordLength bytes, and nil otherwise.
func CheckPasswordLength(p string) error {
	switch {
	case len(p) > MaxPasswordLength:
		return ErrPasswordTooLong
	case utf8.RuneCountInString(p) < MinPasswordLength:
		return ErrPasswordTooShort
	}
	return nil
}
