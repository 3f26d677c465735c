package repositories

import (
	"context"
	"sync"
	"time"
)

// The time floor's quantile and step: a call waits until the 99th
// percentile of the recent calls' own durations has passed, a percentile
// tracked by moving it up 5% after a call that took longer and down by
// 5% × 1/99 after one that did not, so that 1 call in 100 is above it.
// One slow call (a GC pause, a lock wait) moves it 5%, not to its length.
// Until floorStart calls have been seen it is the longest of them instead:
// steps of 5% would take dozens of calls to climb from a first, cheap call
// to the dearer paths, which meanwhile would return at their own time.
const (
	floorQuantile = 0.99
	floorStep     = 0.05
	floorStart    = 20
)

// timeFloor is the duration below which a call whose answer must not tell
// whether an account exists does not return (PasswordResets.Request): the
// 99th percentile of the durations of that call's own recent work, known
// and unknown accounts alike, so it follows the database and the load
// instead of a setting. Every call waits until the floor has passed since
// it began, so a cheaper path (an unknown address, a throttled request)
// returns when a dearer one does; only the calls above the floor, 1 in
// 100, return at their own time. It is safe for concurrent use.
type timeFloor struct {
	mu    sync.Mutex
	ns    float64 // the floor in nanoseconds
	calls int     // calls seen, counted up to floorStart
}

// pad records how long the call that began at start took and waits until
// the floor has passed since start, or until ctx ends.
func (f *timeFloor) pad(ctx context.Context, start time.Time) {
	took := time.Since(start)
	f.mu.Lock()
	switch {
	case f.calls < floorStart:
		f.calls++
		f.ns = max(f.ns, float64(took))
	case float64(took) > f.ns:
		f.ns *= 1 + floorStep
	default:
		f.ns *= 1 - floorStep*(1-floorQuantile)/floorQuantile
	}
	wait := time.Duration(f.ns) - took
	f.mu.Unlock()
	if wait <= 0 {
		return
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
