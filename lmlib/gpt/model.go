package gpt

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrNonFinite is wrapped by errors about NaN or infinite values (loss, parameters,
// gradients), so a training loop can tell divergence from bad input.
var ErrNonFinite = errors.New("non-finite value")

// Tensor is a named view into Model.Params (and, at the same offsets, Model.Grads
// and optimiser moments). Names and shapes follow Hugging Face's GPT-2 (Conv1D
// weights are (in, out)), so a safetensors export needs no renaming or transposes;
// an untied head is lm_head.weight (V,C), as in GPT2LMHeadModel.
type Tensor struct {
	Name   string
	Offset int
	Size   int
	Shape  []int
	Kind   TensorKind // what the tensor is for: which optimizer and learning rate it gets
	Decay  bool       // weight decay applies (2-D weights and embeddings, as nanoGPT)
}

// TensorKind says what a parameter tensor is for. Optimizers group by it: Muon
// updates the KindMatrix tensors and AdamW the others (modded-nanogpt, nanochat).
type TensorKind uint8

const (
	KindVector    TensorKind = iota // biases and norm weights (1-D)
	KindMatrix                      // a block's 2-D weight: attention c_attn, c_proj, MLP c_fc, c_proj
	KindEmbedding                   // wte, wpe (looked up, not multiplied)
	KindHead                        // lm_head, the untied output head
)

func (k TensorKind) String() string {
	switch k {
	case KindVector:
		return "vector"
	case KindMatrix:
		return "matrix"
	case KindEmbedding:
		return "embedding"
	case KindHead:
		return "head"
	}
	return fmt.Sprintf("TensorKind(%d)", uint8(k))
}

// Model is a GPT (Config) with all parameters in one buffer (Params) and their gradients
// in another of the same layout (Grads). Activations are owned by the model and
// sized for (B,T) on the first Forward with that shape.
type Model struct {
	Config Config
	Params []float32 // all parameters, one contiguous buffer (layout: Tensors)
	Grads  []float32 // same layout as Params

	be      Backend
	tensors []Tensor
	byKind  map[TensorKind][]Tensor // tensors by kind, for the optimizers

	// The batch runs whole on the model's backend, which splits every op over
	// its workers (split), or cut into n shards run side by side (sets[n], see
	// shard.go); cur is what the last Forward ran.
	split      [1]shard
	sets       [][]shard
	cur        []shard
	shardsWant int  // SetShards
	sizer      *Net // lays out whole batches to size them (autoShards)
	auto       autoShards
	step       shardStep
	addGrads   addShardGrads
	seeds      []uint64 // per dropout site, for the current Forward

	B, T       int       // the batch shape of the last Forward
	extra      []float32 // (N,V) logits recomputed on demand by Logits
	haveTarget bool      // last Forward had targets: Backward may run
	logitsOK   bool      // logits holds logits (not dlogits)
	forwardOK  bool

	train bool
	rng   *RNG
}

// New builds a model with GPT-2's initialisation from seed: weights and embeddings
// N(0, 0.02), the residual projections (attn.c_proj, mlp.c_proj) N(0, 0.02/√(2·Layers)),
// biases 0, LayerNorm (and RMSNorm) weights 1; an untied lm_head N(0, 0.02) like
// wte. It runs on a CPU backend with GOMAXPROCS workers.
func New(cfg Config, seed uint64) (*Model, error) {
	return NewWithBackend(cfg, seed, nil)
}

// NewWithBackend is New on a given backend (nil: NewCPU(0)).
func NewWithBackend(cfg Config, seed uint64, be Backend) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if be == nil {
		if err := loadBLAS(); err != nil {
			return nil, err
		}
		be = NewCPU(0)
	}
	net, err := NewNet(cfg)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, be: be, rng: NewRNG(seed ^ 0x5DEECE66D), tensors: cfg.tensors()}
	m.split[0] = shard{net: net, host: hostOps{be: be}}
	if m.sizer, err = NewNet(cfg); err != nil {
		return nil, err
	}
	m.seeds = make([]uint64, len(net.drops))
	m.byKind = map[TensorKind][]Tensor{}
	for _, t := range m.tensors {
		m.byKind[t.Kind] = append(m.byKind[t.Kind], t)
	}
	last := m.tensors[len(m.tensors)-1]
	m.Params = make([]float32, last.Offset+last.Size)
	m.Grads = make([]float32, len(m.Params))
	m.split[0].host.f32[ArenaParams], m.split[0].host.f32[ArenaGrads] = m.Params, m.Grads
	m.initParams(seed)
	return m, nil
}

