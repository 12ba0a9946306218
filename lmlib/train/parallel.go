package train

import (
	"errors"
	"fmt"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
)

// Ranks is the group of processes a data-parallel run is split over; lmlib/dist's
// Comm (OpenMPI's MPI_COMM_WORLD under mpirun) satisfies it. Every rank runs the
// same Train call on its own part of each batch.
type Ranks interface {
	Rank() int
	Size() int
	// AllreduceSum replaces buf on every rank by the element-wise sum over ranks.
	AllreduceSum(buf []float32) error
	AllreduceSum64(buf []float64) error
}

// BucketFloats is the size of the gradient buckets a data-parallel step
// all-reduces one after another: 25 MB of float32, PyTorch DDP's default
// bucket_cap_mb.
var BucketFloats = 25 << 20 / 4

// Parallel says how a run is split over data-parallel ranks, and who is told of
// its progress.
type Parallel struct {
	Ranks Ranks // the group; nil runs one process
	// OnStep, when set, is called on rank 0 after every step with the step's
	// point and, if the step measured the validation loss, that measurement
	// (golem train --progress writes them as JSON lines for dist.Launch).
	OnStep func(p Point, eval *EvalPoint)
}

// parallel is the data-parallel part of a run.
type parallel struct {
	ranks     Ranks
	onStep    func(Point, *EvalPoint)
	allreduce time.Duration // in the gradient all-reduce, this call
	steps     int           // steps reduced, this call
	flag      [1]float64
	pair      [2]float64
}

// TrainParallel is Train on one rank of a data-parallel group: each rank's
// trainLoader must be that rank's (shard.LoaderOptions Rank and WorldSize equal to
// ranks'), so the ranks see disjoint parts of every global batch of B·Size windows.
// After each step's backward pass the gradients are averaged over the ranks — an
// all-reduce sum of consecutive buckets of BucketFloats floats, in the same order
// every step, then a scale by 1/Size — and the loss with them, so every rank
// applies the same AdamW update and holds the same weights. The validation loss
// is averaged the same way (give each rank its part of the validation loader too).
// Only rank 0 writes checkpoints and shows progress. An interrupt (Context) on any
// rank stops every rank at the same step boundary. With dropout, each rank draws
// its own random numbers, reseeded from Seed, the step and the rank at every step.
//
// 2 ranks of B/2 follow 1 rank of B to float32 rounding: the batch rows' gradient
// sums are added in another order (see docs/train.md). A nil ranks or one of
// size 1 is Train (with OnStep).
func TrainParallel(m *gpt.Model, trainLoader, valLoader *shard.Loader, opts Options, par Parallel) (*Result, error) {
	var end func()
	opts.Context, end = display.Call(opts.Context)
	defer end()
	r, err := newParallelRun(m, trainLoader, valLoader, opts, par)
	if err != nil {
		return nil, err
	}
	return r.loop()
}

// ResumeParallel is Resume on one rank of a data-parallel group (see
// TrainParallel). The checkpoint may come from a run with another number of
// ranks, provided the global batch (B·Size) and GradAccum are the same: the
// weights and moments are the group's, and the loader position counts global
// batches. Every rank reads the checkpoint (a shared file system, or a copy on
// each machine).
func ResumeParallel(m *gpt.Model, trainLoader, valLoader *shard.Loader, dir string, opts Options, par Parallel) (*Result, error) {
	return resume(m, trainLoader, valLoader, dir, opts, &par)
}

func newParallelRun(m *gpt.Model, trainL, valL *shard.Loader, opts Options, par Parallel) (*run, error) {
	ranks := par.Ranks
	if ranks == nil {
		ranks = one{}
	}
	rank, size := ranks.Rank(), ranks.Size()
	for _, l := range []struct {
		name string
		l    *shard.Loader
	}{{"training", trainL}, {"validation", valL}} {
		if l.l == nil {
			continue
		}
		st := l.l.State()
		if st.Rank != rank || max(1, st.WorldSize) != size {
			return nil, fmt.Errorf("train: the %s loader is rank %d of %d, but this process is rank %d of %d (set shard.LoaderOptions Rank and WorldSize)",
				l.name, st.Rank, max(1, st.WorldSize), rank, size)
		}
	}
	if rank != 0 {
		opts.Quiet = true
	}
	r, err := newRun(m, trainL, valL, opts)
	if err != nil {
		return nil, err
	}
	r.par = &parallel{ranks: ranks, onStep: par.OnStep}
	if size == 1 {
		r.par.ranks = nil // nothing to reduce
	}
	return r, nil
}

