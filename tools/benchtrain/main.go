// Command benchtrain times golem's GPT training step (forward, backward, gradient
// clipping, AdamW) on the CPU backend and prints one JSON line: tokens/s, model FLOPs
// per token, the OpenBLAS sgemm FLOP/s measured in the same process, and the loss.
// It is the golem half of `make bench-train` (tools/torchref/bench_train.py runs
// PyTorch). With -serve it reads commands from stdin so the driver can interleave
// golem and PyTorch rounds on a busy machine: "steps N" runs N timed steps and
// prints the wall and CPU seconds, "sgemm" prints an sgemm FLOP/s, "quit" prints the summary.
// -ops adds each backend op's wall time per step (stderr; the op timer wraps the CPU
// backend, which therefore runs the batch whole: gpt.Model.SetShards), -cpuprofile a
// pprof profile. -shards sets gpt.Model.SetShards (-1: every op split over the
// workers), -optimizer muon|adamw overrides the config's optimizer, -spare-p=false
// turns gpt.SpareP off.
//
// -config gpt2 is GPT-2 small (124M: 12 layers, 12 heads, width 768, vocabulary
// 50257) at B=4, T=1024, about 8 GB; with -warmup 0 -min-steps 1 -seconds 0 -sgemm 0
// it runs one training step, which is how BENCHMARKS.md measures its peak RSS
// (/usr/bin/time -f %M; the JSON line also has max_rss_mb and the Go heap).
// -models 2 first trains a throwaway model for one step and drops it, as a
// notebook that re-runs its training cell does: the second model's buffers then
// reuse memory the Go runtime must clear, so every allocated page becomes resident
// (in a fresh process pages never written are never resident).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/golem-lm/golem/lmlib/gpt"
)

var configs = map[string]struct {
	cfg  gpt.Config
	B, T int
}{
	"baby":  {gpt.Config{VocabSize: 65, ContextLen: 64, Layers: 4, Heads: 4, Width: 128, Bias: true}, 12, 64},
	"small": {gpt.Config{VocabSize: 65, ContextLen: 256, Layers: 6, Heads: 6, Width: 384, Bias: true}, 16, 256},
	"gpt2":  {gpt.GPT2Small(), 4, 1024},
	// The modern recipe at the same shapes (gpt.Preset: RoPE, RMSNorm, QK-norm, ReLU²,
	// untied head, soft-cap 15, no biases), trained with Muon on the matrices and AdamW
	// on the rest.
	"baby-modern":  {modern(4, 65, 64), 12, 64},
	"small-modern": {modern(6, 65, 256, 384), 16, 256},
}

// modern is gpt.Preset(depth) with the vocabulary, context and (optionally) width given.
func modern(depth, V, T int, width ...int) gpt.Config {
	c := gpt.Preset(depth)
	c.VocabSize, c.ContextLen = V, T
	if len(width) > 0 {
		c.Width = width[0]
	}
	return c
}

func main() {
	name := flag.String("config", "baby", "baby, small, gpt2 (GPT-2 124M, B=4, T=1024), baby-modern or small-modern")
	seconds := flag.Float64("seconds", 5, "time the steps for at least this long")
	minSteps := flag.Int("min-steps", 3, "time at least this many steps")
	warmup := flag.Int("warmup", 2, "untimed steps first")
	sgemmN := flag.Int("sgemm", 2048, "size of the square sgemm measured for MFU (0: skip)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed steps")
	ops := flag.Bool("ops", false, "print each backend op's wall time per step to stderr")
	serveMode := flag.Bool("serve", false, "take commands from stdin (see the package comment)")
	optimizer := flag.String("optimizer", "", "muon (the modern configs' default) or adamw (every tensor, the GPT-2 configs' default)")
	spareP := flag.Bool("spare-p", true, "let the CPU backend keep an idle P (gpt.SpareP); false keeps GOMAXPROCS as it is")
	shards := flag.Int("shards", gpt.ShardsAuto, "batch shards per step (gpt.Model.SetShards): 0 automatic, -1 none (every op split over the workers), n")
	models := flag.Int("models", 1, "build (and step once) models-1 throwaway models first, in the same process")
	flag.Parse()
	gpt.SpareP = *spareP
	if *serveMode {
		*seconds, *minSteps = -1, 0
	}
	if err := run(*name, *seconds, *minSteps, *warmup, *sgemmN, *cpuprofile, *ops, *models, *shards, *optimizer); err != nil {
		fmt.Fprintln(os.Stderr, "benchtrain:", err)
		os.Exit(1)
	}
}

