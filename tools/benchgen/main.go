// Command benchgen times golem's KV-cached greedy generation on a seeded GPT and
// exports the same model as an HF GPT-2 checkpoint, so bench_generate.py can time
// transformers on identical weights and check that both produce the same tokens.
//
//	go run ./tools/benchgen -out DIR [-layers 6 -heads 6 -width 384 -vocab 50257 -ctx 256 -prompt 64 -tokens 128]
//
// It prints one JSON object: tokens/s, the prompt ids and the generated ids.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/hf"
)

func main() {
	out := flag.String("out", "", "export the model here as an HF GPT-2 checkpoint (must not exist)")
	layers := flag.Int("layers", 6, "layers")
	heads := flag.Int("heads", 6, "heads")
	width := flag.Int("width", 384, "width")
	vocab := flag.Int("vocab", 50257, "vocabulary")
	ctx := flag.Int("ctx", 256, "context length")
	promptLen := flag.Int("prompt", 64, "prompt tokens")
	n := flag.Int("tokens", 128, "tokens to generate")
	reps := flag.Int("reps", 3, "timed repetitions (best is reported)")
	flag.Parse()
	if err := run(*out, gpt.Config{VocabSize: *vocab, ContextLen: *ctx, Layers: *layers, Heads: *heads, Width: *width, Bias: true}, *promptLen, *n, *reps); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

func run(out string, cfg gpt.Config, promptLen, n, reps int) error {
	m, err := gpt.New(cfg, 42)
	if err != nil {
		return err
	}
	// Sharpen GPT-2's near-uniform initial logits so greedy decoding is not a
	// sequence of near-ties that float rounding could flip between engines.
	for i := range m.Params {
		m.Params[i] *= 3
	}
	if out != "" {
		if err := hf.Export(m, nil, out); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := make([]int32, promptLen)
	for i := range prompt {
		prompt[i] = int32(rng.IntN(cfg.VocabSize))
	}
	g := eval.NewGPT(m)
	var gen []int32
	best := time.Duration(1 << 62)
	for r := 0; r < reps+1; r++ { // first run warms up
		st, err := g.NewStepper()
		if err != nil {
			return err
		}
		start := time.Now()
		gen = gen[:0]
		logits, err := st.Start(prompt)
		if err != nil {
			return err
		}
		for len(gen) < n {
			t := argmax(logits)
			gen = append(gen, t)
			if len(gen) == n {
				break
			}
			if logits, err = st.Step(t); err != nil {
				return err
			}
		}
		if el := time.Since(start); r > 0 && el < best {
			best = el
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"tokens_per_s": float64(n) / best.Seconds(), "seconds": best.Seconds(),
		"prompt": prompt, "generated": gen, "params": m.NumParams(),
	})
}

func argmax(x []float32) int32 {
	b := 0
	for i, v := range x {
		if v > x[b] {
			b = i
		}
	}
	return int32(b)
}
