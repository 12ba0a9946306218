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

// pool runs a task over a range cut into a fixed number of chunks that its workers
// claim in turn from a shared counter. The caller works too and waits only for
// chunks in flight, never for a worker to wake up: on a shared machine a worker
// the OS has descheduled costs nothing (the caller takes its chunks) instead of a
// scheduling latency per op. Chunk boundaries depend only on the range and the
// worker count, so per-chunk partial sums, reduced in chunk order, make every
// result deterministic. Worker 0 is the calling goroutine.
type pool struct {
	n     int
	whole bool // one chunk per op: a shard's single worker (shard.go)

	mu     sync.Mutex
	cond   *sync.Cond
	epoch  uint32 // op counter, guarded by mu for the published op below
	t      task
	items  int
	nc     int
	closed bool

	// claim holds epoch<<32 | next chunk index; a worker claims a chunk with a CAS
	// that fails once the caller has moved on to another op.
	claim atomic.Uint64
	done  atomic.Int64  // chunks finished in the current op
	fin   chan struct{} // one token per op, sent by whoever finishes its last chunk

	multi multiTask // runAll's task, owned by the dispatching goroutine
}

func newPool(n int) *pool {
	if n < 1 {
		n = 1
	}
	p := &pool{n: n, fin: make(chan struct{}, 1)}
	p.cond = sync.NewCond(&p.mu)
	for w := 1; w < n; w++ {
		go p.worker(w)
	}
	return p
}

func (p *pool) worker(w int) {
	var seen uint32
	for {
		p.mu.Lock()
		for p.epoch == seen && !p.closed {
			p.cond.Wait()
		}
		if p.closed {
			p.mu.Unlock()
			return
		}
		seen = p.epoch
		t, items, nc := p.t, p.items, p.nc
		p.mu.Unlock()
		p.work(t, w, items, nc, seen)
	}
}

// defaultWorkers is GOMAXPROCS, not counting the spare P that reserveSpareP added.
func defaultWorkers() int {
	procs.Lock()
	defer procs.Unlock()
	g := runtime.GOMAXPROCS(0)
	if procs.set != 0 && g == procs.set {
		return procs.base
	}
	return g
}

// SpareP, when true (the default), lets a CPU backend with n ≥ 2 workers raise
// GOMAXPROCS to n+1 if it is lower (once, when the backend is made). Set it to
// false before making a model to keep GOMAXPROCS as it is.
//
// Why: the workers spend their time in C (OpenBLAS and the kernels), and Go's
// scheduler takes the P (the right to run Go code) from a thread that has been in
// a C call for more than 20 µs whenever no P is idle, and hands it to a new thread
// that looks for work. With every P busy in C, that happened for most of the
// calls of a step: the handed-off thread ran on one of the cores the workers
// need, and a worker back from C waited for a P. Measured on the baby config, two
// workers on two cores (GOMAXPROCS 2): ~90 involuntary context switches per
// shard per step, each shard off its core ~2.5 ms of ~27, the two shards of a
// step apart by 4–4.6 ms (median); with a third, idle P the scheduler leaves the
// Ps alone: 26–28 switches, the shards 0.9–1.3 ms apart, the step 9–12% faster.
// The spare P runs Go code only when more goroutines than workers are ready.
var SpareP = true

// procs records the GOMAXPROCS that reserveSpareP found (base) and set.
var procs struct {
	sync.Mutex
	base, set int
}

// reserveSpareP raises GOMAXPROCS to workers+1 when SpareP is on, workers ≥ 2
// and GOMAXPROCS ≤ workers.
func reserveSpareP(workers int) {
	if !SpareP || workers < 2 {
		return
	}
	procs.Lock()
	defer procs.Unlock()
	g := runtime.GOMAXPROCS(0)
	if g > workers {
		return
	}
	if procs.set == 0 || g != procs.set {
		procs.base = g
	}
	procs.set = workers + 1
	runtime.GOMAXPROCS(workers + 1)
}

