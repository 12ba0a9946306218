//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"math"

	"gorgonia.org/cu"

	"github.com/golem-lm/golem/lmlib/gpt"
)

type dlayer struct {
	ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb cu.DevicePtr
}

type dviews struct {
	wte, wpe, lnfw, lnfb cu.DevicePtr
	layers               []dlayer
}

type dacts struct {
	ln1, ln1Mean, ln1Rstd buffer
	qkv, att, atty, res2  buffer
	ln2, ln2Mean, ln2Rstd buffer
	fch, fchGelu, res3    buffer
}

// Model is a GPT-2 whose parameters, gradients, AdamW moments and activations
// live on a Device. Its layout is gpt.Model's (same Tensors, same offsets), so
// LoadFrom/SyncToHost move a whole model in one copy each way and a checkpoint
// written from the host model after SyncToHost is the CPU engine's checkpoint.
// The arithmetic is the CPU backend's, op for op, in fp32 (TF32 matrix products
// when the Device has Options.TF32).
type Model struct {
	Config gpt.Config

	dev                     *Device
	tensors                 []gpt.Tensor
	params, grads, mom, vel buffer
	decay                   buffer // one byte per parameter: weight decay applies
	p, g                    dviews
	B, T                    int
	encoded                 buffer
	layers                  []dacts
	branch                  buffer
	lnf, lnfMean, lnfRstd   buffer
	logits, losses          buffer
	tokens, targets         buffer // int32
	dres, dC, d3C, d4C      buffer
	q, k, v, y              buffer // attention scratch (B,NH,T,hs)
	dq, dk, dv              buffer
	datt                    buffer // (B,NH,T,T) scratch
	norm                    buffer // one double
	lossHost                []float32
	haveTarget, forwardOK   bool
	logitsOK                bool
	lastCount               int
}

// New copies host's parameters to dev and returns the device model. host keeps
// its own buffers; it is not touched again unless passed to SyncToHost/LoadFrom.
// Dropout is not implemented on the GPU: a Config with Dropout > 0 is refused.
func New(dev *Device, host *gpt.Model) (*Model, error) {
	if host == nil {
		return nil, errors.New("cuda: New needs a gpt.Model (its parameters are copied to the GPU)")
	}
	if host.Config.Dropout > 0 {
		return nil, fmt.Errorf("cuda: dropout %v is not implemented on the GPU yet (use Dropout 0)", host.Config.Dropout)
	}
	defer dev.enter()()
	m := &Model{Config: host.Config, dev: dev, tensors: host.Tensors()}
	P := len(host.Params)
	var err error
	for _, b := range []struct {
		buf  *buffer
		n    int
		what string
	}{{&m.params, P, "parameters"}, {&m.grads, P, "gradients"}, {&m.mom, P, "AdamW first moments"},
		{&m.vel, P, "AdamW second moments"}, {&m.decay, ceilDiv(P, 4), "weight-decay mask"}, {&m.norm, 2, "norm"}} {
		if *b.buf, err = dev.alloc(b.n, b.what); err != nil {
			m.closeLocked()
			return nil, err
		}
	}
	mask := make([]uint8, P)
	for _, t := range m.tensors {
		if t.Decay {
			for i := t.Offset; i < t.Offset+t.Size; i++ {
				mask[i] = 1
			}
		}
	}
	if err := toDevice(m.decay.ptr, mask); err != nil {
		m.closeLocked()
		return nil, fmt.Errorf("cuda: copy the weight-decay mask: %w", err)
	}
	if err := toDevice(m.params.ptr, host.Params); err != nil {
		m.closeLocked()
		return nil, fmt.Errorf("cuda: copy %d parameters to the GPU: %w", P, err)
	}
	m.p = m.views(m.params)
	m.g = m.views(m.grads)
	return m, nil
}

