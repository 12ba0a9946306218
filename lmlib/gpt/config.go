package gpt

import (
	"fmt"
	"math"
)

// Config is a GPT architecture: GPT-2 with its zero switches, the modern
// small-LM block of modded-nanogpt and nanochat with them (Preset turns them all on).
// Each switch changes one op of the shared op sequence (Net) and is independent of
// the others.
type Config struct {
	VocabSize  int     // V: token ids are 0..V-1
	ContextLen int     // maximum sequence length T (rows of the position embedding; RoPE's longest position)
	Layers     int     // L: transformer blocks
	Heads      int     // NH: attention heads; Width must be a multiple
	Width      int     // C: embedding width
	Dropout    float32 // dropout probability on embeddings, attention and residual branches (training only)
	Bias       bool    // biases in linear layers and LayerNorms (GPT-2: true; RMSNorm never has one)

	// The modern recipe's switches (zero: GPT-2). Omitted from JSON when off, so
	// a GPT-2 checkpoint's state.json reads as it did before they existed.
	Rotary  bool    `json:",omitempty"` // rotary position embeddings (RoPE, θ=10000, Llama's half split) on queries and keys; no wpe
	RMSNorm bool    `json:",omitempty"` // RMSNorm x/√(mean x²+1e-6)·w (no mean, no bias) in place of every LayerNorm
	QKNorm  bool    `json:",omitempty"` // parameter-free RMSNorm of each head's query and key before attention
	ReLU2   bool    `json:",omitempty"` // MLP activation relu(x)² in place of the tanh GELU
	Untied  bool    `json:",omitempty"` // an output head lm_head (V,C) of its own instead of wte
	SoftCap float32 `json:",omitempty"` // logits = SoftCap·tanh(logits/SoftCap) (Gemma 2, modded-nanogpt); 0: none
}

// RopeTheta is the base of the rotary embeddings' frequencies: pair i of a head of
// size hs turns by position·RopeTheta^(−2i/hs) radians (Llama's and nanoGPT's
// 10000). NormEps is the ε of RMSNorm and QK-norm (Llama's rms_norm_eps 1e-6).
const (
	RopeTheta = 10000
	NormEps   = 1e-6
)

// DefaultConfig is the "baby" GPT that trains on 2 CPU cores in seconds: a
// character-level model (vocabulary 65, room for Opticks' characters), 4 layers,
// 4 heads, width 128, context 64, no dropout, with biases. About 0.8M parameters.
func DefaultConfig() Config {
	return Config{VocabSize: 65, ContextLen: 64, Layers: 4, Heads: 4, Width: 128, Dropout: 0, Bias: true}
}

// GPT2Small is the 124M-parameter GPT-2 (vocabulary 50257, context 1024, 12/12/768).
func GPT2Small() Config {
	return Config{VocabSize: 50257, ContextLen: 1024, Layers: 12, Heads: 12, Width: 768, Bias: true}
}

// Validate reports the first thing wrong with c.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0:
		return fmt.Errorf("gpt config: VocabSize %d must be positive", c.VocabSize)
	case c.ContextLen <= 0:
		return fmt.Errorf("gpt config: ContextLen %d must be positive", c.ContextLen)
	case c.Layers <= 0:
		return fmt.Errorf("gpt config: Layers %d must be positive", c.Layers)
	case c.Heads <= 0:
		return fmt.Errorf("gpt config: Heads %d must be positive", c.Heads)
	case c.Width <= 0:
		return fmt.Errorf("gpt config: Width %d must be positive", c.Width)
	case c.Width%c.Heads != 0:
		return fmt.Errorf("gpt config: Width %d is not divisible by Heads %d", c.Width, c.Heads)
	case !(c.Dropout >= 0 && c.Dropout < 1): // also rejects NaN
		return fmt.Errorf("gpt config: Dropout %v must be in [0,1)", c.Dropout)
	case !(c.SoftCap >= 0) || math.IsInf(float64(c.SoftCap), 0):
		return fmt.Errorf("gpt config: SoftCap %v must be 0 (none) or a positive number", c.SoftCap)
	case c.Rotary && (c.Width/c.Heads)%2 != 0:
		return fmt.Errorf("gpt config: Rotary needs an even head size; Width %d / Heads %d = %d", c.Width, c.Heads, c.Width/c.Heads)
	}
	// Count in float64 so absurd sizes cannot overflow before they are rejected.
	v, t, l, w := float64(c.VocabSize), float64(c.ContextLen), float64(c.Layers), float64(c.Width)
	if c.Untied {
		v *= 2 // wte and lm_head
	}
	if n := v*w + t*w + l*(12*w*w+13*w) + 2*w; n > math.MaxInt32*4 {
		return fmt.Errorf("gpt config: %.0f parameters is too many", n)
	}
	return nil
}