// one is the group of a single process.
type one struct{}

func (one) Rank() int                      { return 0 }
func (one) Size() int                      { return 1 }
func (one) AllreduceSum([]float32) error   { return nil }
func (one) AllreduceSum64([]float64) error { return nil }

// multi reports whether the run has more than one rank.
func (r *run) multi() bool { return r.par != nil && r.par.ranks != nil }

// size is the number of data-parallel ranks (1 without).
func (r *run) size() int {
	if !r.multi() {
		return 1
	}
	return r.par.ranks.Size()
}

// notify calls OnStep (rank 0) with the step just done.
func (r *run) notify() {
	if r.par == nil || r.par.onStep == nil || !r.writesCheckpoints() || len(r.res.History) == 0 {
		return
	}
	p := r.res.History[len(r.res.History)-1]
	var ev *EvalPoint
	if n := len(r.res.Evals); n > 0 && r.res.Evals[n-1].Step == p.Step {
		e := r.res.Evals[n-1]
		ev = &e
	}
	r.par.onStep(p, ev)
}

// stopRequested is the interrupt check at a step boundary; with ranks, they agree
// (a one-number all-reduce), so all stop at the same step.
func (r *run) stopRequested() error {
	err := r.o.Context.Err()
	if !r.multi() {
		return err
	}
	r.par.flag[0] = 0
	if err != nil {
		r.par.flag[0] = 1
	}
	if e := r.par.ranks.AllreduceSum64(r.par.flag[:]); e != nil {
		return fmt.Errorf("train: agree on stopping: %w", e)
	}
	if r.par.flag[0] > 0 && err == nil {
		return errors.New("another rank was interrupted")
	}
	return err
}

// beginStep gives each rank its own dropout numbers for the step.
func (r *run) beginStep(step int) {
	if !r.multi() || r.cfg.Dropout == 0 {
		return
	}
	r.rng = gpt.NewRNG(mix(r.o.Seed, uint64(step), uint64(r.par.ranks.Rank())))
}

func mix(vals ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		h ^= v + 0x9e3779b97f4a7c15 + h<<6 + h>>2
		h ^= h >> 31
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 29
	}
	return h
}

// reduceStep averages the gradients (bucket by bucket) and the step's loss over
// the ranks.
func (r *run) reduceStep(step int, loss float32) (float32, error) {
	if !r.multi() {
		return loss, nil
	}
	t0 := time.Now()
	g := r.m.Grads
	n := float32(r.par.ranks.Size())
	for b, s := 0, 0; s < len(g); b, s = b+1, s+BucketFloats {
		part := g[s:min(len(g), s+BucketFloats)]
		if err := r.par.ranks.AllreduceSum(part); err != nil {
			return loss, fmt.Errorf("train: step %d: all-reduce of gradient bucket %d: %w", step, b, err)
		}
	}
	r.m.ScaleGrads(1 / n) // the backend's parallel scale, one pass
	r.par.pair = [2]float64{float64(loss), 0}
	if err := r.par.ranks.AllreduceSum64(r.par.pair[:1]); err != nil {
		return loss, fmt.Errorf("train: step %d: all-reduce of the loss: %w", step, err)
	}
	r.par.allreduce += time.Since(t0)
	r.par.steps++
	r.res.AllreducePerStep = r.par.allreduce / time.Duration(r.par.steps)
	return float32(r.par.pair[0] / float64(n)), nil
}

// evaluate is Evaluate averaged over the ranks (each evaluates its part).
func (r *run) evaluate() (float32, error) {
	vl, err := Evaluate(r.m, r.valL, r.o.EvalBatches)
	if err != nil || !r.multi() {
		return vl, err
	}
	r.par.pair[0] = float64(vl)
	if err := r.par.ranks.AllreduceSum64(r.par.pair[:1]); err != nil {
		return vl, fmt.Errorf("all-reduce of the validation loss: %w", err)
	}
	return float32(r.par.pair[0] / float64(r.par.ranks.Size())), nil
}

// writesCheckpoints reports whether this rank writes checkpoints (rank 0 does).
func (r *run) writesCheckpoints() bool { return !r.multi() || r.par.ranks.Rank() == 0 }