func (m *Model) views(b buffer) dviews {
	at := map[string]cu.DevicePtr{}
	for _, t := range m.tensors {
		at[t.Name] = b.at(t.Offset)
	}
	v := dviews{wte: at["wte"], wpe: at["wpe"], lnfw: at["ln_f.weight"], lnfb: at["ln_f.bias"]}
	for l := 0; l < m.Config.Layers; l++ {
		p := func(s string) cu.DevicePtr { return at[fmt.Sprintf("h.%d.%s", l, s)] }
		v.layers = append(v.layers, dlayer{
			ln1w: p("ln_1.weight"), ln1b: p("ln_1.bias"), qkvw: p("attn.c_attn.weight"), qkvb: p("attn.c_attn.bias"),
			projw: p("attn.c_proj.weight"), projb: p("attn.c_proj.bias"), ln2w: p("ln_2.weight"), ln2b: p("ln_2.bias"),
			fcw: p("mlp.c_fc.weight"), fcb: p("mlp.c_fc.bias"), fcprojw: p("mlp.c_proj.weight"), fcprojb: p("mlp.c_proj.bias"),
		})
	}
	return v
}

// Device returns the GPU the model lives on.
func (m *Model) Device() *Device { return m.dev }

// Tensors lists the parameter tensors (gpt.Model's layout).
func (m *Model) Tensors() []gpt.Tensor { return m.tensors }

// NumParams returns the number of parameters.
func (m *Model) NumParams() int { return m.params.n }

// Close frees the model's device memory.
func (m *Model) Close() {
	defer m.dev.enter()()
	m.closeLocked()
}

func (m *Model) closeLocked() {
	m.freeActs()
	for _, b := range []*buffer{&m.params, &m.grads, &m.mom, &m.vel, &m.decay, &m.norm} {
		m.dev.free(b)
	}
}

func (m *Model) actBuffers() []*buffer {
	bs := []*buffer{&m.encoded, &m.branch, &m.lnf, &m.lnfMean, &m.lnfRstd, &m.logits, &m.losses, &m.tokens, &m.targets,
		&m.dres, &m.dC, &m.d3C, &m.d4C, &m.q, &m.k, &m.v, &m.y, &m.dq, &m.dk, &m.dv, &m.datt}
	for l := range m.layers {
		a := &m.layers[l]
		bs = append(bs, &a.ln1, &a.ln1Mean, &a.ln1Rstd, &a.qkv, &a.att, &a.atty, &a.res2, &a.ln2, &a.ln2Mean, &a.ln2Rstd, &a.fch, &a.fchGelu, &a.res3)
	}
	return bs
}

func (m *Model) freeActs() {
	for _, b := range m.actBuffers() {
		m.dev.free(b)
	}
	m.layers = nil
	m.B, m.T = 0, 0
}

// resize (re)allocates the activations for a (B,T) batch.
func (m *Model) resize(B, T int) error {
	if m.B == B && m.T == T && m.layers != nil {
		return nil
	}
	m.freeActs()
	c := m.Config
	N, C, V, NH := B*T, c.Width, c.VocabSize, c.Heads
	m.layers = make([]dacts, c.Layers)
	sizes := map[*buffer]int{
		&m.encoded: N * C, &m.branch: N * C, &m.lnf: N * C, &m.lnfMean: N, &m.lnfRstd: N,
		&m.logits: N * V, &m.losses: N, &m.tokens: N, &m.targets: N,
		&m.dres: N * C, &m.dC: N * C, &m.d3C: N * 3 * C, &m.d4C: N * 4 * C,
		&m.q: N * C, &m.k: N * C, &m.v: N * C, &m.y: N * C, &m.dq: N * C, &m.dk: N * C, &m.dv: N * C,
		&m.datt: B * NH * T * T,
	}
	for l := range m.layers {
		a := &m.layers[l]
		for b, n := range map[*buffer]int{&a.ln1: N * C, &a.ln1Mean: N, &a.ln1Rstd: N, &a.qkv: N * 3 * C,
			&a.att: B * NH * T * T, &a.atty: N * C, &a.res2: N * C, &a.ln2: N * C, &a.ln2Mean: N, &a.ln2Rstd: N,
			&a.fch: N * 4 * C, &a.fchGelu: N * 4 * C, &a.res3: N * C} {
			sizes[b] = n
		}
	}
	for _, b := range m.actBuffers() {
		var err error
		if *b, err = m.dev.alloc(sizes[b], fmt.Sprintf("activations for a %d×%d batch", B, T)); err != nil {
			m.freeActs()
			return err
		}
	}
	m.lossHost = make([]float32, N)
	m.B, m.T = B, T
	return nil
}

