package train

import (
	"math"

	"github.com/golem-lm/golem/lmlib/gpt"
)

// TokensPerParam is the token budget PresetOptions gives a model per parameter that
// multiplies activations (the blocks' matrices and the head, nanochat's "scaling
// parameters"): Chinchilla's compute-optimal 20.
const TokensPerParam = 20

// PresetOptions are the training options of the modern recipe for a model of
// config cfg (gpt.Preset(depth) with its VocabSize and ContextLen set) trained on
// batches of batchTokens tokens (B·T·GradAccum), the other half of the depth dial:
//
//   - Muon (Nesterov momentum 0.95, warmed up from 0.85) for the blocks' matrices at
//     MuonLR, AdamW (β 0.8/0.95, no weight decay) for the rest; learning rates are
//     tuned at depth 4 (width 128) on the shipped books (make bench-recipe) and the
//     AdamW ones scaled by (width/128)^−½ for other widths, nanochat's rule
//     (η ∝ 1/√d_model; Muon's update is already scaled by its shape);
//   - the trapezoidal schedule (linear warmup, constant, a linear warmdown over the
//     last 40% of the run to a tenth of the peak), as modded-nanogpt;
//   - the token budget TokensPerParam × (matrix and head parameters), as MaxSteps
//     (the schedule's length) = the budget in batches of batchTokens, rounded up.
//
// Fields left zero take Options' defaults; override any of them before Train.
func PresetOptions(cfg gpt.Config, batchTokens int) Options {
	scale := float32(math.Sqrt(128 / float64(cfg.Width)))
	C, V, L := int64(cfg.Width), int64(cfg.VocabSize), int64(cfg.Layers)
	params := 12*C*C*L + V*C // c_attn 3C², c_proj C², c_fc 4C², mlp.c_proj 4C² per block; the head (lm_head or the tied wte)
	steps := int((TokensPerParam*params + int64(batchTokens) - 1) / int64(max(batchTokens, 1)))
	return Options{
		Optimizer: OptimizerMuon, MuonLR: presetMuonLR,
		LR: presetLR * scale, EmbedLR: presetEmbedLR * scale, HeadLR: presetHeadLR * scale,
		Beta1: 0.8, Beta2: 0.95, WeightDecay: -1,
		Schedule: ScheduleTrapezoid,
		MaxSteps: steps,
	}
}

// The modern recipe's learning rates at width 128 (see PresetOptions).
// Swept one at a time around nanochat's values with tools/benchrecipe (B=8, T=128,
// 0.4M and 1M tokens of the books; BENCHMARKS.md): Muon 0.005 and 0.01 tie, 0.02 and
// 0.04 are worse at this batch; embeddings 0.2 > 0.1 > 0.05 > 0.02; head 0.008 > 0.016, 0.004.
const (
	presetMuonLR  = 0.01
	presetLR      = 4e-3 // vectors: norm weights
	presetEmbedLR = 0.2
	presetHeadLR  = 8e-3
)
