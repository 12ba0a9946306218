package train

import (
	"context"
	"fmt"
	"math"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/gpt"
)

// Options configures Train. Zero values take the defaults in brackets, chosen so
// that Train(model, trainLoader, valLoader, Options{}) on the default baby GPT
// and a char-level text runs for about two minutes on two cores and learns.
type Options struct {
	// Context stops training at the next step boundary when cancelled.
	// [display.Context(): in a notebook, the cell's context, which Jupyter's
	// interrupt cancels; context.Background() elsewhere]
	Context context.Context

	MaxSteps  int   // optimizer steps to run, counted from step 1 [1000]
	MaxTokens int64 // stop once this many training tokens were consumed; 0 = no limit

	LR          float32 // peak learning rate (AdamW's; with Muon, of the tensors AdamW updates) [1e-3]
	MinLR       float32 // learning rate at the end of the decay [LR/10]
	DecaySteps  int     // step at which the decay reaches MinLR, constant after [MaxSteps]
	WarmupSteps int     // linear warmup steps [min(100, DecaySteps/10)]
	// Schedule is the shape of the learning rate between warmup and DecaySteps:
	// "cosine" (nanoGPT: cosine from LR to MinLR) or "trapezoid" (modded-nanogpt,
	// nanochat: LR constant, then a linear warmdown to MinLR over WarmdownSteps). [cosine]
	Schedule      string
	WarmdownSteps int // trapezoid: steps of the final linear warmdown [0.4·DecaySteps]

	// Optimizer is "adamw" (every tensor) or "muon": Muon (gpt.Model.MuonStep, Nesterov,
	// five Newton–Schulz steps) for the blocks' 2-D matrices (gpt.KindMatrix), AdamW for
	// the embeddings, the head and the vectors, as modded-nanogpt and nanochat. [adamw]
	Optimizer          string
	MuonLR             float32 // Muon's learning rate, before its √max(1, out/in) adjustment [0.02]
	MuonMomentum       float32 // Muon's momentum after its warmup [0.95]
	MuonMomentumWarmup int     // steps over which the momentum rises linearly from 0.85 (modded-nanogpt: 300); negative = none [min(300, DecaySteps/10)]
	MuonWeightDecay    float32 // decoupled weight decay of the Muon matrices, p·(1 − lr·wd) [0]

	EmbedLR float32 // AdamW learning rate of the embeddings (wte, wpe) [LR]
	HeadLR  float32 // AdamW learning rate of an untied output head (lm_head) [LR]

	Beta1       float32 // AdamW β1 [0.9]
	Beta2       float32 // AdamW β2 [0.99]
	Eps         float32 // AdamW ε [1e-8]
	WeightDecay float32 // AdamW's decoupled weight decay on matrices, embeddings and the head; negative = none [0.1]
	GradClip    float32 // clip the global gradient norm to this; negative = no clipping [1.0]
	GradAccum   int     // micro-batches per optimizer step [1]

	// Shards is how the CPU backend cuts each training batch (gpt.Model.SetShards,
	// which Train calls): n ≥ 1 shards of rows, one worker each; gpt.NoShards (-1)
	// the batch whole with every op split over the workers; 0 leaves the model as
	// it is (by default one shard per worker). The arithmetic depends on the shard
	// count, not on the worker count, so a fixed count gives the same bits on any
	// machine. Checkpoints record the count the steps ran as, and Resume with 0
	// continues with it: bit-identical to a run that never stopped, even on a
	// machine with another number of cores. [0]
	Shards int

	EvalEvery   int // validation loss every this many steps (and at the end) [100]
	EvalBatches int // validation batches per evaluation, from the start of the validation loader [20]
	Patience    int // stop after this many evaluations without a new best validation loss; 0 = never

	CheckpointDir   string // write checkpoints here (step_NNNNNNNN directories); "" = none
	CheckpointEvery int    // steps between checkpoints [EvalEvery]; one is also written at the end
	KeepCheckpoints int    // complete checkpoints kept, newest first [2]

	Seed  uint64 // seed of the dropout random numbers [0]
	Quiet bool   // no live progress output
}

