package gpt

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func nowSeconds() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// task is one parallel kernel: run(w, c, lo, hi) processes items [lo,hi), chunk c,
// on worker w (per-worker scratch is indexed by w, per-chunk partial results by c).
// Kernels are structs owned by the backend (not closures), so dispatching one
// allocates nothing.
type task interface {
	run(w, c, lo, hi int)
}

type job struct {
	t        task
	w, n, nc int
	wg       *sync.WaitGroup
}

// pool runs a task over a range cut into a fixed number of chunks that its workers
// take in turn from a shared counter: a worker the OS deschedules (the machine is
// shared) delays one chunk, not half the op. Chunk boundaries depend only on the
// range and the worker count, so per-chunk partial sums, reduced in chunk order,
// make every result deterministic. Worker 0 is the calling goroutine.
type pool struct {
	n    int
	jobs []chan job
	wg   sync.WaitGroup
	next atomic.Int64
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
				p.work(j.t, j.w, j.n, j.nc)
				j.wg.Done()
			}
		}()
	}
	return p
}

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// chunk returns chunk c's share [lo,hi) of n items split into nc chunks.
func chunk(n, nc, c int) (lo, hi int) {
	return n * c / nc, n * (c + 1) / nc
}

// chunks returns how many chunks run(t, n) cuts n items into: 4 per worker, at
// least 8 (so a single worker sees the same boundaries as two), at most n.
func (p *pool) chunks(n int) int {
	nc := 4 * p.n
	if nc < 8 {
		nc = 8
	}
	if nc > n {
		nc = n
	}
	return nc
}

func (p *pool) work(t task, w, n, nc int) {
	for {
		c := int(p.next.Add(1)) - 1
		if c >= nc {
			return
		}
		lo, hi := chunk(n, nc, c)
		t.run(w, c, lo, hi)
	}
}

// run executes t over [0,n) on up to p.n workers and waits for all of them.
func (p *pool) run(t task, n int) {
	nc := p.chunks(n)
	if nc <= 0 {
		return
	}
	nw := p.n
	if nw > nc {
		nw = nc
	}
	p.next.Store(0)
	p.wg.Add(nw - 1)
	for w := 1; w < nw; w++ {
		p.jobs[w-1] <- job{t: t, w: w, n: n, nc: nc, wg: &p.wg}
	}
	p.work(t, 0, n, nc)
	p.wg.Wait()
}

// close stops the worker goroutines.
func (p *pool) close() {
	for _, ch := range p.jobs {
		close(ch)
	}
}