func (m *Model) initParams(seed uint64) {
	rng := NewRNG(seed)
	projStd := 0.02 / math.Sqrt(2*float64(m.Config.Layers))
	for _, t := range m.tensors {
		x := m.Params[t.Offset : t.Offset+t.Size]
		switch {
		case strings.HasSuffix(t.Name, ".bias"):
			clear(x)
		case strings.Contains(t.Name, "ln_"): // LayerNorm and RMSNorm weights
			for i := range x {
				x[i] = 1
			}
		default:
			std := 0.02
			if strings.HasSuffix(t.Name, "c_proj.weight") {
				std = projStd
			}
			for i := range x {
				x[i] = float32(rng.NormFloat64() * std)
			}
		}
	}
}

// Backend returns the backend the model runs on.
func (m *Model) Backend() Backend { return m.be }

// NumParams returns the number of parameters (the tied embedding counted once).
func (m *Model) NumParams() int { return len(m.Params) }

// FLOPsPerToken estimates the training FLOPs per token at full context, as nanoGPT
// and PaLM do: 6·N for the forward and backward matrix products over the
// parameters N that multiply activations (all but the looked-up embeddings; a tied
// wte counts once, as the head), plus 12·L·C·T for attention (QKᵀ and AV).
func (m *Model) FLOPsPerToken() int64 { return m.Config.FLOPsPerToken() }

// FLOPsPerToken is Model.FLOPsPerToken for a model of config c.
func (c Config) FLOPsPerToken() int64 {
	n := int64(c.numParams())
	if !c.Rotary {
		n -= int64(c.ContextLen * c.Width) // wpe
	}
	if c.Untied {
		n -= int64(c.VocabSize * c.Width) // wte is only looked up; lm_head multiplies
	}
	return 6*n + 12*int64(c.Layers)*int64(c.Width)*int64(c.ContextLen)
}

// NumParams is the number of parameters of a model of config c.
func (c Config) NumParams() int { return c.numParams() }

// Tensors lists the parameter tensors in buffer order. The slice is shared; do not modify it.
func (m *Model) Tensors() []Tensor { return m.tensors }

// Tensor returns the parameter tensor called name.
func (m *Model) Tensor(name string) (Tensor, bool) {
	for _, t := range m.tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// SetTrain switches dropout on (train) or off. rng supplies the dropout masks'
// seeds (its State can be checkpointed); nil keeps the model's own generator.
// Dropout is active only in training mode with Config.Dropout > 0.
func (m *Model) SetTrain(train bool, rng *RNG) {
	m.train = train
	if rng != nil {
		m.rng = rng
	}
}

// ZeroGrad sets every gradient to zero.
func (m *Model) ZeroGrad() { clear(m.Grads) }

// Forward runs the model on tokens (B,T), row-major. With targets (B,T) it returns
// the mean cross-entropy over the targets that are ≥ 0 (-1 = ignore, as nanoGPT)
// and prepares Backward; with targets nil it returns 0 and only computes logits.
// A non-finite loss is returned together with an error wrapping ErrNonFinite.
func (m *Model) Forward(tokens, targets []int32, B, T int) (float32, error) {
	return m.forward(tokens, targets, B, T, opForward)
}

// ForwardBackward is Forward with targets followed by Backward, as one pass: on
// the CPU backend each shard (SetShards) runs its backward right after its
// forward, on the same worker and while its last activations are in that core's
// cache, and the workers meet once per batch instead of twice. Gradients
// accumulate into Grads as with Backward, also when the loss is not finite (the
// error says so; a training loop stops before the update).
func (m *Model) ForwardBackward(tokens, targets []int32, B, T int) (float32, error) {
	if targets == nil {
		return 0, errors.New("gpt forward-backward: no targets (nothing to differentiate)")
	}
	loss, err := m.forward(tokens, targets, B, T, opForwardBackward)
	if m.forwardOK {
		m.haveTarget = false // Backward ran
		m.sumShardGrads()
	}
	return loss, err
}

func (m *Model) forward(tokens, targets []int32, B, T int, op shardOp) (float32, error) {
	c := m.Config
	m.forwardOK, m.haveTarget = false, false
	count, err := c.CheckBatch(tokens, targets, B, T)
	if err != nil {
		return 0, fmt.Errorf("gpt forward: %w", err)
	}
	m.B, m.T = B, T
	m.cur = m.shardsFor(B, T, targets != nil)
	var seeds []uint64 // nil: dropout off
	if m.train && c.Dropout > 0 {
		seeds = m.seeds
		for i := range seeds {
			seeds[i] = m.rng.Uint64()
		}
	}
	m.step = shardStep{op: op, tokens: tokens, targets: targets, seeds: seeds, T: T, count: count}
	m.runShards(&m.step)
	m.forwardOK = true
	if targets == nil {
		m.logitsOK = true
		return 0, nil
	}
	m.logitsOK = false
	m.haveTarget = true
	var sum float64 // in row order, shard after shard: the same sum for any shard count
	for i := range m.cur {
		for _, l := range m.cur[i].losses() {
			sum += float64(l)
		}
	}
	loss := float32(sum / float64(count))
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, fmt.Errorf("gpt forward: loss is %v: %w", loss, ErrNonFinite)
	}
	return loss, nil
}