// withDefaults fills zero fields and validates.
func (o Options) withDefaults() (Options, error) {
	if o.Context == nil { // Train and Resume set it; display.Context covers other callers
		o.Context = display.Context()
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = 1000
	}
	if o.LR == 0 {
		o.LR = 1e-3
	}
	if o.MinLR == 0 {
		o.MinLR = o.LR / 10
	}
	if o.DecaySteps == 0 {
		o.DecaySteps = o.MaxSteps
	}
	if o.WarmupSteps == 0 {
		o.WarmupSteps = o.DecaySteps / 10
		if o.WarmupSteps > 100 {
			o.WarmupSteps = 100
		}
	}
	if o.Schedule == "" {
		o.Schedule = ScheduleCosine
	}
	if o.Schedule == ScheduleTrapezoid && o.WarmdownSteps == 0 {
		o.WarmdownSteps = int(0.4 * float64(o.DecaySteps))
	}
	if o.Optimizer == "" {
		o.Optimizer = OptimizerAdamW
	}
	if o.Optimizer == OptimizerMuon {
		if o.MuonLR == 0 {
			o.MuonLR = 0.02
		}
		if o.MuonMomentum == 0 {
			o.MuonMomentum = 0.95
		}
		if o.MuonMomentumWarmup == 0 {
			o.MuonMomentumWarmup = min(300, o.DecaySteps/10)
		}
	}
	if o.EmbedLR == 0 {
		o.EmbedLR = o.LR
	}
	if o.HeadLR == 0 {
		o.HeadLR = o.LR
	}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.99
	}
	if o.Eps == 0 {
		o.Eps = 1e-8
	}
	if o.WeightDecay == 0 {
		o.WeightDecay = 0.1
	}
	if o.GradClip == 0 {
		o.GradClip = 1
	}
	if o.GradAccum == 0 {
		o.GradAccum = 1
	}
	if o.EvalEvery == 0 {
		o.EvalEvery = 100
	}
	if o.EvalBatches == 0 {
		o.EvalBatches = 20
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = o.EvalEvery
	}
	if o.KeepCheckpoints == 0 {
		o.KeepCheckpoints = 2
	}
	finite := func(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }
	switch {
	case o.MaxSteps < 0:
		return o, fmt.Errorf("train options: MaxSteps %d is negative", o.MaxSteps)
	case o.MaxTokens < 0:
		return o, fmt.Errorf("train options: MaxTokens %d is negative", o.MaxTokens)
	case !(o.LR > 0) || !finite(o.LR):
		return o, fmt.Errorf("train options: LR %v must be positive", o.LR)
	case !(o.MinLR >= 0) || o.MinLR > o.LR:
		return o, fmt.Errorf("train options: MinLR %v must be in [0, LR=%v]", o.MinLR, o.LR)
	case o.WarmupSteps < 0 || o.DecaySteps < 0:
		return o, fmt.Errorf("train options: WarmupSteps %d and DecaySteps %d must not be negative", o.WarmupSteps, o.DecaySteps)
	case !(o.Beta1 > 0 && o.Beta1 < 1) || !(o.Beta2 > 0 && o.Beta2 < 1):
		return o, fmt.Errorf("train options: Beta1 %v and Beta2 %v must be in (0,1)", o.Beta1, o.Beta2)
	case !(o.Eps > 0):
		return o, fmt.Errorf("train options: Eps %v must be positive", o.Eps)
	case !finite(o.WeightDecay) || !finite(o.GradClip):
		return o, fmt.Errorf("train options: WeightDecay %v and GradClip %v must be finite", o.WeightDecay, o.GradClip)
	case o.GradAccum < 0:
		return o, fmt.Errorf("train options: GradAccum %d is negative", o.GradAccum)
	case o.Shards < gpt.NoShards:
		return o, fmt.Errorf("train options: Shards %d must be a shard count ≥ 1, 0 (the model's setting) or gpt.NoShards (-1)", o.Shards)
	case o.EvalEvery < 0 || o.EvalBatches < 0 || o.Patience < 0 || o.CheckpointEvery < 0 || o.KeepCheckpoints < 0:
		return o, fmt.Errorf("train options: EvalEvery, EvalBatches, Patience, CheckpointEvery, KeepCheckpoints must not be negative")
	case o.Schedule != ScheduleCosine && o.Schedule != ScheduleTrapezoid:
		return o, fmt.Errorf("train options: Schedule %q is not %q or %q", o.Schedule, ScheduleCosine, ScheduleTrapezoid)
	case o.WarmdownSteps < 0 || (o.Schedule == ScheduleTrapezoid && o.WarmdownSteps > o.DecaySteps):
		return o, fmt.Errorf("train options: WarmdownSteps %d must be in [0, DecaySteps=%d]", o.WarmdownSteps, o.DecaySteps)
	case o.Optimizer != OptimizerAdamW && o.Optimizer != OptimizerMuon:
		return o, fmt.Errorf("train options: Optimizer %q is not %q or %q", o.Optimizer, OptimizerAdamW, OptimizerMuon)
	case !(o.MuonLR >= 0) || !finite(o.MuonLR):
		return o, fmt.Errorf("train options: MuonLR %v must be positive", o.MuonLR)
	case !(o.MuonMomentum >= 0 && o.MuonMomentum < 1):
		return o, fmt.Errorf("train options: MuonMomentum %v must be in (0,1)", o.MuonMomentum)
	case !(o.MuonWeightDecay >= 0) || !finite(o.MuonWeightDecay):
		return o, fmt.Errorf("train options: MuonWeightDecay %v must be 0 or positive", o.MuonWeightDecay)
	case !(o.EmbedLR > 0) || !finite(o.EmbedLR) || !(o.HeadLR > 0) || !finite(o.HeadLR):
		return o, fmt.Errorf("train options: EmbedLR %v and HeadLR %v must be positive", o.EmbedLR, o.HeadLR)
	}
	return o, nil
}

