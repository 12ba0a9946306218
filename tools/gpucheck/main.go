//go:build cuda

// Command golem-gpucheck verifies golem's CUDA backend (lmlib/gpt/cuda) on a GPU
// machine. It is built on the CPU machine (`make cuda-build`) and carried to the
// GPU machine, where tools/gpucheck/gpucheck.sh runs it (`make gpu-check`):
//
//	golem-gpucheck parity [-bf16 -tol 5e-2]  # CPU vs GPU: loss, logits, every gradient, parameters after AdamW (fp32, ≤ 1e-3 relative)
//	golem-gpucheck train [-bf16]             # a short GPU training run whose loss must fall
//	golem-gpucheck bench [-bf16] [-tiny]     # GPT-2 124M training step at T=1024: one JSON line (tokens/s, MFU), op profile on stderr
//
// Each prints what it compares and exits non-zero on failure.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"time"

	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/gpt/cuda"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: golem-gpucheck parity|train|bench [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "parity":
		err = parity(os.Args[2:])
	case "train":
		err = train(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	default:
		err = fmt.Errorf("unknown check %q (parity, train, bench)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
}

// batch draws B×T tokens and next-token targets from a deterministic Markov-ish
// stream: token t+1 = (a·t + b + small noise) mod V, learnable but not trivial.
func batch(rng *gpt.RNG, V, B, T int) (tokens, targets []int32) {
	tokens = make([]int32, B*T)
	targets = make([]int32, B*T)
	for b := 0; b < B; b++ {
		x := int32(rng.Uint64() % uint64(V))
		for t := 0; t < T; t++ {
			tokens[b*T+t] = x
			next := (x*7 + 3) % int32(V)
			if rng.Uint64()%8 == 0 {
				next = int32(rng.Uint64() % uint64(V))
			}
			targets[b*T+t] = next
			x = next
		}
	}
	return tokens, targets
}

// relErr is max|a−b| / max(max|b|, tiny): the error relative to the tensor's scale.
func relErr(a, b []float32) float64 {
	var d, s float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		s = math.Max(s, math.Abs(float64(b[i])))
	}
	if s < 1e-30 {
		return d
	}
	return d / s
}