// chunk returns chunk c's share [lo,hi) of n items split into nc chunks.
func chunk(n, nc, c int) (lo, hi int) {
	return n * c / nc, n * (c + 1) / nc
}

// chunks returns how many chunks run(t, n) cuts n items into: 4 per worker, at
// least 8 (so a single worker sees the same boundaries as two), at most n; one
// for a whole pool.
func (p *pool) chunks(n int) int {
	if p.whole {
		return min(1, n)
	}
	nc := 4 * p.n
	if nc < 8 {
		nc = 8
	}
	if nc > n {
		nc = n
	}
	return nc
}

// work claims and runs chunks of op epoch until none are left.
func (p *pool) work(t task, w, n, nc int, epoch uint32) {
	for {
		v := p.claim.Load()
		c := int(uint32(v))
		if uint32(v>>32) != epoch || c >= nc {
			return
		}
		if !p.claim.CompareAndSwap(v, v+1) {
			continue
		}
		lo, hi := chunk(n, nc, c)
		t.run(w, c, lo, hi)
		if p.done.Add(1) == int64(nc) {
			p.fin <- struct{}{}
		}
	}
}

// run executes t over [0,n) and returns when every chunk is done.
func (p *pool) run(t task, n int) { p.runChunks(t, n, p.chunks(n)) }

// runAll executes independent tasks as one dispatch: their chunks (each task cut as
// run would cut it, with the same chunk indices) are claimed from one counter, so
// the workers are woken and waited for once. MatmulBackward's input, weight and
// bias gradients were three dispatches; waking a sleeping worker costs tens of
// microseconds, a sizeable share of a small op. Chunks are claimed in part order,
// so a part cut into few large chunks (few: one per worker) goes first and parts
// with many small chunks after it even out the workers' finishing times. A weight
// gradient is such a part: each chunk of it repacks a whole operand (768×512 at
// baby size), and one chunk per worker instead of four made the step 2–5% faster.
func (p *pool) runAll(parts ...part) {
	if len(parts) > len(p.multi.parts) {
		panic("gpt: pool.runAll: too many parts")
	}
	m := &p.multi
	m.k, m.total = len(parts), 0
	for i, pt := range parts {
		pt.nc = p.chunks(pt.n)
		if pt.few {
			pt.nc = min(p.n, pt.n)
		}
		m.parts[i] = pt
		m.total += pt.nc
	}
	p.runChunks(m, m.total, m.total)
	*m = multiTask{}
}

// part is one task of runAll over [0,n).
type part struct {
	t     task
	n, nc int
	few   bool // one chunk per worker (weight gradients: see runAll)
}

type multiTask struct {
	parts    [3]part
	k, total int
}

// run maps the dispatch's chunk c to a chunk of one part.
func (m *multiTask) run(w, c, _, _ int) {
	for _, pt := range m.parts[:m.k] {
		if c < pt.nc {
			lo, hi := chunk(pt.n, pt.nc, c)
			pt.t.run(w, c, lo, hi)
			return
		}
		c -= pt.nc
	}
}

func (p *pool) runChunks(t task, n, nc int) {
	if nc <= 0 {
		return
	}
	if p.n == 1 || nc == 1 {
		for c := 0; c < nc; c++ {
			lo, hi := chunk(n, nc, c)
			t.run(0, c, lo, hi)
		}
		return
	}
	p.mu.Lock()
	p.epoch++
	epoch := p.epoch
	p.t, p.items, p.nc = t, n, nc
	p.done.Store(0)
	p.claim.Store(uint64(epoch) << 32)
	p.mu.Unlock()
	p.cond.Broadcast()
	p.work(t, 0, n, nc, epoch)
	<-p.fin // blocks (without spinning) only while another worker finishes a chunk
	p.mu.Lock()
	p.t = nil // let the task's buffers go
	p.mu.Unlock()
}

// close stops the worker goroutines.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cond.Broadcast()
}