// CheckBatch reports the first thing wrong with a (B,T) batch for a model of
// config c, as Model.Forward and lmlib/gpt/cuda's Forward do before running it:
// B and T positive, T within ContextLen, B·T tokens in [0,VocabSize), and, when
// targets is not nil, B·T targets in [0,VocabSize) or -1 (ignore), at least one not
// ignored. It returns the number of targets that count (≥ 0), the loss's divisor.
// Errors name the offending batch row and position; callers prefix their own name.
func (c Config) CheckBatch(tokens, targets []int32, B, T int) (count int, err error) {
	if B <= 0 || T <= 0 {
		return 0, fmt.Errorf("batch %d×%d must be positive", B, T)
	}
	if T > c.ContextLen {
		return 0, fmt.Errorf("sequence length T=%d exceeds the model's context length %d", T, c.ContextLen)
	}
	if len(tokens) != B*T {
		return 0, fmt.Errorf("%d tokens for a %d×%d batch (want %d)", len(tokens), B, T, B*T)
	}
	if targets != nil && len(targets) != B*T {
		return 0, fmt.Errorf("%d targets for a %d×%d batch (want %d)", len(targets), B, T, B*T)
	}
	for i, tok := range tokens {
		if tok < 0 || int(tok) >= c.VocabSize {
			return 0, fmt.Errorf("token id %d at batch row %d position %d is outside the vocabulary [0,%d)", tok, i/T, i%T, c.VocabSize)
		}
	}
	for i, tg := range targets {
		if tg < -1 || int(tg) >= c.VocabSize {
			return 0, fmt.Errorf("target id %d at batch row %d position %d is outside the vocabulary [0,%d) (-1 = ignore)", tg, i/T, i%T, c.VocabSize)
		}
		if tg >= 0 {
			count++
		}
	}
	if targets != nil && count == 0 {
		return 0, fmt.Errorf("every target of the %d×%d batch is -1 (ignored)", B, T)
	}
	return count, nil
}

// layerSpec lists one block's tensors in buffer order: name suffix, shape,
// bias (absent when !Bias), norm bias (absent with RMSNorm too), kind.
func (c Config) layerSpec() []tensorSpec {
	C := c.Width
	s := []tensorSpec{
		{"ln_1.weight", []int{C}, false, false, KindVector},
		{"ln_1.bias", []int{C}, true, true, KindVector},
		{"attn.c_attn.weight", []int{C, 3 * C}, false, false, KindMatrix},
		{"attn.c_attn.bias", []int{3 * C}, true, false, KindVector},
		{"attn.c_proj.weight", []int{C, C}, false, false, KindMatrix},
		{"attn.c_proj.bias", []int{C}, true, false, KindVector},
		{"ln_2.weight", []int{C}, false, false, KindVector},
		{"ln_2.bias", []int{C}, true, true, KindVector},
		{"mlp.c_fc.weight", []int{C, 4 * C}, false, false, KindMatrix},
		{"mlp.c_fc.bias", []int{4 * C}, true, false, KindVector},
		{"mlp.c_proj.weight", []int{4 * C, C}, false, false, KindMatrix},
		{"mlp.c_proj.bias", []int{C}, true, false, KindVector},
	}
	return s
}

type tensorSpec struct {
	name     string
	shape    []int
	bias     bool // absent without Config.Bias
	normBias bool // a LayerNorm's bias: absent with RMSNorm too
	kind     TensorKind
}

func (c Config) specs() []tensorSpec {
	var all []tensorSpec
	all = append(all, tensorSpec{"wte", []int{c.VocabSize, c.Width}, false, false, KindEmbedding})
	if !c.Rotary {
		all = append(all, tensorSpec{"wpe", []int{c.ContextLen, c.Width}, false, false, KindEmbedding})
	}
	for l := 0; l < c.Layers; l++ {
		for _, s := range c.layerSpec() {
			s.name = fmt.Sprintf("h.%d.%s", l, s.name)
			all = append(all, s)
		}
	}
	all = append(all, tensorSpec{"ln_f.weight", []int{c.Width}, false, false, KindVector})
	all = append(all, tensorSpec{"ln_f.bias", []int{c.Width}, true, true, KindVector})
	if c.Untied {
		all = append(all, tensorSpec{"lm_head.weight", []int{c.VocabSize, c.Width}, false, false, KindHead})
	}
	kept := all[:0]
	for _, s := range all {
		if (s.bias && !c.Bias) || (s.normBias && c.RMSNorm) {
			continue
		}
		kept = append(kept, s)
	}
	return kept
}

// tensors lays the parameter tensors out in one buffer, in specs order.
func (c Config) tensors() []Tensor {
	var ts []Tensor
	off := 0
	for _, s := range c.specs() {
		size := 1
		for _, d := range s.shape {
			size *= d
		}
		ts = append(ts, Tensor{Name: s.name, Offset: off, Size: size, Shape: s.shape, Kind: s.kind, Decay: s.kind != KindVector})
		off += size
	}
	return ts
}

func (c Config) numParams() int {
	n := 0
	for _, s := range c.specs() {
		sz := 1
		for _, d := range s.shape {
			sz *= d
		}
		n += sz
	}
	return n
}
