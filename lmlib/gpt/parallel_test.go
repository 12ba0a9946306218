package gpt

import (
	"runtime"
	"testing"
)

// A CPU backend with n ≥ 2 workers keeps one P idle (SpareP): GOMAXPROCS n+1,
// while the default worker count stays what GOMAXPROCS was; with one worker, or
// SpareP off, or GOMAXPROCS already above n, GOMAXPROCS is left alone.
func TestSpareP(t *testing.T) {
	keepProcs(t)
	SpareP = true
	runtime.GOMAXPROCS(2)
	NewCPU(1)
	if g := runtime.GOMAXPROCS(0); g != 2 {
		t.Fatalf("one worker: GOMAXPROCS %d, want 2", g)
	}
	c := NewCPU(0)
	if c.Workers() != 2 || runtime.GOMAXPROCS(0) != 3 || defaultWorkers() != 2 {
		t.Fatalf("default workers on GOMAXPROCS 2: %d workers, GOMAXPROCS %d, default %d; want 2, 3, 2",
			c.Workers(), runtime.GOMAXPROCS(0), defaultWorkers())
	}
	if c := NewCPU(0); c.Workers() != 2 || runtime.GOMAXPROCS(0) != 3 {
		t.Fatalf("a second backend: %d workers, GOMAXPROCS %d; want 2, 3", c.Workers(), runtime.GOMAXPROCS(0))
	}
	NewCPU(3) // more workers than the spare allows for: one more P
	if runtime.GOMAXPROCS(0) != 4 || defaultWorkers() != 2 {
		t.Fatalf("three workers: GOMAXPROCS %d, default %d; want 4, 2", runtime.GOMAXPROCS(0), defaultWorkers())
	}
	runtime.GOMAXPROCS(5) // the user's own setting counts again
	if defaultWorkers() != 5 {
		t.Fatalf("after GOMAXPROCS(5): default %d workers", defaultWorkers())
	}
	NewCPU(2)
	if runtime.GOMAXPROCS(0) != 5 {
		t.Fatalf("GOMAXPROCS 5 already has a spare P for 2 workers; it became %d", runtime.GOMAXPROCS(0))
	}
	SpareP = false
	runtime.GOMAXPROCS(2)
	NewCPU(2)
	if runtime.GOMAXPROCS(0) != 2 {
		t.Fatalf("SpareP off: GOMAXPROCS became %d", runtime.GOMAXPROCS(0))
	}
}

// keepProcs puts GOMAXPROCS and SpareP back as they were when tb ends.
func keepProcs(tb testing.TB) {
	saved, savedOn := runtime.GOMAXPROCS(0), SpareP
	tb.Cleanup(func() {
		runtime.GOMAXPROCS(saved)
		SpareP = savedOn
	})
}
