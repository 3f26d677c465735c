package repositories

import (
	"container/list"
	"sync"
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