// Logits returns the (B,T,V) logits of the last Forward, row-major. After a Forward
// with targets the logits buffer holds the fused dlogits, so they are recomputed
// (one matrix product) into a separate buffer on the first call. The slice is
// owned by the model and overwritten by the next Forward.
func (m *Model) Logits() []float32 {
	if !m.forwardOK {
		return nil
	}
	if m.logitsOK { // a Forward without targets runs as one shard
		s := &m.cur[0]
		return s.host.f(s.net.Logits())
	}
	c := m.Config
	N, V := m.B*m.T, c.VocabSize
	if cap(m.extra) < N*V {
		m.extra = make([]float32, N*V)
	}
	m.extra = m.extra[:N*V]
	m.step = shardStep{op: opLogits}
	m.runShards(&m.step)
	return m.extra
}

// Backward accumulates into Grads the gradient of the last Forward's loss (the
// mean over its targets). For gradient accumulation over k micro-batches call
// Forward+Backward k times and scale by 1/k (ScaleGrads) before the step.
// Dropout masks are those of the last Forward.
func (m *Model) Backward() error {
	if !m.haveTarget {
		return errors.New("gpt backward: the last Forward had no targets (or failed); nothing to differentiate")
	}
	m.haveTarget = false // the fused dlogits are consumed
	m.step = shardStep{op: opBackward}
	m.runShards(&m.step)
	m.sumShardGrads()
	return nil
}

// AdamWStep applies one AdamW step (PyTorch's torch.optim.AdamW formula, decoupled
// weight decay on the tensors with Decay) to Params using Grads. mState and vState
// are the first and second moments, len(Params) each, zero before the first step;
// step counts from 1.
func (m *Model) AdamWStep(lr, beta1, beta2, eps, weightDecay float32, step int, mState, vState []float32) {
	if len(mState) != len(m.Params) || len(vState) != len(m.Params) {
		panic(fmt.Sprintf("gpt AdamWStep: moments have %d and %d entries, want %d", len(mState), len(vState), len(m.Params)))
	}
	if step < 1 {
		panic(fmt.Sprintf("gpt AdamWStep: step %d must count from 1", step))
	}
	m.be.AdamW(m.Params, m.Grads, mState, vState, m.tensors, lr, beta1, beta2, eps, weightDecay, step)
}

// GradNorm returns the global L2 norm of Grads.
func (m *Model) GradNorm() float32 { return float32(math.Sqrt(m.be.SumSquares(m.Grads))) }

// ScaleGrads multiplies every gradient by s (clipping, accumulation averaging).
func (m *Model) ScaleGrads(s float32) { m.be.Scale(m.Grads, s) }

// CheckFinite returns an error naming the first parameter or gradient tensor that
// holds a NaN or infinity (and the index inside it), or nil.
func (m *Model) CheckFinite() error {
	for _, buf := range []struct {
		what string
		x    []float32
	}{{"parameter", m.Params}, {"gradient", m.Grads}} {
		for _, t := range m.tensors {
			if i := firstNonFinite(buf.x[t.Offset : t.Offset+t.Size]); i >= 0 {
				return fmt.Errorf("gpt: %s %s[%d] is %v: %w", buf.what, t.Name, i, buf.x[t.Offset+i], ErrNonFinite)
			}
		}
	}
	return nil
}

// CheckFinite returns an error naming name and the index of the first NaN or
// infinity in x, or nil.
func CheckFinite(name string, x []float32) error {
	if i := firstNonFinite(x); i >= 0 {
		return fmt.Errorf("%s[%d] is %v: %w", name, i, x[i], ErrNonFinite)
	}
	return nil
}

func firstNonFinite(x []float32) int {
	for i, v := range x {
		if v-v != 0 { // NaN or ±Inf
			return i
		}
	}
	return -1
}
