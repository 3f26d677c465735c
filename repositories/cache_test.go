package repositories

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLRU(t *testing.T) {
	c := newLRU[int, string](3)
	for i := range 3 {
		c.put(i, fmt.Sprint(i))
	}
	_, ok := c.get(0) // 0 becomes the most recently used
	require.True(t, ok)
	c.put(3, "3") // evicts 1, the least recently used
	_, ok = c.get(1)
	require.False(t, ok)
	for _, k := range []int{0, 2, 3} {
		v, ok := c.get(k)
		require.True(t, ok, k)
		require.Equal(t, fmt.Sprint(k), v)
	}
	require.Equal(t, 3, c.len())
	c.remove(2)
	require.Equal(t, 2, c.len())
}

func TestVerifiedSecretsKeyedByHash(t *testing.T) {
	v := newVerifiedSecrets(2)
	v.add("client", "hash-1", "secret")
	require.True(t, v.contains("client", "hash-1", "secret"))
	require.False(t, v.contains("client", "hash-2", "secret"), "a new hash (rotation) must miss")
	require.False(t, v.contains("client", "hash-1", "secreT"))
	require.False(t, v.contains("other", "hash-1", "secret"))
	// Field boundaries are unambiguous.
	require.False(t, v.contains("clienth", "ash-1", "secret"))
	// Bounded.
	v.add("a", "b", "c")
	v.add("d", "e", "f")
	require.Equal(t, 2, v.entries.len())
}
