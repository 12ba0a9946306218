package gpt

import (
	"runtime"
	"sync"
	"time"
)

func nowSeconds() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// task is one parallel kernel: run(w, lo, hi) processes items [lo,hi) on worker w.
// Kernels are structs owned by the backend (not closures), so dispatching one
// allocates nothing.
type task interface {
	run(w, lo, hi int)
}

type job struct {
	t         task
	w, lo, hi int
	wg        *sync.WaitGroup
}

// pool runs a task over a range split into one contiguous chunk per worker. Worker 0
// is the calling goroutine; the others are long-lived goroutines fed by channels.
type pool struct {
	n    int
	jobs []chan job
	wg   sync.WaitGroup
}

func newPool(n int) *pool {
	if n < 1 {
		n = 1
	}
	p := &pool{n: n}
	for i := 1; i < n; i++ {
		ch := make(chan job, 1)
		p.jobs = append(p.jobs, ch)
		go func() {
			for j := range ch {
				j.t.run(j.w, j.lo, j.hi)
				j.wg.Done()
			}
		}()
	}
	return p
}

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// chunk returns worker w's share [lo,hi) of n items split over nw workers.
func chunk(n, nw, w int) (lo, hi int) {
	return n * w / nw, n * (w + 1) / nw
}

// run executes t over [0,n) on up to p.n workers and waits for all of them.
func (p *pool) run(t task, n int) {
	nw := p.n
	if n < nw {
		nw = n
	}
	if nw <= 1 {
		if n > 0 {
			t.run(0, 0, n)
		}
		return
	}
	p.wg.Add(nw - 1)
	for w := 1; w < nw; w++ {
		lo, hi := chunk(n, nw, w)
		p.jobs[w-1] <- job{t: t, w: w, lo: lo, hi: hi, wg: &p.wg}
	}
	lo, hi := chunk(n, nw, 0)
	t.run(0, lo, hi)
	p.wg.Wait()
}

// close stops the worker goroutines.
func (p *pool) close() {
	for _, ch := range p.jobs {
		close(ch)
	}
}
