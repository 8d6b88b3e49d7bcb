package ova

import (
	"runtime"
	"sync"
)

// parallel splits [0,n) into contiguous chunks over workers goroutines.
// Chunks write disjoint outputs, so results do not depend on scheduling.
func parallel(n, workers int, f func(lo, hi int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if n < 64 || workers == 1 {
		f(0, n)
		return
	}
	workers = min(workers, n/32)
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	wg.Wait()
}
