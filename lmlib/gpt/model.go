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
// weights are (in, out)), so a safetensors export needs no renaming or transposes.
type Tensor struct {
	Name   string
	Offset int
	Size   int
	Shape  []int
	Decay  bool // weight decay applies (2-D weights and embeddings, as nanoGPT)
}

// layerViews are one block's tensors as slices; biases are nil without Config.Bias.
type layerViews struct {
	ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb []float32
}

type modelViews struct {
	wte, wpe   []float32
	layers     []layerViews
	lnfw, lnfb []float32
}

// layerActs are the activations of one block kept for the backward pass.
type layerActs struct {
	ln1, ln1Mean, ln1Rstd []float32 // (N,C) (N) (N)
	qkv                   []float32 // (N,3C)
	att                   []float32 // (B,NH,T,T)
	atty                  []float32 // (N,C)
	res2                  []float32 // (N,C) residual after attention
	ln2, ln2Mean, ln2Rstd []float32 // (N,C) (N) (N)
	fch, fchGelu          []float32 // (N,4C)
	res3                  []float32 // (N,C) residual after the MLP (the block's output)
}

// Model is a GPT-2 with all parameters in one buffer (Params) and their gradients
// in another of the same layout (Grads). Activations are owned by the model and
// sized for (B,T) on the first Forward with that shape.
type Model struct {
	Config Config
	Params []float32 // all parameters, one contiguous buffer (layout: Tensors)
	Grads  []float32 // same layout as Params

	be      Backend
	tensors []Tensor
	p, g    modelViews

	// activations for the current (B,T)
	B, T       int
	actBuf     []float32
	encoded    []float32 // (N,C)
	layers     []layerActs
	branch     []float32 // (N,C) output of attn/MLP projections before the residual add
	lnf        []float32 // (N,C)
	lnfMean    []float32 // (N)
	lnfRstd    []float32 // (N)
	logits     []float32 // (N,V) logits, or dlogits after a Forward with targets
	losses     []float32 // (N)
	tokens     []int32   // (N) copy of the last batch
	extra      []float32 // (N,V) logits recomputed on demand by Logits
	dres, dC   []float32 // (N,C) backward scratch
	dC2        []float32 // (N,C) masked branch gradient (dropout only)
	d3C        []float32 // (N,3C)
	d4C        []float32 // (N,4C)
	haveTarget bool      // last Forward had targets: Backward may run
	logitsOK   bool      // logits holds logits (not dlogits)
	forwardOK  bool

	train bool
	rng   *RNG
	seeds []uint64 // dropout seeds of the last Forward: emb, then per layer attn, resid1, resid2
}

// New builds a model with GPT-2's initialisation from seed: weights and embeddings
// N(0, 0.02), the residual projections (attn.c_proj, mlp.c_proj) N(0, 0.02/√(2·Layers)),
// biases 0, LayerNorm weights 1. It runs on a CPU backend with GOMAXPROCS workers.
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
	m := &Model{Config: cfg, be: be, rng: NewRNG(seed ^ 0x5DEECE66D)}
	off := 0
	for _, s := range cfg.specs() {
		size := 1
		for _, d := range s.shape {
			size *= d
		}
		m.tensors = append(m.tensors, Tensor{Name: s.name, Offset: off, Size: size, Shape: s.shape, Decay: s.decay})
		off += size
	}
	m.Params = make([]float32, off)
	m.Grads = make([]float32, off)
	m.p = m.views(m.Params)
	m.g = m.views(m.Grads)
	m.initParams(seed)
	return m, nil
}

