package gpt_test

import (
	"fmt"
	"math"

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
		m.ZeroGrad()
		loss, err := m.ForwardBackward(tokens, targets, B, T) // Forward then Backward
		if err != nil {
			panic(err)
		}
		if step == 1 {
			first = loss
		}
		last = loss
		m.AdamWStep(1e-2, 0.9, 0.95, 1e-8, 0.1, step, mom, vel)
	}
	fmt.Printf("%d parameters, loss fell: %v\n", m.NumParams(), last < first/2)
	// Output: 6976 parameters, loss fell: true
}

// The default "baby" config: its size, training cost per token, and the tensor
// names an export uses.
func ExampleNew() {
	m, err := gpt.New(gpt.DefaultConfig(), 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.NumParams(), "parameters,", m.FLOPsPerToken(), "FLOPs per token")
	for _, t := range m.Tensors()[:4] {
		fmt.Println(t.Name, t.Shape, "decay:", t.Decay)
	}
	// Output:
	// 809856 parameters, 5203200 FLOPs per token
	// wte [65 128] decay: true
	// wpe [64 128] decay: true
	// h.0.ln_1.weight [128] decay: false
	// h.0.ln_1.bias [128] decay: false
}

// Training cuts the batch into one shard of rows per worker; the shards give the
// unsharded loss and gradients up to rounding.
func ExampleModel_SetShards() {
	cfg := gpt.Config{VocabSize: 16, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: true}
	B, T := 4, 8
	tokens, targets := make([]int32, B*T), make([]int32, B*T)
	for i := range tokens {
		tokens[i], targets[i] = int32(i*7%16), int32((i*7+3)%16)
	}
	var loss [2]float32
	var grads [2][]float32
	for i, shards := range []int{gpt.NoShards, 2} {
		m, err := gpt.NewWithBackend(cfg, 1, gpt.NewCPU(2))
		if err != nil {
			panic(err)
		}
		if err := m.SetShards(shards); err != nil {
			panic(err)
		}
		if loss[i], err = m.ForwardBackward(tokens, targets, B, T); err != nil {
			panic(err)
		}
		grads[i] = m.Grads
		fmt.Printf("SetShards(%d): ran as %d shards\n", shards, m.Shards())
	}
	worst := 0.0
	for j := range grads[0] {
		worst = max(worst, math.Abs(float64(grads[0][j]-grads[1][j])))
	}
	fmt.Printf("loss %.4f and %.4f, gradients within 1e-6: %v\n", loss[0], loss[1], worst < 1e-6)
	// Output:
	// SetShards(-1): ran as 0 shards
	// SetShards(2): ran as 2 shards
	// loss 2.7801 and 2.7801, gradients within 1e-6: true
}

// Bad input is an error naming what is wrong.
func ExampleModel_Forward() {
	m, _ := gpt.New(gpt.Config{VocabSize: 10, ContextLen: 4, Layers: 1, Heads: 1, Width: 8}, 1)
	_, err := m.Forward([]int32{1, 2, 12, 3}, nil, 1, 4)
	fmt.Println(err)
	_, err = m.Forward(make([]int32, 10), nil, 2, 5)
	fmt.Println(err)
	// Output:
	// gpt forward: token id 12 at batch row 0 position 2 is outside the vocabulary [0,10)
	// gpt forward: sequence length T=5 exceeds the model's context length 4
}

// CheckBatch is the batch check both engines run before a forward pass; it
// counts the targets the loss is averaged over (-1 = ignored).
func ExampleConfig_CheckBatch() {
	cfg := gpt.Config{VocabSize: 10, ContextLen: 4, Layers: 1, Heads: 1, Width: 8}
	n, err := cfg.CheckBatch([]int32{1, 2, 3, 4}, []int32{2, 3, 4, -1}, 1, 4)
	fmt.Println(n, err)
	_, err = cfg.CheckBatch([]int32{1, 2, 3, 4}, []int32{-1, -1, -1, -1}, 1, 4)
	fmt.Println(err)
	// Output:
	// 3 <nil>
	// every target of the 1×4 batch is -1 (ignored)
}

// A Net is the op sequence for one batch shape; Layout sizes the activation arena
// from the activation size table (llm.c's act_sizes). An engine allocates that
// many floats and runs Forward/Backward through its Ops.
func ExampleNet_Layout() {
	net, err := gpt.NewNet(gpt.GPT2Small())
	if err != nil {
		panic(err)
	}
	floats := net.Layout(4, 1024)
	fmt.Printf("GPT-2 small, B=4, T=1024: %d activation floats (%.2f GB)\n", floats, float64(floats)*4/1e9)
	// Output:
	// GPT-2 small, B=4, T=1024: 1454915584 activation floats (5.82 GB)
}

// The modern recipe at depth 4: the baby shape with RoPE, RMSNorm, QK-norm, ReLU²,
// an untied head and a soft-cap; Muon updates the matrices, AdamW the rest.
func ExamplePreset() {
	cfg := gpt.Preset(4)
	cfg.VocabSize, cfg.ContextLen = 65, 16
	m, err := gpt.New(cfg, 1)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d layers, %d heads, width %d; %d parameters\n", cfg.Layers, cfg.Heads, cfg.Width, m.NumParams())
	for _, k := range []gpt.TensorKind{gpt.KindMatrix, gpt.KindEmbedding, gpt.KindHead, gpt.KindVector} {
		fmt.Println(k, len(m.TensorsOf(k)), "tensors, first", m.TensorsOf(k)[0].Name)
	}
	tokens, targets := make([]int32, 2*16), make([]int32, 2*16)
	for i := range tokens {
		tokens[i], targets[i] = int32(i%65), int32((i+1)%65)
	}
	buf, vel := make([]float32, m.NumParams()), make([]float32, m.NumParams())
	var first, last float32
	for step := 1; step <= 30; step++ {
		loss, _ := m.Forward(tokens, targets, 2, 16)
		m.ZeroGrad()
		m.Backward()
		m.MuonStep(m.MatrixTensors(), 0.02, 0.95, 0, true, 5, buf) // the momentum shares the first-moment buffer
		for _, k := range []gpt.TensorKind{gpt.KindEmbedding, gpt.KindHead, gpt.KindVector} {
			m.AdamWStepOn(m.TensorsOf(k), 0.01, 0.8, 0.95, 1e-8, 0, step, buf, vel)
		}
		if step == 1 {
			first = loss
		}
		last = loss
	}
	fmt.Println("loss fell:", last < first/2)
	// Output:
	// 4 layers, 4 heads, width 128; 804224 parameters
	// matrix 16 tensors, first h.0.attn.c_attn.weight
	// embedding 1 tensors, first wte
	// head 1 tensors, first lm_head.weight
	// vector 9 tensors, first h.0.ln_1.weight
	// loss fell: true
}