// validate checks a batch as gpt.Model.Forward does and counts the targets.
func (m *Model) validate(tokens, targets []int32, B, T int) (int, error) {
	c := m.Config
	if B <= 0 || T <= 0 {
		return 0, fmt.Errorf("cuda forward: batch %d×%d must be positive", B, T)
	}
	if T > c.ContextLen {
		return 0, fmt.Errorf("cuda forward: sequence length T=%d exceeds the model's context length %d", T, c.ContextLen)
	}
	if len(tokens) != B*T {
		return 0, fmt.Errorf("cuda forward: %d tokens for a %d×%d batch (want %d)", len(tokens), B, T, B*T)
	}
	if targets != nil && len(targets) != B*T {
		return 0, fmt.Errorf("cuda forward: %d targets for a %d×%d batch (want %d)", len(targets), B, T, B*T)
	}
	for i, tok := range tokens {
		if tok < 0 || int(tok) >= c.VocabSize {
			return 0, fmt.Errorf("cuda forward: token id %d at batch row %d position %d is outside the vocabulary [0,%d)", tok, i/T, i%T, c.VocabSize)
		}
	}
	count := 0
	for i, tg := range targets {
		if tg < -1 || int(tg) >= c.VocabSize {
			return 0, fmt.Errorf("cuda forward: target id %d at batch row %d position %d is outside the vocabulary [0,%d) (-1 = ignore)", tg, i/T, i%T, c.VocabSize)
		}
		if tg >= 0 {
			count++
		}
	}
	if targets != nil && count == 0 {
		return 0, fmt.Errorf("cuda forward: every target of the %d×%d batch is -1 (ignored)", B, T)
	}
	return count, nil
}

// Forward runs the model on tokens (B,T) like gpt.Model.Forward: with targets it
// returns the mean cross-entropy over the targets ≥ 0 and prepares Backward.
func (m *Model) Forward(tokens, targets []int32, B, T int) (float32, error) {
	m.forwardOK, m.haveTarget = false, false
	count, err := m.validate(tokens, targets, B, T)
	if err != nil {
		return 0, err
	}
	defer m.dev.enter()()
	if err := m.resize(B, T); err != nil {
		return 0, err
	}
	if err := toDevice(m.tokens.ptr, tokens); err != nil {
		return 0, fmt.Errorf("cuda forward: copy tokens: %w", err)
	}
	if err := m.forward(B, T); err != nil {
		return 0, err
	}
	m.forwardOK = true
	if targets == nil {
		if err := m.classifier(0); err != nil {
			return 0, err
		}
		m.logitsOK = true
		return 0, nil
	}
	if err := toDevice(m.targets.ptr, targets); err != nil {
		return 0, fmt.Errorf("cuda forward: copy targets: %w", err)
	}
	if err := m.classifier(1 / float32(count)); err != nil {
		return 0, err
	}
	m.logitsOK = false
	if err := toHost(m.lossHost, m.losses.ptr); err != nil {
		return 0, fmt.Errorf("cuda forward: copy losses: %w", err)
	}
	var sum float64
	for _, l := range m.lossHost {
		sum += float64(l)
	}
	m.haveTarget = true
	m.lastCount = count
	loss := float32(sum / float64(count))
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, fmt.Errorf("cuda forward: loss is %v: %w", loss, gpt.ErrNonFinite)
	}
	return loss, nil
}