func (m *Model) views(buf []float32) modelViews {
	byName := make(map[string][]float32, len(m.tensors))
	for _, t := range m.tensors {
		byName[t.Name] = buf[t.Offset : t.Offset+t.Size : t.Offset+t.Size]
	}
	v := modelViews{wte: byName["wte"], wpe: byName["wpe"], lnfw: byName["ln_f.weight"], lnfb: byName["ln_f.bias"]}
	for l := 0; l < m.Config.Layers; l++ {
		p := func(s string) []float32 { return byName[fmt.Sprintf("h.%d.%s", l, s)] }
		v.layers = append(v.layers, layerViews{
			ln1w: p("ln_1.weight"), ln1b: p("ln_1.bias"),
			qkvw: p("attn.c_attn.weight"), qkvb: p("attn.c_attn.bias"),
			projw: p("attn.c_proj.weight"), projb: p("attn.c_proj.bias"),
			ln2w: p("ln_2.weight"), ln2b: p("ln_2.bias"),
			fcw: p("mlp.c_fc.weight"), fcb: p("mlp.c_fc.bias"),
			fcprojw: p("mlp.c_proj.weight"), fcprojb: p("mlp.c_proj.bias"),
		})
	}
	return v
}

func (m *Model) initParams(seed uint64) {
	rng := NewRNG(seed)
	projStd := 0.02 / math.Sqrt(2*float64(m.Config.Layers))
	for _, t := range m.tensors {
		x := m.Params[t.Offset : t.Offset+t.Size]
		switch {
		case strings.HasSuffix(t.Name, ".bias"):
			clear(x)
		case strings.Contains(t.Name, "ln_"):
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
// non-position-embedding parameters N, plus 12·L·C·T for attention (QKᵀ and AV).
func (m *Model) FLOPsPerToken() int64 {
	c := m.Config
	n := int64(len(m.Params) - c.ContextLen*c.Width)
	return 6*n + 12*int64(c.Layers)*int64(c.Width)*int64(c.ContextLen)
}

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

// resize lays out the activations for a (B,T) batch, reusing the buffer when it is
// large enough (so alternating training and validation shapes does not allocate).
func (m *Model) resize(B, T int) {
	if m.B == B && m.T == T && m.actBuf != nil {
		return
	}
	c := m.Config
	N, C, V, L, NH := B*T, c.Width, c.VocabSize, c.Layers, c.Heads
	perLayer := N*C*7 + N*4 + N*3*C + B*NH*T*T + N*4*C*2
	total := N*C*2 + L*perLayer + N*2 + N*V + N + N*C*4 + N*3*C + N*4*C
	if cap(m.actBuf) < total {
		m.actBuf = make([]float32, total)
	}
	buf := m.actBuf[:total]
	take := func(n int) []float32 {
		s := buf[:n:n]
		buf = buf[n:]
		return s
	}
	m.encoded = take(N * C)
	if len(m.layers) != L {
		m.layers = make([]layerActs, L)
	}
	for l := range m.layers {
		a := &m.layers[l]
		a.ln1, a.ln1Mean, a.ln1Rstd = take(N*C), take(N), take(N)
		a.qkv = take(N * 3 * C)
		a.att = take(B * NH * T * T)
		a.atty = take(N * C)
		a.res2 = take(N * C)
		a.ln2, a.ln2Mean, a.ln2Rstd = take(N*C), take(N), take(N)
		a.fch, a.fchGelu = take(N*4*C), take(N*4*C)
		a.res3 = take(N * C)
	}
	m.branch = take(N * C)
	m.lnf, m.lnfMean, m.lnfRstd = take(N*C), take(N), take(N)
	m.logits = take(N * V)
	m.losses = take(N)
	m.dres, m.dC, m.dC2 = take(N*C), take(N*C), take(N*C)
	m.d3C, m.d4C = take(N*3*C), take(N*4*C)
	if cap(m.tokens) < N {
		m.tokens = make([]int32, N)
	}
	m.tokens = m.tokens[:N]
	if len(m.seeds) != 1+3*L {
		m.seeds = make([]uint64, 1+3*L)
	}
	m.B, m.T = B, T
}

func (m *Model) dropout(i int) Dropout {
	if !m.train || m.Config.Dropout == 0 {
		return Dropout{}
	}
	return Dropout{P: m.Config.Dropout, Seed: m.seeds[i]}
}

// Forward runs the model on tokens (B,T), row-major. With targets (B,T) it returns
// the mean cross-entropy over the targets that are ≥ 0 (-1 = ignore, as nanoGPT)
// and prepares Backward; with targets nil it returns 0 and only computes logits.
// A non-finite loss is returned together with an error wrapping ErrNonFinite.
func (m *Model) Forward(tokens, targets []int32, B, T int) (float32, error) {
	c := m.Config
	m.forwardOK, m.haveTarget = false, false
	if B <= 0 || T <= 0 {
		return 0, fmt.Errorf("gpt forward: batch %d×%d must be positive", B, T)
	}
	if T > c.ContextLen {
		return 0, fmt.Errorf("gpt forward: sequence length T=%d exceeds the model's context length %d", T, c.ContextLen)
	}
	if len(tokens) != B*T {
		return 0, fmt.Errorf("gpt forward: %d tokens for a %d×%d batch (want %d)", len(tokens), B, T, B*T)
	}
	if targets != nil && len(targets) != B*T {
		return 0, fmt.Errorf("gpt forward: %d targets for a %d×%d batch (want %d)", len(targets), B, T, B*T)
	}
	for i, tok := range tokens {
		if tok < 0 || int(tok) >= c.VocabSize {
			return 0, fmt.Errorf("gpt forward: token id %d at batch row %d position %d is outside the vocabulary [0,%d)", tok, i/T, i%T, c.VocabSize)
		}
	}
	count := 0
	for i, tg := range targets {
		if tg < -1 || int(tg) >= c.VocabSize {
			return 0, fmt.Errorf("gpt forward: target id %d at batch row %d position %d is outside the vocabulary [0,%d) (-1 = ignore)", tg, i/T, i%T, c.VocabSize)
		}
		if tg >= 0 {
			count++
		}
	}
	if targets != nil && count == 0 {
		return 0, fmt.Errorf("gpt forward: every target of the %d×%d batch is -1 (ignored)", B, T)
	}
	m.resize(B, T)
	copy(m.tokens, tokens)
	if m.train && c.Dropout > 0 {
		for i := range m.seeds {
			m.seeds[i] = m.rng.Uint64()
		}
	}

	be := m.be
	N, C, V, NH := B*T, c.Width, c.VocabSize, c.Heads
	p := &m.p
	be.EncoderForward(m.encoded, tokens, p.wte, p.wpe, B, T, C, m.dropout(0))
	a0 := &m.layers[0]
	be.LayernormForward(a0.ln1, a0.ln1Mean, a0.ln1Rstd, m.encoded, p.layers[0].ln1w, p.layers[0].ln1b, N, C)
	for l := range m.layers {
		a, w := &m.layers[l], &p.layers[l]
		in := m.encoded
		if l > 0 {
			in = m.layers[l-1].res3
		}
		be.MatmulForward(a.qkv, a.ln1, w.qkvw, w.qkvb, N, C, 3*C)
		be.AttentionForward(a.atty, a.att, a.qkv, B, T, C, NH, m.dropout(1+3*l))
		be.MatmulForward(m.branch, a.atty, w.projw, w.projb, N, C, C)
		be.ResidualLayernormForward(a.res2, a.ln2, a.ln2Mean, a.ln2Rstd, in, m.branch, w.ln2w, w.ln2b, N, C, m.dropout(2+3*l))
		be.MatmulForward(a.fch, a.ln2, w.fcw, w.fcb, N, C, 4*C)
		be.GeluForward(a.fchGelu, a.fch)
		be.MatmulForward(m.branch, a.fchGelu, w.fcprojw, w.fcprojb, N, 4*C, C)
		// The residual add is fused with the next LayerNorm (the next block's ln_1, or ln_f).
		out, mean, rstd, lw, lb := m.lnf, m.lnfMean, m.lnfRstd, p.lnfw, p.lnfb
		if l+1 < len(m.layers) {
			nx := &m.layers[l+1]
			out, mean, rstd, lw, lb = nx.ln1, nx.ln1Mean, nx.ln1Rstd, p.layers[l+1].ln1w, p.layers[l+1].ln1b
		}
		be.ResidualLayernormForward(a.res3, out, mean, rstd, a.res2, m.branch, lw, lb, N, C, m.dropout(3+3*l))
	}
	m.forwardOK = true
	if targets == nil {
		be.ClassifierForward(m.logits, nil, m.lnf, p.wte, nil, N, C, V, 0)
		m.logitsOK = true
		return 0, nil
	}
	be.ClassifierForward(m.logits, m.losses, m.lnf, p.wte, targets, N, C, V, 1/float32(count))
	m.logitsOK = false
	m.haveTarget = true
	var sum float64
	for _, l := range m.losses {
		sum += float64(l)
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
	if m.logitsOK {
		return m.logits
	}
	c := m.Config
	N := m.B * m.T
	if cap(m.extra) < N*c.VocabSize {
		m.extra = make([]float32, N*c.VocabSize)
	}
	m.extra = m.extra[:N*c.VocabSize]
	m.be.ClassifierForward(m.extra, nil, m.lnf, m.p.wte, nil, N, c.Width, c.VocabSize, 0)
	return m.extra
}

// Backward accumulates into Grads the gradient of the last Forward's loss (the
// mean over its targets). For gradient accumulation over k micro-batches call
// Forward+Backward k times and scale by 1/k (ScaleGrads) before the step.
func (m *Model) Backward() error {
	if !m.haveTarget {
		return errors.New("gpt backward: the last Forward had no targets (or failed); nothing to differentiate")
	}
	m.haveTarget = false // the fused dlogits are consumed
	c := m.Config
	be := m.be
	B, T := m.B, m.T
	N, C, V, NH := B*T, c.Width, c.VocabSize, c.Heads
	p, g := &m.p, &m.g

	be.ClassifierBackward(m.dC, g.wte, m.logits, m.lnf, p.wte, N, C, V)
	clear(m.dres)
	last := m.layers[len(m.layers)-1].res3
	be.LayernormBackward(m.dres, g.lnfw, g.lnfb, m.dC, last, p.lnfw, m.lnfMean, m.lnfRstd, N, C)
	for l := len(m.layers) - 1; l >= 0; l-- {
		a, w, gw := &m.layers[l], &p.layers[l], &g.layers[l]
		in := m.encoded
		if l > 0 {
			in = m.layers[l-1].res3
		}
		dbranch := m.dres
		if d := m.dropout(3 + 3*l); d.Active() {
			be.DropoutApply(m.dC2, m.dres, d)
			dbranch = m.dC2
		}
		be.MatmulBackward(m.d4C, gw.fcprojw, gw.fcprojb, dbranch, a.fchGelu, w.fcprojw, N, 4*C, C)
		be.GeluBackward(m.d4C, a.fch, m.d4C)
		be.MatmulBackward(m.dC, gw.fcw, gw.fcb, m.d4C, a.ln2, w.fcw, N, C, 4*C)
		be.LayernormBackward(m.dres, gw.ln2w, gw.ln2b, m.dC, a.res2, w.ln2w, a.ln2Mean, a.ln2Rstd, N, C)
		dbranch = m.dres
		if d := m.dropout(2 + 3*l); d.Active() {
			be.DropoutApply(m.dC2, m.dres, d)
			dbranch = m.dC2
		}
		be.MatmulBackward(m.dC, gw.projw, gw.projb, dbranch, a.atty, w.projw, N, C, C)
		be.AttentionBackward(m.d3C, m.dC, a.qkv, a.att, B, T, C, NH, m.dropout(1+3*l))
		be.MatmulBackward(m.dC, gw.qkvw, gw.qkvb, m.d3C, a.ln1, w.qkvw, N, C, 3*C)
		be.LayernormBackward(m.dres, gw.ln1w, gw.ln1b, m.dC, in, w.ln1w, a.ln1Mean, a.ln1Rstd, N, C)
	}
	demb := m.dres
	if d := m.dropout(0); d.Active() {
		be.DropoutApply(m.dC2, m.dres, d)
		demb = m.dC2
	}
	be.EncoderBackward(g.wte, g.wpe, demb, m.tokens, B, T, C)
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
