//go:build mpi

// Command benchdp times the gradient all-reduce of a data-parallel step under
// mpirun: lmlib/dist's GradSync.Mean (MPI_Allreduce of 25 MB buckets, then the
// scale by 1/ranks) over a buffer of -floats float32 values, -iters times after
// -warmup untimed calls. Rank 0 prints one JSON line: the median, min and mean
// milliseconds per call. make bench-train-dp runs it beside PyTorch DDP's gloo.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/golem-lm/golem/lmlib/dist"
)

func main() {
	floats := flag.Int("floats", 124_439_808, "gradient floats (GPT-2 124M: 124,439,808)")
	iters := flag.Int("iters", 5, "timed all-reduces")
	warmup := flag.Int("warmup", 1, "untimed all-reduces first")
	bucket := flag.Int("bucket-bytes", dist.DefaultBucketBytes, "bucket size in bytes")
	sumOnly := flag.Bool("sum-only", false, "time the all-reduce alone, without the 1/ranks scale")
	flag.Parse()
	comm, err := dist.Init()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchdp:", err)
		os.Exit(1)
	}
	defer comm.Close()
	g := make([]float32, *floats)
	for i := range g {
		g[i] = float32(i%1000) * 1e-3 * float32(comm.Rank()+1)
	}
	sync := dist.NewGradSync(comm, *bucket)
	var ms []float64
	for i := 0; i < *warmup+*iters; i++ {
		if err := comm.Barrier(); err != nil {
			fmt.Fprintln(os.Stderr, "benchdp:", err)
			os.Exit(1)
		}
		t0 := time.Now()
		var err error
		if *sumOnly {
			for _, b := range sync.Buckets(len(g)) {
				if err = comm.AllreduceSum(g[b[0]:b[1]]); err != nil {
					break
				}
			}
		} else {
			err = sync.Mean(g)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchdp:", err)
			os.Exit(1)
		}
		if i >= *warmup {
			ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
		}
	}
	if comm.Rank() == 0 {
		sorted := append([]float64(nil), ms...)
		sort.Float64s(sorted)
		sum := 0.0
		for _, v := range ms {
			sum += v
		}
		json.NewEncoder(os.Stdout).Encode(map[string]any{"engine": comm.Name(), "ranks": comm.Size(), "floats": *floats,
			"buckets": len(sync.Buckets(*floats)), "median_ms": sorted[len(sorted)/2], "min_ms": sorted[0], "mean_ms": sum / float64(len(ms)), "ms": ms})
	}
}