func (m *Model) forward(B, T int) error {
	c := m.Config
	N, C := B*T, c.Width
	d, p := m.dev, &m.p
	var errs []error
	do := func(err error) { errs = append(errs, err) }
	do(d.launch("encoder_forward", ceilDiv(N*C, 256), 256, 0, pArg(m.encoded.ptr), pArg(m.tokens.ptr), pArg(p.wte), pArg(p.wpe), iArg(B), iArg(T), iArg(C)))
	a0 := &m.layers[0]
	do(m.layernorm(0, a0.ln1.ptr, a0.ln1Mean.ptr, a0.ln1Rstd.ptr, 0, m.encoded.ptr, p.layers[0].ln1w, p.layers[0].ln1b, N))
	for l := range m.layers {
		a, w := &m.layers[l], &p.layers[l]
		in := m.encoded.ptr
		if l > 0 {
			in = m.layers[l-1].res3.ptr
		}
		do(m.matmul(a.qkv.ptr, a.ln1.ptr, w.qkvw, w.qkvb, N, C, 3*C))
		do(m.attention(a.atty.ptr, a.att.ptr, a.qkv.ptr, B, T))
		do(m.matmul(m.branch.ptr, a.atty.ptr, w.projw, w.projb, N, C, C))
		do(m.layernorm(a.res2.ptr, a.ln2.ptr, a.ln2Mean.ptr, a.ln2Rstd.ptr, in, m.branch.ptr, w.ln2w, w.ln2b, N))
		do(m.matmul(a.fch.ptr, a.ln2.ptr, w.fcw, w.fcb, N, C, 4*C))
		do(d.launch("gelu_forward", ceilDiv(N*4*C, 256), 256, 0, pArg(a.fchGelu.ptr), pArg(a.fch.ptr), iArg(N*4*C)))
		do(m.matmul(m.branch.ptr, a.fchGelu.ptr, w.fcprojw, w.fcprojb, N, 4*C, C))
		out, mean, rstd, lw, lb := m.lnf.ptr, m.lnfMean.ptr, m.lnfRstd.ptr, p.lnfw, p.lnfb
		if l+1 < len(m.layers) {
			nx := &m.layers[l+1]
			out, mean, rstd, lw, lb = nx.ln1.ptr, nx.ln1Mean.ptr, nx.ln1Rstd.ptr, p.layers[l+1].ln1w, p.layers[l+1].ln1b
		}
		do(m.layernorm(a.res3.ptr, out, mean, rstd, a.res2.ptr, m.branch.ptr, lw, lb, N))
	}
	return errors.Join(errs...)
}

// layernorm: with a != 0, res = a + x and out = LayerNorm(res); otherwise out = LayerNorm(x).
func (m *Model) layernorm(res, out, mean, rstd, a, x, w, b cu.DevicePtr, N int) error {
	return m.dev.launch("layernorm_forward", ceilDiv(N, 8), 256, 0, pArg(res), pArg(out), pArg(mean), pArg(rstd), pArg(a), pArg(x), pArg(w), pArg(b), iArg(N), iArg(m.Config.Width))
}

func (m *Model) layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd cu.DevicePtr, N int) error {
	C := m.Config.Width
	grid := min(ceilDiv(N, 8), 2*max(m.dev.SMs, 1))
	return m.dev.launch("layernorm_backward", grid, 256, 2*C*4, pArg(dinp), pArg(dw), pArg(db), pArg(dout), pArg(inp), pArg(w), pArg(mean), pArg(rstd), iArg(N), iArg(C))
}

// matmul: out (N,OC) = inp (N,C) @ w (C,OC) + bias.
func (m *Model) matmul(out, inp, w, bias cu.DevicePtr, N, C, OC int) error {
	if err := m.dev.gemm(false, false, N, OC, C, 1, inp, C, w, OC, 0, out, OC); err != nil {
		return err
	}
	if bias == 0 {
		return nil
	}
	return m.dev.launch("add_bias", ceilDiv(N*OC, 256), 256, 0, pArg(out), pArg(bias), iArg(N), iArg(OC))
}

// matmulBackward: dinp = dout @ wᵀ; dw += inpᵀ @ dout; dbias += Σ dout.
func (m *Model) matmulBackward(dinp, dw, dbias, dout, inp, w cu.DevicePtr, N, C, OC int) error {
	if err := m.dev.gemm(false, true, N, C, OC, 1, dout, OC, w, OC, 0, dinp, C); err != nil {
		return err
	}
	if err := m.dev.gemm(true, false, C, OC, N, 1, inp, C, dout, OC, 1, dw, OC); err != nil {
		return err
	}
	if dbias == 0 {
		return nil
	}
	return m.dev.launch2("bias_backward", ceilDiv(OC, 256), min(ceilDiv(N, 64), 512), 256, pArg(dbias), pArg(dout), iArg(N), iArg(OC))
}

