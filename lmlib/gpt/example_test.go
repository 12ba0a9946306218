package gpt_test

import (
	"fmt"

	"github.com/golem-lm/golem/lmlib/gpt"
)

// A few AdamW steps on one batch of a tiny model: the loss falls.
func Example() {
	cfg := gpt.Config{VocabSize: 16, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: true}
	m, err := gpt.New(cfg, 1)
	if err != nil {
		panic(err)
	}
	B, T := 2, 8
	tokens := make([]int32, B*T)
	targets := make([]int32, B*T)
	for i := range tokens {
		tokens[i] = int32(i % cfg.VocabSize)
		targets[i] = int32((i + 1) % cfg.VocabSize)
	}
	mom := make([]float32, m.NumParams())
	vel := make([]float32, m.NumParams())
	var first, last float32
	for step := 1; step <= 20; step++ {
		loss, err := m.Forward(tokens, targets, B, T)
		if err != nil {
			panic(err)
		}
		if step == 1 {
			first = loss
		}
		last = loss
		m.ZeroGrad()
		if err := m.Backward(); err != nil {
			panic(err)
		}
		m.AdamWStep(1e-2, 0.9, 0.95, 1e-8, 0.1, step, mom, vel)
	}
	fmt.Printf("%d parameters, loss fell: %v\n", m.NumParams(), last < first/2)
	// Output: 6976 parameters, loss fell: true
}