// The values of Options.Schedule and Options.Optimizer.
const (
	ScheduleCosine    = "cosine"
	ScheduleTrapezoid = "trapezoid"
	OptimizerAdamW    = "adamw"
	OptimizerMuon     = "muon"
)

// muonMomentumAt is Muon's momentum at step (1-based): linear from 0.85 to
// MuonMomentum over MuonMomentumWarmup steps (modded-nanogpt's warmup), then constant.
func (o Options) muonMomentumAt(step int) float32 {
	if o.MuonMomentumWarmup <= 0 {
		return o.MuonMomentum
	}
	f := math.Min(float64(step-1)/float64(o.MuonMomentumWarmup), 1)
	return float32((1-f)*0.85 + f*float64(o.MuonMomentum))
}

// LRAt is the learning rate of optimizer step (1-based): linear warmup over
// WarmupSteps, then, with Schedule "cosine", a cosine decay from LR to MinLR until
// DecaySteps (nanoGPT's schedule with it = step-1), or with "trapezoid" LR until
// DecaySteps−WarmdownSteps and a linear warmdown to MinLR at DecaySteps; MinLR after.
// Every other learning rate (MuonLR, EmbedLR, HeadLR) follows the same curve scaled
// by its ratio to LR. o must have its defaults filled (Train does that); zero fields
// take their defaults here too.
func (o Options) LRAt(step int) float32 {
	o, _ = o.withDefaults()
	it := step - 1
	lr, minLR := float64(o.LR), float64(o.MinLR)
	if it < o.WarmupSteps {
		return float32(lr * float64(it+1) / float64(o.WarmupSteps+1))
	}
	if it > o.DecaySteps || o.DecaySteps <= o.WarmupSteps {
		return float32(minLR)
	}
	if o.Schedule == ScheduleTrapezoid {
		start := max(o.DecaySteps-o.WarmdownSteps, o.WarmupSteps)
		if it < start {
			return float32(lr)
		}
		if start == o.DecaySteps {
			return float32(minLR)
		}
		f := float64(o.DecaySteps-it) / float64(o.DecaySteps-start)
		return float32(minLR + f*(lr-minLR))
	}
	ratio := float64(it-o.WarmupSteps) / float64(o.DecaySteps-o.WarmupSteps)
	coeff := 0.5 * (1 + math.Cos(math.Pi*ratio))
	return float32(minLR + coeff*(lr-minLR))
}