func (m *Model) attention(out, att, qkv cu.DevicePtr, B, T int) error {
	c := m.Config
	NH, hs := c.Heads, c.Width/c.Heads
	n := B * NH * T * hs
	d := m.dev
	if err := d.launch("attn_permute", ceilDiv(n, 256), 256, 0, pArg(m.q.ptr), pArg(m.k.ptr), pArg(m.v.ptr), pArg(qkv), iArg(B), iArg(T), iArg(NH), iArg(hs)); err != nil {
		return err
	}
	scale := float32(1 / math.Sqrt(float64(hs)))
	if err := d.gemmBatched(false, true, T, T, hs, scale, m.q.ptr, hs, T*hs, m.k.ptr, hs, T*hs, 0, att, T, T*T, B*NH); err != nil {
		return err
	}
	if err := d.launch("attn_softmax", B*NH*T, min(256, ceilDiv(T, 32)*32), 0, pArg(att), iArg(T)); err != nil {
		return err
	}
	if err := d.gemmBatched(false, false, T, hs, T, 1, att, T, T*T, m.v.ptr, hs, T*hs, 0, m.y.ptr, hs, T*hs, B*NH); err != nil {
		return err
	}
	return d.launch("attn_unpermute", ceilDiv(n, 256), 256, 0, pArg(out), pArg(m.y.ptr), iArg(B), iArg(T), iArg(NH), iArg(hs), iArg(1))
}

func (m *Model) attentionBackward(dqkv, dout, qkv, att cu.DevicePtr, B, T int) error {
	c := m.Config
	NH, hs := c.Heads, c.Width/c.Heads
	n := B * NH * T * hs
	d := m.dev
	var errs []error
	do := func(err error) { errs = append(errs, err) }
	do(d.launch("attn_unpermute", ceilDiv(n, 256), 256, 0, pArg(dout), pArg(m.y.ptr), iArg(B), iArg(T), iArg(NH), iArg(hs), iArg(0)))
	do(d.launch("attn_permute", ceilDiv(n, 256), 256, 0, pArg(m.q.ptr), pArg(m.k.ptr), pArg(m.v.ptr), pArg(qkv), iArg(B), iArg(T), iArg(NH), iArg(hs)))
	do(d.gemmBatched(false, true, T, T, hs, 1, m.y.ptr, hs, T*hs, m.v.ptr, hs, T*hs, 0, m.datt.ptr, T, T*T, B*NH))
	do(d.gemmBatched(true, false, T, hs, T, 1, att, T, T*T, m.y.ptr, hs, T*hs, 0, m.dv.ptr, hs, T*hs, B*NH))
	scale := float32(1 / math.Sqrt(float64(hs)))
	do(d.launch("attn_softmax_backward", B*NH*T, min(256, ceilDiv(T, 32)*32), 0, pArg(m.datt.ptr), pArg(att), iArg(T), fArg(scale)))
	do(d.gemmBatched(false, false, T, hs, T, 1, m.datt.ptr, T, T*T, m.k.ptr, hs, T*hs, 0, m.dq.ptr, hs, T*hs, B*NH))
	do(d.gemmBatched(true, false, T, hs, T, 1, m.datt.ptr, T, T*T, m.q.ptr, hs, T*hs, 0, m.dk.ptr, hs, T*hs, B*NH))
	do(d.launch("attn_permute_backward", ceilDiv(n, 256), 256, 0, pArg(dqkv), pArg(m.dq.ptr), pArg(m.dk.ptr), pArg(m.dv.ptr), iArg(B), iArg(T), iArg(NH), iArg(hs)))
	return errors.Join(errs...)
}

// classifier: logits = lnf @ wteᵀ; with dscale > 0 the fused softmax/cross-entropy
// turns them into dlogits and writes the per-row losses.
func (m *Model) classifier(dscale float32) error {
	c := m.Config
	N, C, V := m.B*m.T, c.Width, c.VocabSize
	if err := m.dev.gemm(false, true, N, V, C, 1, m.lnf.ptr, C, m.p.wte, C, 0, m.logits.ptr, V); err != nil {
		return err
	}
	if dscale == 0 {
		return nil
	}
	return m.dev.launch("crossentropy_softmax", N, min(1024, ceilDiv(V, 32)*32), 0, pArg(m.logits.ptr), pArg(m.losses.ptr), pArg(m.targets.ptr), iArg(V), fArg(dscale))
}

// Logits returns the (B,T,V) logits of the last Forward, copied to the host (after
// a Forward with targets they are recomputed, as gpt.Model.Logits does).
func (m *Model) Logits() ([]float32, error) {
	if !m.forwardOK {
		return nil, errors.New("cuda logits: no successful Forward yet")
	}
	defer m.dev.enter()()
	out := make([]float32, m.B*m.T*m.Config.VocabSize)
	if !m.logitsOK {
		// The logits buffer holds the dlogits Backward still needs: recompute into a temporary buffer.
		c := m.Config
		N := m.B * m.T
		tmp, err := m.dev.alloc(N*c.VocabSize, "logits")
		if err != nil {
			return nil, err
		}
		defer m.dev.free(&tmp)
		if err := m.dev.gemm(false, true, N, c.VocabSize, c.Width, 1, m.lnf.ptr, c.Width, m.p.wte, c.Width, 0, tmp.ptr, c.VocabSize); err != nil {
			return nil, err
		}
		return out, toHost(out, tmp.ptr)
	}
	return out, toHost(out, m.logits.ptr)
}