func run(name string, seconds float64, minSteps, warmup, sgemmN int, cpuprofile string, ops bool, models, shards int, optimizer string) error {
	c, ok := configs[name]
	if !ok {
		return fmt.Errorf("unknown config %q (baby, small, gpt2, baby-modern, small-modern)", name)
	}
	muon := c.cfg.Modern()
	switch optimizer {
	case "":
	case "muon", "adamw":
		muon = optimizer == "muon"
	default:
		return fmt.Errorf("unknown optimizer %q (muon, adamw)", optimizer)
	}
	for i := 1; i < models; i++ {
		if err := throwaway(c.cfg, c.B, c.T); err != nil {
			return err
		}
		runtime.GC()
	}
	var be gpt.Backend // nil: New's CPU backend (and its error if OpenBLAS is missing)
	var tb *timed
	if ops {
		tb = &timed{CPU: gpt.NewCPU(0), t: map[string]time.Duration{}}
		be = tb
	}
	m, err := gpt.NewWithBackend(c.cfg, 1, be)
	if err != nil {
		return err
	}
	if err := m.SetShards(shards); err != nil {
		return err
	}
	// Deterministic pseudo-text: a repeating pattern with noise, so the loss is meaningful.
	rng := gpt.NewRNG(2)
	n := c.B * c.T
	tokens, targets := make([]int32, n), make([]int32, n)
	for i := range tokens {
		tokens[i] = int32(rng.Uint64() % uint64(c.cfg.VocabSize))
		targets[i] = (tokens[i] + 1) % int32(c.cfg.VocabSize)
	}
	mom, vel := make([]float32, m.NumParams()), make([]float32, m.NumParams())
	step := 0
	var loss float32
	train := func() error {
		step++
		m.ZeroGrad()
		l, err := m.ForwardBackward(tokens, targets, c.B, c.T)
		if err != nil {
			return err
		}
		loss = l
		if norm := m.GradNorm(); norm > 1 {
			m.ScaleGrads(1 / norm)
		}
		if !muon {
			m.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, step, mom, vel)
			return nil
		}
		// train.Options{Optimizer: "muon"}'s update: Muon on the matrices, AdamW by kind.
		m.MuonStep(m.MatrixTensors(), 0.02, 0.95, 0, true, muonSteps, mom)
		for _, k := range []gpt.TensorKind{gpt.KindEmbedding, gpt.KindHead, gpt.KindVector} {
			m.AdamWStepOn(m.TensorsOf(k), 1e-3, 0.8, 0.95, 1e-8, 0, step, mom, vel)
		}
		return nil
	}
	for i := 0; i < warmup; i++ {
		if err := train(); err != nil {
			return err
		}
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if tb != nil {
		tb.reset()
	}
	steps, dt := 0, 0.0
	if seconds < 0 {
		if err := serve(train, sgemmN, &steps, &dt); err != nil {
			return err
		}
	} else {
		start := time.Now()
		for steps < minSteps || time.Since(start).Seconds() < seconds {
			if err := train(); err != nil {
				return err
			}
			steps++
		}
		dt = time.Since(start).Seconds()
	}
	if tb != nil && steps > 0 {
		tb.report(os.Stderr, steps, time.Duration(dt*float64(time.Second)))
	}
	out := map[string]any{
		"config": name, "params": m.NumParams(), "steps": steps, "seconds": dt,
		"tok_s": 0.0, "flops_per_token": m.FLOPsPerToken(), "loss": loss, "shards": m.Shards(),
		"gomaxprocs": runtime.GOMAXPROCS(0),
	}
	if w, ok := m.Backend().(*gpt.CPU); ok {
		out["workers"] = w.Workers()
	}
	if muon {
		out["optimizer_flops_per_step"] = newtonSchulzFLOPs(m.MatrixTensors(), muonSteps)
	}
	if dt > 0 {
		out["tok_s"] = float64(steps*n) / dt
	}
	if sgemmN > 0 && seconds >= 0 {
		out["sgemm_flops"] = gpt.SgemmFLOPS(sgemmN, 10, 2)
		out["sgemm_flops_1t"] = gpt.SgemmFLOPS(sgemmN, 5, 1)
	}
	if desc, err := gpt.BLAS(); err == nil {
		out["blas"] = desc
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out["max_rss_mb"] = float64(ru.Maxrss) / 1024 // Linux: KiB
	out["heap_alloc_mb"] = float64(ms.HeapAlloc) / (1 << 20)
	out["heap_sys_mb"] = float64(ms.HeapSys) / (1 << 20)
	return json.NewEncoder(os.Stdout).Encode(out)
}

// throwaway builds a model of cfg, runs one training step at (B,T) and drops it.
func throwaway(cfg gpt.Config, B, T int) error {
	m, err := gpt.New(cfg, 7)
	if err != nil {
		return err
	}
	tokens, targets := make([]int32, B*T), make([]int32, B*T)
	for i := range tokens {
		tokens[i], targets[i] = int32(i%cfg.VocabSize), int32((i+1)%cfg.VocabSize)
	}
	if _, err := m.Forward(tokens, targets, B, T); err != nil {
		return err
	}
	return m.Backward()
}

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// serve runs timed rounds on command (steps N | sgemm | quit), adding to steps and dt.
func serve(train func() error, sgemmN int, steps *int, dt *float64) error {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 2 && f[0] == "steps":
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return fmt.Errorf("command %q: %w", in.Text(), err)
			}
			start, cpu0 := time.Now(), cpuSeconds()
			for i := 0; i < n; i++ {
				if err := train(); err != nil {
					return err
				}
			}
			s := time.Since(start).Seconds()
			*steps += n
			*dt += s
			fmt.Println(s, cpuSeconds()-cpu0)
		case len(f) == 1 && f[0] == "sgemm":
			fmt.Println(gpt.SgemmFLOPS(sgemmN, 5, 2))
			// The measurement allocates three n×n matrices: collect them now, so that
			// a garbage collection it triggered does not run during the next round
			// (training steps allocate nothing themselves).
			runtime.GC()
		case len(f) == 1 && f[0] == "quit":
			return nil
		default:
			return fmt.Errorf("unknown command %q (steps N, sgemm, quit)", in.Text())
		}
	}
	return in.Err()
}

// muonSteps is the Newton–Schulz iterations of the Muon step timed here (train.Options' Muon).
const muonSteps = 5

// newtonSchulzFLOPs is the work of Muon's orthogonalisation in one step (gpt.Model.MuonStep,
// steps iterations): per m×n matrix (m ≤ n) and iteration, the Gram matrix A = XXᵀ
// (ssyrk: m²n), A² (ssyrk: m³) and (bA + cA²)X (sgemm: 2m²n). Added to the model FLOPs
// it gives the hardware's utilisation, where MFU counts the model's alone.
func newtonSchulzFLOPs(ts []gpt.Tensor, steps int) int64 {
	var f int64
	for _, t := range ts {
		m, n := int64(min(t.Shape[0], t.Shape[1])), int64(max(t.Shape[0], t.Shape[1]))
		f += int64(steps) * (3*m*m*n + m*m*m)
	}
	return f
}