func parity(args []string) error {
	fs := flag.NewFlagSet("parity", flag.ExitOnError)
	tol := fs.Float64("tol", 1e-3, "relative tolerance")
	bf16 := fs.Bool("bf16", false, "bf16 matrix-product operands (a sanity check: use a looser -tol)")
	fs.Parse(args)
	dev, err := cuda.Open(cuda.Options{BF16: *bf16})
	if err != nil {
		return err
	}
	fmt.Println("device:", dev)
	type cfgCase struct {
		name string
		cfg  gpt.Config
		B, T int
	}
	cases := []cfgCase{
		{"bias", gpt.Config{VocabSize: 97, ContextLen: 48, Layers: 2, Heads: 4, Width: 64, Bias: true}, 3, 48},
		{"nobias-shortT", gpt.Config{VocabSize: 300, ContextLen: 64, Layers: 3, Heads: 2, Width: 96, Bias: false}, 2, 37},
	}
	failed := 0
	for _, c := range cases {
		host, err := gpt.New(c.cfg, 1234)
		if err != nil {
			return err
		}
		gm, err := cuda.New(dev, host)
		if err != nil {
			return err
		}
		rng := gpt.NewRNG(99)
		tokens, targets := batch(rng, c.cfg.VocabSize, c.B, c.T)
		targets[1] = -1 // an ignored target
		check := func(what string, e float64) {
			status := "ok"
			if e > *tol || math.IsNaN(e) {
				status = "FAIL"
				failed++
			}
			fmt.Printf("parity %-14s %-28s rel=%.2e %s\n", c.name, what, e, status)
		}
		// logits without targets
		if _, err := host.Forward(tokens, nil, c.B, c.T); err != nil {
			return err
		}
		if _, err := gm.Forward(tokens, nil, c.B, c.T); err != nil {
			return err
		}
		gl, err := gm.Logits()
		if err != nil {
			return err
		}
		check("logits", relErr(gl, host.Logits()))
		// loss, gradients (two accumulated micro-batches), grad norm
		host.ZeroGrad()
		if err := gm.ZeroGrad(); err != nil {
			return err
		}
		for micro := 0; micro < 2; micro++ {
			lc, err := host.Forward(tokens, targets, c.B, c.T)
			if err != nil {
				return err
			}
			lg, err := gm.Forward(tokens, targets, c.B, c.T)
			if err != nil {
				return err
			}
			check(fmt.Sprintf("loss (micro-batch %d)", micro), math.Abs(float64(lg-lc))/math.Abs(float64(lc)))
			if err := host.Backward(); err != nil {
				return err
			}
			if err := gm.Backward(); err != nil {
				return err
			}
			tokens, targets = batch(rng, c.cfg.VocabSize, c.B, c.T)
		}
		nc := host.GradNorm()
		ng, err := gm.GradNorm()
		if err != nil {
			return err
		}
		check("grad norm", math.Abs(float64(ng-nc))/float64(nc))
		back, err := gpt.New(c.cfg, 1)
		if err != nil {
			return err
		}
		if err := gm.SyncToHost(back); err != nil {
			return err
		}
		worst, worstName := 0.0, ""
		for _, t := range host.Tensors() {
			e := relErr(back.Grads[t.Offset:t.Offset+t.Size], host.Grads[t.Offset:t.Offset+t.Size])
			if e > worst {
				worst, worstName = e, t.Name
			}
			if e > *tol {
				check("grad "+t.Name, e)
			}
		}
		check("grads (worst: "+worstName+")", worst)
		// one AdamW step with weight decay, after clipping-style scaling
		host.ScaleGrads(0.5)
		if err := gm.ScaleGrads(0.5); err != nil {
			return err
		}
		mS, vS := make([]float32, len(host.Params)), make([]float32, len(host.Params))
		host.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, 1, mS, vS)
		if err := gm.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, 1); err != nil {
			return err
		}
		if err := gm.SyncToHost(back); err != nil {
			return err
		}
		check("params after AdamW", relErr(back.Params, host.Params))
		gmS, gvS := make([]float32, len(mS)), make([]float32, len(vS))
		if err := gm.Moments(gmS, gvS); err != nil {
			return err
		}
		check("AdamW m", relErr(gmS, mS))
		check("AdamW v", relErr(gvS, vS))
		// a second forward on the updated parameters
		lc, err := host.Forward(tokens, targets, c.B, c.T)
		if err != nil {
			return err
		}
		lg, err := gm.Forward(tokens, targets, c.B, c.T)
		if err != nil {
			return err
		}
		check("loss after step", math.Abs(float64(lg-lc))/math.Abs(float64(lc)))
		gm.Close()
	}
	if failed > 0 {
		return fmt.Errorf("parity: %d comparisons above %.0e", failed, *tol)
	}
	fmt.Println("parity: PASS")
	return nil
}