// Backward accumulates into the gradients the gradient of the last Forward's mean loss.
func (m *Model) Backward() error {
	if !m.haveTarget {
		return errors.New("cuda backward: the last Forward had no targets (or failed); nothing to differentiate")
	}
	m.haveTarget = false
	defer m.dev.enter()()
	c := m.Config
	B, T := m.B, m.T
	N, C, V := B*T, c.Width, c.VocabSize
	d, p, g := m.dev, &m.p, &m.g
	var errs []error
	do := func(err error) { errs = append(errs, err) }
	// Classifier: dC = dlogits @ wte; dwte += dlogitsᵀ @ lnf.
	do(d.gemm(false, false, N, C, V, 1, m.logits.ptr, V, p.wte, C, 0, m.dC.ptr, C))
	do(d.gemm(true, false, V, C, N, 1, m.logits.ptr, V, m.lnf.ptr, C, 1, g.wte, C))
	do(d.zero(m.dres))
	last := m.layers[len(m.layers)-1].res3.ptr
	do(m.layernormBackward(m.dres.ptr, g.lnfw, g.lnfb, m.dC.ptr, last, p.lnfw, m.lnfMean.ptr, m.lnfRstd.ptr, N))
	for l := len(m.layers) - 1; l >= 0; l-- {
		a, w, gw := &m.layers[l], &p.layers[l], &g.layers[l]
		in := m.encoded.ptr
		if l > 0 {
			in = m.layers[l-1].res3.ptr
		}
		do(m.matmulBackward(m.d4C.ptr, gw.fcprojw, gw.fcprojb, m.dres.ptr, a.fchGelu.ptr, w.fcprojw, N, 4*C, C))
		do(d.launch("gelu_backward", ceilDiv(N*4*C, 256), 256, 0, pArg(m.d4C.ptr), pArg(a.fch.ptr), pArg(m.d4C.ptr), iArg(N*4*C)))
		do(m.matmulBackward(m.dC.ptr, gw.fcw, gw.fcb, m.d4C.ptr, a.ln2.ptr, w.fcw, N, C, 4*C))
		do(m.layernormBackward(m.dres.ptr, gw.ln2w, gw.ln2b, m.dC.ptr, a.res2.ptr, w.ln2w, a.ln2Mean.ptr, a.ln2Rstd.ptr, N))
		do(m.matmulBackward(m.dC.ptr, gw.projw, gw.projb, m.dres.ptr, a.atty.ptr, w.projw, N, C, C))
		do(m.attentionBackward(m.d3C.ptr, m.dC.ptr, a.qkv.ptr, a.att.ptr, B, T))
		do(m.matmulBackward(m.dC.ptr, gw.qkvw, gw.qkvb, m.d3C.ptr, a.ln1.ptr, w.qkvw, N, C, 3*C))
		do(m.layernormBackward(m.dres.ptr, gw.ln1w, gw.ln1b, m.dC.ptr, in, w.ln1w, a.ln1Mean.ptr, a.ln1Rstd.ptr, N))
	}
	do(d.launch("encoder_backward_wte", ceilDiv(N*C, 256), 256, 0, pArg(g.wte), pArg(m.dres.ptr), pArg(m.tokens.ptr), iArg(N), iArg(C)))
	do(d.launch("encoder_backward_wpe", ceilDiv(T*C, 256), 256, 0, pArg(g.wpe), pArg(m.dres.ptr), iArg(B), iArg(T), iArg(C)))
	return errors.Join(errs...)
}

// ZeroGrad sets every gradient to zero.
func (m *Model) ZeroGrad() error {
	defer m.dev.enter()()
	return m.dev.zero(m.grads)
}

