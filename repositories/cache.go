package repositories

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// defaultCacheSize bounds the process-local caches below.
const defaultCacheSize = 1024

// lru is a bounded, mutex-protected least-recently-used map. It is
// process-local: every Clients or RefreshTokens value has its own.
type lru[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	order *list.List // front is the most recently used; elements hold K
	items map[K]*lruItem[V]
}

type lruItem[V any] struct {
	elem  *list.Element
	value V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), items: make(map[K]*lruItem[V], max)}
}

// get returns the value for k and marks it recently used.
func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(it.elem)
	return it.value, true
}

// put stores v for k, evicting the least recently used entry when full.
func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[k]; ok {
		it.value = v
		c.order.MoveToFront(it.elem)
		return
	}
	for c.order.Len() >= c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(K))
	}
	c.items[k] = &lruItem[V]{elem: c.order.PushFront(k), value: v}
}

// remove drops k.
func (c *lru[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[k]; ok {
		c.order.Remove(it.elem)
		delete(c.items, k)
	}
}

// len returns the number of entries.
func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
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

// graceEntry is a rotation result kept for the grace window.
type graceEntry struct {
	pair   TokenPair
	usedAt time.Time
}

// graceCache maps a rotated parent's digest to the pair its rotation
// returned, for RefreshTokens' optional grace window. It is process-local
// and bounded; an entry is only served within the window.
type graceCache struct {
	window  time.Duration
	entries *lru[string, graceEntry]
}
