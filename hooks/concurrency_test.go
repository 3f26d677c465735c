package hooks

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestHasherBoundsConcurrentWork(t *testing.T) {
	if got, want := cap(DefaultHasher().slots), max(1, runtime.GOMAXPROCS(0)-1); got != want {
		t.Fatalf("default concurrency = %d; want %d", got, want)
	}
	h := DefaultHasher().WithConcurrency(2)
	if h.Params() != DefaultParams() {
		t.Fatalf("WithConcurrency changed the parameters")
	}
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.work(func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				runtime.Gosched()
				running.Add(-1)
			})
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Fatalf("peak concurrent hashes = %d; want <= 2", p)
	}
}