// GradNorm returns the global L2 norm of the gradients (summed in double on the GPU).
func (m *Model) GradNorm() (float32, error) {
	defer m.dev.enter()()
	if err := m.dev.zero(m.norm); err != nil {
		return 0, err
	}
	n := m.grads.n
	if err := m.dev.launch("sum_squares", min(ceilDiv(n, 256), 8*max(m.dev.SMs, 1)), 256, 0, pArg(m.norm.ptr), pArg(m.grads.ptr), iArg(n)); err != nil {
		return 0, err
	}
	s := make([]float64, 1)
	if err := toHost(s, m.norm.ptr); err != nil {
		return 0, fmt.Errorf("cuda grad norm: %w", err)
	}
	return float32(math.Sqrt(s[0])), nil
}

// ScaleGrads multiplies every gradient by s.
func (m *Model) ScaleGrads(s float32) error {
	defer m.dev.enter()()
	return m.dev.launch("scale", ceilDiv(m.grads.n, 256), 256, 0, pArg(m.grads.ptr), fArg(s), iArg(m.grads.n))
}

// AdamWStep applies one AdamW step (torch.optim.AdamW's formula, decoupled weight
// decay on the tensors with Decay) with the moments kept on the GPU; step counts from 1.
func (m *Model) AdamWStep(lr, beta1, beta2, eps, weightDecay float32, step int) error {
	if step < 1 {
		return fmt.Errorf("cuda AdamWStep: step %d must count from 1", step)
	}
	defer m.dev.enter()()
	bc1 := 1 - math.Pow(float64(beta1), float64(step))
	bc2 := 1 - math.Pow(float64(beta2), float64(step))
	n := m.params.n
	return m.dev.launch("adamw", ceilDiv(n, 256), 256, 0, pArg(m.params.ptr), pArg(m.grads.ptr), pArg(m.mom.ptr), pArg(m.vel.ptr), pArg(m.decay.ptr), iArg(n),
		fArg(lr), fArg(beta1), fArg(beta2), fArg(eps), fArg(weightDecay), fArg(float32(float64(lr)/bc1)), fArg(float32(math.Sqrt(bc2))))
}

// SyncToHost copies the parameters and gradients into host (same Config), e.g.
// before writing a checkpoint or comparing with the CPU engine.
func (m *Model) SyncToHost(host *gpt.Model) error {
	if err := m.sameShape(host); err != nil {
		return err
	}
	defer m.dev.enter()()
	if err := toHost(host.Params, m.params.ptr); err != nil {
		return fmt.Errorf("cuda: copy parameters to the host: %w", err)
	}
	if err := toHost(host.Grads, m.grads.ptr); err != nil {
		return fmt.Errorf("cuda: copy gradients to the host: %w", err)
	}
	return nil
}

// LoadFrom copies host's parameters to the GPU (e.g. after loading a checkpoint).
func (m *Model) LoadFrom(host *gpt.Model) error {
	if err := m.sameShape(host); err != nil {
		return err
	}
	defer m.dev.enter()()
	if err := toDevice(m.params.ptr, host.Params); err != nil {
		return fmt.Errorf("cuda: copy parameters to the GPU: %w", err)
	}
	return nil
}

// Moments copies the AdamW moments to mState and vState (len NumParams each), for checkpoints.
func (m *Model) Moments(mState, vState []float32) error {
	if len(mState) != m.params.n || len(vState) != m.params.n {
		return fmt.Errorf("cuda: moments have %d and %d entries, want %d", len(mState), len(vState), m.params.n)
	}
	defer m.dev.enter()()
	if err := toHost(mState, m.mom.ptr); err != nil {
		return err
	}
	return toHost(vState, m.vel.ptr)
}

// SetMoments loads the AdamW moments (a resumed checkpoint).
func (m *Model) SetMoments(mState, vState []float32) error {
	if len(mState) != m.params.n || len(vState) != m.params.n {
		return fmt.Errorf("cuda: moments have %d and %d entries, want %d", len(mState), len(vState), m.params.n)
	}
	defer m.dev.enter()()
	if err := toDevice(m.mom.ptr, mState); err != nil {
		return err
	}
	return toDevice(m.vel.ptr, vState)
}

func (m *Model) sameShape(host *gpt.Model) error {
	if host == nil || host.Config != m.Config || len(host.Params) != m.params.n {
		return fmt.Errorf("cuda: host model does not match the GPU model (config %+v, %d parameters)", m.Config, m.params.n)
	}
	return nil
}
