package repositories

import (
	"context"
	"runtime"
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

// floorSpin is how much of the wait pad spends yielding the processor in
// a loop instead of on a timer. A sleeping goroutine wakes up to a
// millisecond late, by an amount that depends on how long it slept (the
// runtime's poller waits in whole milliseconds), so a cheap path, which
// sleeps longer, and a dear one, which sleeps less, returned at different
// offsets past the floor: 0.56 ms against 0.78 ms in TestHardeningTiming
// on a loaded machine, enough for one sample to tell them apart 74% of
// the time. Yielding for the last 2 ms ends every wait within a few
// microseconds of the floor, at the cost of that much processor time per
// call.
const floorSpin = 2 * time.Millisecond

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
// the floor has passed since start, or until ctx ends: on a timer, then
// for the last floorSpin yielding the processor (see floorSpin).
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
	deadline := start.Add(time.Duration(f.ns))
	f.mu.Unlock()
	if wait := time.Until(deadline) - floorSpin; wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		runtime.Gosched()
	}
}
