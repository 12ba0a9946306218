package gpt

import "fmt"

// Data parallelism inside the step.
//
// The CPU backend splits every op over its workers (pool.go's chunks). For a
// small model an op is a millisecond or less, so the split's costs — waking
// workers, waiting for the last chunk, two cores streaming the same operands —
// are a large share of it: the baby config ran one step 1.3–1.5× faster on two
// workers than on one, while two one-worker processes on the two cores ran at
// full speed each (BENCHMARKS.md). A Forward with targets can instead cut the
// batch rows into shards, each with its own op sequence (Net), activations and
// one-worker backend, run the shards side by side and add their gradients: the
// workers meet once per ForwardBackward (twice for Forward + Backward) instead
// of at every op.
//
// The arithmetic depends on the shard count, never on the worker count: the
// classifier scales each shard's dlogits by the whole batch's target count, the
// loss sums the per-row losses in row order, dropout masks are those of the
// unsharded batch (each shard's seed is advanced by its first element's index),
// and Backward adds the shards' gradients in shard order (the first shard
// accumulates into Grads, the others into their own buffers). Shards after the
// first cost one gradient buffer each (4 bytes per parameter).

// shard is batch rows [row0, row0+rows) with the op sequence and buffers that
// run them.
type shard struct {
	net        *Net
	host       hostOps   // Net's Bufs → Params, grads, acts, tokens, targets
	acts       []float32 // ArenaActs for (b,t); grows only
	tokens     []int32
	grads      []float32 // the shard's own gradients (shards after the first); nil: Model.Grads
	row0, rows int
	b, t       int // the layout of acts
}

// prepare lays the shard out for its rows of a (·,T) batch and points it at them.
func (s *shard) prepare(tokens, targets []int32, T int) {
	if s.b != s.rows || s.t != T || s.acts == nil {
		total := s.net.Layout(s.rows, T)
		if cap(s.acts) < total {
			s.acts = make([]float32, total)
		}
		s.acts = s.acts[:total]
		s.host.f32[ArenaActs] = s.acts
		if cap(s.tokens) < s.rows*T {
			s.tokens = make([]int32, s.rows*T)
		}
		s.tokens = s.tokens[:s.rows*T]
		s.host.tokens = s.tokens
		s.b, s.t = s.rows, T
	}
	lo, hi := s.row0*T, (s.row0+s.rows)*T
	copy(s.tokens, tokens[lo:hi])
	s.host.targets = nil
	if targets != nil {
		s.host.targets = targets[lo:hi]
	}
}

// setDropout sets the shard's dropout sites from the batch's seeds (nil: off).
// A site's mask is a function of the seed and the element index in the whole
// batch's tensor (keep), so advancing the seed by the shard's first index gives
// the shard exactly its rows of the unsharded mask.
func (s *shard) setDropout(c Config, seeds []uint64, T int) {
	for i := range s.net.drops {
		if seeds == nil {
			s.net.drops[i] = Dropout{}
			continue
		}
		perRow := T * c.Width // embeddings and residual branches: (B,T,C)
		if i%3 == 1 {
			perRow = c.Heads * T * T // attention probabilities (B,NH,T,T)
		}
		s.net.drops[i] = Dropout{P: c.Dropout, Seed: seeds[i] + uint64(s.row0*perRow)*keepStride}
	}
}

func (s *shard) losses() []float32 { return s.host.f(s.net.Losses()) }

// Shard counts for SetShards besides n ≥ 1.
const (
	ShardsAuto = 0  // one shard per worker on the CPU backend, bounded by memory (autoShards)
	NoShards   = -1 // the batch runs whole and every op is split over the workers
)

// SetShards sets how a Forward with targets (and its Backward) runs on the CPU
// backend: cut into n ≥ 1 shards of batch rows, each run by one worker with every
// op in one piece, shards claimed by the workers in turn (n = 1 is the whole batch
// on one worker); NoShards, the whole batch with every op split over the workers;
// ShardsAuto (the default), one shard per worker as far as autoShards' memory
// bound allows. The result depends on the shard
// count and not on the worker count (shard.go). Other backends take ShardsAuto or
// NoShards only, and run the batch whole.
func (m *Model) SetShards(n int) error {
	if n < NoShards {
		return fmt.Errorf("gpt: SetShards(%d): want a shard count ≥ 1, ShardsAuto (0) or NoShards (-1)", n)
	}
	if _, ok := m.be.(*CPU); n > 0 && !ok {
		return fmt.Errorf("gpt: SetShards(%d): only the CPU backend runs shards (backend %q)", n, m.be.Name())
	}
	m.shardsWant = n
	return nil
}

// Shards returns the number of shards the last Forward ran as; 0 when it ran the
// batch whole with every op split over the workers (and before any Forward).
func (m *Model) Shards() int {
	if len(m.cur) == 0 || &m.cur[0] == &m.split[0] {
		return 0
	}
	return len(m.cur)
}

