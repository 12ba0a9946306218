package dist

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// Comm is a group of Size ranks, each a process, this one being Rank. Every rank
// must make the same collective calls in the same order with the same lengths.
type Comm interface {
	Rank() int
	Size() int
	// AllreduceSum replaces buf on every rank by the element-wise sum over all
	// ranks' buf (float32; MPI_Allreduce with MPI_SUM).
	AllreduceSum(buf []float32) error
	// AllreduceSum64 is AllreduceSum on float64 values (losses, flags).
	AllreduceSum64(buf []float64) error
	// Broadcast copies root's buf to every rank.
	Broadcast(buf []byte, root int) error
	// Barrier returns when every rank has called it.
	Barrier() error
	// Close ends the group (MPI_Finalize). A process that exits without Close
	// makes mpirun end the whole job.
	Close() error
	// Name describes the engine ("OpenMPI 4.1.4, 2 ranks", "local").
	Name() string
}

// ErrNoMPI is returned by Init when the program was built without MPI or runs
// outside mpirun.
var ErrNoMPI = errors.New("no MPI")

// UnderMPI reports whether this process was started by mpirun (or another MPI
// launcher that sets the usual variables) and, if so, its rank and size as the
// launcher gives them.
func UnderMPI() (rank, size int, ok bool) {
	for _, v := range [][2]string{{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"}, {"PMIX_RANK", "PMIX_SIZE"}, {"PMI_RANK", "PMI_SIZE"}} {
		r, rs := os.LookupEnv(v[0])
		s, ss := os.LookupEnv(v[1])
		if rs && ss {
			var ri, si int
			if _, err := fmt.Sscan(r, &ri); err != nil {
				continue
			}
			if _, err := fmt.Sscan(s, &si); err != nil {
				continue
			}
			return ri, si, true
		}
	}
	return 0, 1, false
}

// Local is the Comm of a single process: every collective is the identity.
type Local struct{}

func (Local) Rank() int                          { return 0 }
func (Local) Size() int                          { return 1 }
func (Local) AllreduceSum(buf []float32) error   { return nil }
func (Local) AllreduceSum64(buf []float64) error { return nil }
func (Local) Broadcast(buf []byte, root int) error {
	if root != 0 {
		return fmt.Errorf("broadcast from rank %d of 1", root)
	}
	return nil
}
func (Local) Barrier() error { return nil }
func (Local) Close() error   { return nil }
func (Local) Name() string   { return "local (1 rank)" }

// DefaultBucketBytes is the gradient bucket size: PyTorch DDP's default
// bucket_cap_mb of 25 MB.
const DefaultBucketBytes = 25 << 20

// GradSync averages a flat gradient buffer over the ranks of a Comm in buckets:
// the same consecutive slices, in the same order, every call, so every rank runs
// the same sequence of MPI_Allreduce calls and the result is deterministic.
type GradSync struct {
	comm   Comm
	bucket int // floats per bucket
	// Last is the wall time of the last Mean call (the all-reduce and the scaling).
	Last time.Duration
}

// NewGradSync returns a GradSync with buckets of bucketBytes (0:
// DefaultBucketBytes).
func NewGradSync(comm Comm, bucketBytes int) *GradSync {
	if bucketBytes <= 0 {
		bucketBytes = DefaultBucketBytes
	}
	return &GradSync{comm: comm, bucket: max(1, bucketBytes/4)}
}

// Buckets returns the [start, end) ranges Mean reduces for a buffer of n floats.
func (g *GradSync) Buckets(n int) [][2]int {
	var out [][2]int
	for s := 0; s < n; s += g.bucket {
		out = append(out, [2]int{s, min(n, s+g.bucket)})
	}
	return out
}

// Mean replaces grads on every rank by the mean over all ranks: a sum
// all-reduce per bucket, then a scale by 1/Size.
func (g *GradSync) Mean(grads []float32) error {
	t0 := time.Now()
	defer func() { g.Last = time.Since(t0) }()
	n := g.comm.Size()
	if n == 1 {
		return nil
	}
	inv := 1 / float32(n)
	for i, b := range g.Buckets(len(grads)) {
		part := grads[b[0]:b[1]]
		if err := g.comm.AllreduceSum(part); err != nil {
			return fmt.Errorf("all-reduce of gradient bucket %d (floats %d to %d): %w", i, b[0], b[1], err)
		}
		Scale(part, inv)
	}
	return nil
}

// Scale multiplies x by s in place, on GOMAXPROCS goroutines for long slices
// (a 25 MB bucket is memory-bound: one core does not saturate the bandwidth).
func Scale(x []float32, s float32) {
	const chunk = 1 << 18
	w := runtime.GOMAXPROCS(0)
	if len(x) < 2*chunk || w == 1 {
		scale(x, s)
		return
	}
	var wg sync.WaitGroup
	per := (len(x) + w - 1) / w
	for lo := 0; lo < len(x); lo += per {
		wg.Add(1)
		go func(p []float32) {
			defer wg.Done()
			scale(p, s)
		}(x[lo:min(len(x), lo+per)])
	}
	wg.Wait()
}

func scale(x []float32, s float32) {
	for len(x) >= 8 {
		q := x[:8:8]
		q[0] *= s
		q[1] *= s
		q[2] *= s
		q[3] *= s
		q[4] *= s
		q[5] *= s
		q[6] *= s
		q[7] *= s
		x = x[8:]
	}
	for k := range x {
		x[k] *= s
	}
}
