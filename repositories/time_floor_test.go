package repositories

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTimeFloorStart checks that the floor is the longest of the first
// floorStart calls, so that it starts above the dearer paths.
func TestTimeFloorStart(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	var f timeFloor
	f.pad(done, time.Now().Add(-time.Millisecond))
	f.pad(done, time.Now().Add(-20*time.Millisecond))
	f.pad(done, time.Now().Add(-2*time.Millisecond))
	require.InDelta(t, float64(20*time.Millisecond), f.ns, float64(time.Millisecond), "floor after calls of 1, 20 and 2 ms = %v; want 20 ms", time.Duration(f.ns))
}

// TestTimeFloorQuantile feeds the floor calls of 1 to 100 ms (uniform) and
// checks that it settles near their 99th percentile, 99 ms, and that one
// very slow call moves it by one step, not to its length.
func TestTimeFloorQuantile(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel() // record only: no call waits
	var f timeFloor
	for range 20000 {
		took := time.Duration(1+rand.IntN(100)) * time.Millisecond
		f.pad(done, time.Now().Add(-took))
	}
	floor := time.Duration(f.ns)
	require.InDelta(t, float64(99*time.Millisecond), float64(floor), float64(8*time.Millisecond),
		"floor after 20000 calls of 1-100 ms = %v; want near 99 ms", floor)

	f.pad(done, time.Now().Add(-10*time.Second))
	require.Less(t, time.Duration(f.ns), floor*106/100, "one 10 s call moved the floor from %v to %v", floor, time.Duration(f.ns))
}

// TestTimeFloorWaits checks that a call returns no sooner than the floor
// after it began, and sooner when its context ends.
func TestTimeFloorWaits(t *testing.T) {
	f := timeFloor{ns: float64(30 * time.Millisecond), calls: floorStart}
	start := time.Now()
	f.pad(context.Background(), start)
	require.GreaterOrEqual(t, time.Since(start), 29*time.Millisecond, "a fast call returned before the floor")

	f = timeFloor{ns: float64(time.Minute), calls: floorStart}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	f.pad(ctx, start)
	require.Less(t, time.Since(start), 10*time.Second, "the wait did not end with its context")
}