func train(args []string) error {
	fs := flag.NewFlagSet("train", flag.ExitOnError)
	steps := fs.Int("steps", 300, "optimizer steps")
	bf16 := fs.Bool("bf16", false, "bf16 matrix-product operands instead of TF32")
	fs.Parse(args)
	dev, err := cuda.Open(cuda.Options{TF32: true, BF16: *bf16})
	if err != nil {
		return err
	}
	fmt.Println("device:", dev)
	cfg := gpt.Config{VocabSize: 256, ContextLen: 128, Layers: 4, Heads: 4, Width: 256, Bias: true}
	B, T := 16, 128
	host, err := gpt.New(cfg, 7)
	if err != nil {
		return err
	}
	m, err := cuda.New(dev, host)
	if err != nil {
		return err
	}
	defer m.Close()
	rng := gpt.NewRNG(3)
	var first, last float32
	start := time.Now()
	for step := 1; step <= *steps; step++ {
		tokens, targets := batch(rng, cfg.VocabSize, B, T)
		if err := m.ZeroGrad(); err != nil {
			return err
		}
		loss, err := m.Forward(tokens, targets, B, T)
		if err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		if err := m.Backward(); err != nil {
			return err
		}
		norm, err := m.GradNorm()
		if err != nil {
			return err
		}
		if norm > 1 {
			if err := m.ScaleGrads(1 / norm); err != nil {
				return err
			}
		}
		if err := m.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, step); err != nil {
			return err
		}
		if step == 1 {
			first = loss
		}
		last = loss
		if step == 1 || step%50 == 0 {
			fmt.Printf("train step %4d loss %.4f grad-norm %.3f\n", step, loss, norm)
		}
	}
	fmt.Printf("train: loss %.4f → %.4f in %d steps (%.1fs); ln(V)=%.3f; the stream's entropy floor is about %.2f\n",
		first, last, *steps, time.Since(start).Seconds(), math.Log(float64(cfg.VocabSize)), 0.125*math.Log(float64(cfg.VocabSize))+0.38)
	if !(last < 0.6*first) {
		return fmt.Errorf("train: loss did not fall enough (%.4f → %.4f)", first, last)
	}
	fmt.Println("train: PASS")
	return nil
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	B := fs.Int("B", 8, "batch size")
	T := fs.Int("T", 1024, "sequence length")
	steps := fs.Int("steps", 10, "timed steps")
	warmup := fs.Int("warmup", 3, "untimed steps")
	peak := fs.Float64("peak", 989.4e12, "peak FLOP/s for MFU (H100 SXM dense bf16, as llm.c)")
	tf32 := fs.Bool("tf32", true, "TF32 tensor-core matrix products")
	bf16 := fs.Bool("bf16", false, "bf16 matrix-product operands (overrides -tf32)")
	tiny := fs.Bool("tiny", false, "a tiny model instead of GPT-2 124M (smoke test of this command)")
	profile := fs.Int("profile", 2, "after timing, profile this many steps per op (synchronised) on stderr; 0: skip")
	fs.Parse(args)
	dev, err := cuda.Open(cuda.Options{TF32: *tf32, BF16: *bf16})
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "device:", dev)
	cfg := gpt.GPT2Small()
	if *tiny {
		cfg = gpt.Config{VocabSize: 97, ContextLen: *T, Layers: 1, Heads: 2, Width: 32, Bias: true}
	}
	host, err := gpt.New(cfg, 1)
	if err != nil {
		return err
	}
	m, err := cuda.New(dev, host)
	if err != nil {
		return err
	}
	defer m.Close()
	rng := gpt.NewRNG(5)
	tokens := make([]int32, *B**T)
	targets := make([]int32, *B**T)
	for i := range tokens {
		tokens[i] = int32(rng.Uint64() % uint64(cfg.VocabSize))
		targets[i] = int32(rng.Uint64() % uint64(cfg.VocabSize))
	}
	var loss float32
	step := func(i int) error {
		if err := m.ZeroGrad(); err != nil {
			return err
		}
		l, err := m.Forward(tokens, targets, *B, *T)
		if err != nil {
			return err
		}
		loss = l
		if err := m.Backward(); err != nil {
			return err
		}
		norm, err := m.GradNorm()
		if err != nil {
			return err
		}
		if norm > 1 {
			if err := m.ScaleGrads(1 / norm); err != nil {
				return err
			}
		}
		return m.AdamWStep(6e-4, 0.9, 0.95, 1e-8, 0.1, i)
	}
	for i := 1; i <= *warmup; i++ {
		if err := step(i); err != nil {
			return err
		}
	}
	if err := dev.Synchronize(); err != nil {
		return err
	}
	start := time.Now()
	for i := 1; i <= *steps; i++ {
		if err := step(*warmup + i); err != nil {
			return err
		}
	}
	if err := dev.Synchronize(); err != nil {
		return err
	}
	sec := time.Since(start).Seconds() / float64(*steps)
	if *profile > 0 {
		dev.SetProfile(true)
		for i := 1; i <= *profile; i++ {
			if err := step(*warmup + *steps + i); err != nil {
				return err
			}
		}
		printProfile(dev.Profile(), *profile, sec)
		dev.SetProfile(false)
	}
	tps := float64(*B**T) / sec
	flops := float64(host.FLOPsPerToken())
	out := map[string]any{"device": dev.Name(), "B": *B, "T": *T, "tf32": *tf32 && !*bf16, "bf16": *bf16, "step_ms": sec * 1e3,
		"tokens_per_s": tps, "flops_per_token": flops, "mfu": flops * tps / *peak, "loss": loss}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// printProfile writes the per-op times of n profiled steps to stderr, largest first.
func printProfile(p map[string]cuda.OpTime, n int, stepSec float64) {
	names := make([]string, 0, len(p))
	total := 0.0
	for k, v := range p {
		names = append(names, k)
		total += v.Seconds
	}
	sort.Slice(names, func(i, j int) bool { return p[names[i]].Seconds > p[names[j]].Seconds })
	fmt.Fprintf(os.Stderr, "profile: %d synchronised steps, %.1f ms/step in ops (unprofiled step %.1f ms)\n", n, total*1e3/float64(n), stepSec*1e3)
	for _, k := range names {
		v := p[k]
		fmt.Fprintf(os.Stderr, "profile: %-28s %8.2f ms/step %5.1f%% %6d calls/step\n", k, v.Seconds*1e3/float64(n), 100*v.Seconds/total, v.Calls/n)
	}
}