// shardsFor returns the shards a Forward of (B,T) runs as: the batch whole
// without targets (logits for generation or evaluation), on other backends and
// with NoShards; else SetShards' count or autoShards', at most B.
func (m *Model) shardsFor(B, T int, targets bool) []shard {
	cpu, ok := m.be.(*CPU)
	n := m.shardsWant
	if ok && targets && n == ShardsAuto {
		n = m.autoShards(B, T, cpu.nw)
	}
	if !ok || !targets || n <= 0 {
		m.split[0].row0, m.split[0].rows = 0, B
		return m.split[:]
	}
	n = min(n, B)
	for len(m.sets) <= n {
		m.sets = append(m.sets, nil)
	}
	if m.sets[n] == nil {
		m.sets[n] = m.newShards(n)
	}
	set := m.sets[n]
	for k := range set {
		lo, hi := chunk(B, n, k)
		set[k].row0, set[k].rows = lo, hi-lo
	}
	return set
}

// autoShards is the automatic shard count: one per worker, as long as the
// gradient buffers of the shards after the first (4 bytes per parameter each)
// fit in a quarter of the whole batch's activations or in 256 MiB, whichever is
// larger. Measured on 2 cores (BENCHMARKS.md, *Shards*), two shards ran the baby
// config 1.15–1.25×, the small one 1.06–1.17× and GPT-2 small 1.04–1.06× faster than
// the batch run whole, GPT-2's for 0.6 GB more memory (7.7 → 8.3 GB); the bound
// keeps that cost a fraction of the step's memory on machines with many cores
// (GPT-2 small at B=4, T=1024 takes at most 3 shards, the baby config any number).
func (m *Model) autoShards(B, T, workers int) int {
	a := &m.auto
	if a.b != B || a.t != T || a.workers != workers {
		budget := max(m.sizer.Layout(B, T)/4, autoShardsFloor)
		*a = autoShards{b: B, t: T, workers: workers, n: min(workers, 1+budget/len(m.Params))}
	}
	return a.n
}

// autoShardsFloor is the gradient memory autoShards always allows: 256 MiB, in floats.
var autoShardsFloor = 64 << 20

// autoShards caches autoShards' answer for one batch shape and worker count.
type autoShards struct{ b, t, workers, n int }

// newShards builds n shards, each with its own op sequence and a one-worker CPU
// backend that runs every op in one piece.
func (m *Model) newShards(n int) []shard {
	set := make([]shard, n)
	for k := range set {
		net, err := NewNet(m.Config)
		if err != nil {
			panic(err) // the model's config was validated by New
		}
		s := &set[k]
		s.net = net
		be := NewCPU(1)
		be.p.whole = true
		s.host = hostOps{be: be}
		s.host.f32[ArenaParams], s.host.f32[ArenaGrads] = m.Params, m.Grads
		if k > 0 {
			s.grads = make([]float32, len(m.Params))
			s.host.f32[ArenaGrads] = s.grads
		}
	}
	return set
}

// shardStep is a Forward or Backward of the current shards, one shard per
// chunk of the CPU backend's pool (a struct, not a closure: dispatching it
// allocates nothing).
type shardStep struct {
	m               *Model
	op              shardOp
	tokens, targets []int32
	seeds           []uint64
	T, count        int
}

type shardOp uint8

const (
	opForward         shardOp = iota
	opBackward                // Backward into the shard's gradients
	opForwardBackward         // both
	opLogits                  // recompute the logits into Model.extra
)

func (k *shardStep) run(_, c, _, _ int) {
	m := k.m
	s := &m.cur[c]
	switch k.op {
	case opForward, opForwardBackward:
		s.prepare(k.tokens, k.targets, k.T)
		s.setDropout(m.Config, k.seeds, k.T)
		s.net.Forward(&s.host, k.count)
		if k.op == opForward {
			return
		}
		fallthrough
	case opBackward:
		if s.grads != nil {
			clear(s.grads)
		}
		s.net.Backward(&s.host)
	case opLogits:
		cfg := m.Config
		lnf, head := s.net.ClassifierInputs()
		n, V := s.rows*s.t, cfg.VocabSize
		off := s.row0 * s.t * V
		s.host.be.ClassifierForward(m.extra[off:off+n*V], nil, s.host.f(lnf), s.host.f(head), nil, n, cfg.Width, V, 0, cfg.SoftCap)
	}
}

// runShards runs k over the current shards: in place for the whole batch or one
// shard, else side by side on the CPU backend's workers.
func (m *Model) runShards(k *shardStep) {
	k.m = m
	if len(m.cur) == 1 {
		k.run(0, 0, 0, 1)
	} else {
		m.be.(*CPU).p.runChunks(k, len(m.cur), len(m.cur))
	}
	*k = shardStep{}
}

// addShardGrads adds the gradients of the shards after the first to Grads, in
// shard order, split over the workers by element.
type addShardGrads struct{ m *Model }

func (k *addShardGrads) run(_, _, lo, hi int) {
	g := k.m.Grads[lo:hi]
	for _, s := range k.m.cur[1:] {
		addIntoC(g, s.grads[lo:hi])
	}
}

func (m *Model) sumShardGrads() {
	if len(m.cur) > 1 {
		m.addGrads.m = m
		m.be.(*CPU).p.run(&m.addGrads, len(m.Grads))
	}
}
