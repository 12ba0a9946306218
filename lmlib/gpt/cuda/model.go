//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"math"

	"github.com/golem-lm/golem/lmlib/gpt"
)

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
	net                     *gpt.Net // the op sequence gpt.Model runs, and its buffer layout
	ops                     devOps   // gpt.Ops over this model's device buffers
	params, grads, mom, vel buffer
	decay                   buffer // one byte per parameter: weight decay applies
	acts                    buffer // gpt.ArenaActs for (B,T), laid out by net
	tokens, targets         buffer // int32
	q, k, v, y              buffer // attention scratch (B,NH,T,hs)
	dq, dk, dv              buffer
	datt                    buffer // (B,NH,T,T) scratch
	norm                    buffer // one double
	ropeCos, ropeSin        buffer // rotary tables (ContextLen, hs/2) with Config.Rotary
	B, T                    int
	lossHost                []float32
	haveTarget, forwardOK   bool
	logitsOK                bool
}

// New copies host's parameters to dev and returns the device model. host keeps
// its own buffers; it is not touched again unless passed to SyncToHost/LoadFrom.
// Dropout is not implemented on the GPU: a Config with Dropout > 0 is refused. The
// modern recipe's switches run here (their kernels are in kernels.cu); Muon does not
// (the device model has AdamWStep only).
func New(dev *Device, host *gpt.Model) (*Model, error) {
	if host == nil {
		return nil, errors.New("cuda: New needs a gpt.Model (its parameters are copied to the GPU)")
	}
	if host.Config.Dropout > 0 {
		return nil, fmt.Errorf("cuda: dropout %v is not implemented on the GPU yet (use Dropout 0)", host.Config.Dropout)
	}
	net, err := gpt.NewNet(host.Config)
	if err != nil {
		return nil, err
	}
	defer dev.enter()()
	m := &Model{Config: host.Config, dev: dev, tensors: host.Tensors(), net: net}
	m.ops.m = m
	P := len(host.Params)
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
	if c := host.Config; c.Rotary { // the CPU engine's rotary tables, so both turn by the same float32 angles
		cs, sn := gpt.RopeTables(c.ContextLen, c.Width/c.Heads)
		for _, t := range []struct {
			buf  *buffer
			data []float32
		}{{&m.ropeCos, cs}, {&m.ropeSin, sn}} {
			if *t.buf, err = dev.alloc(len(t.data), "rotary tables"); err != nil {
				m.closeLocked()
				return nil, err
			}
			if err := toDevice(t.buf.ptr, t.data); err != nil {
				m.closeLocked()
				return nil, fmt.Errorf("cuda: copy the rotary tables: %w", err)
			}
		}
	}
	return m, nil
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
	for _, b := range []*buffer{&m.params, &m.grads, &m.mom, &m.vel, &m.decay, &m.norm, &m.ropeCos, &m.ropeSin} {
		m.dev.free(b)
	}
}

func (m *Model) actBuffers() []*buffer {
	return []*buffer{&m.acts, &m.tokens, &m.targets, &m.q, &m.k, &m.v, &m.y, &m.dq, &m.dk, &m.dv, &m.datt}
}

func (m *Model) freeActs() {
	for _, b := range m.actBuffers() {
		m.dev.free(b)
	}
	m.B, m.T = 0, 0
}

// resize (re)allocates the activations for a (B,T) batch: the activation arena
// sized by gpt.Net's table (the CPU model's layout), the batch's ids, and the
// attention scratch the GPU's batched GEMMs need.
func (m *Model) resize(B, T int) error {
	if m.B == B && m.T == T && m.acts.ptr != 0 {
		return nil
	}
	m.freeActs()
	c := m.Config
	N, C, NH := B*T, c.Width, c.Heads
	sizes := map[*buffer]int{
		&m.acts: m.net.Layout(B, T), &m.tokens: N, &m.targets: N,
		&m.q: N * C, &m.k: N * C, &m.v: N * C, &m.y: N * C, &m.dq: N * C, &m.dk: N * C, &m.dv: N * C,
		&m.datt: B * NH * T * T,
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

// Forward runs the model on tokens (B,T) like gpt.Model.Forward (the same batch
// check, gpt.Config.CheckBatch, and the same op sequence, gpt.Net): with targets it
// returns the mean cross-entropy over the targets ≥ 0 and prepares Backward.
func (m *Model) Forward(tokens, targets []int32, B, T int) (float32, error) {
	m.forwardOK, m.haveTarget = false, false
	count, err := m.Config.CheckBatch(tokens, targets, B, T)
	if err != nil {
		return 0, fmt.Errorf("cuda forward: %w", err)
	}
	defer m.dev.enter()()
	if err := m.resize(B, T); err != nil {
		return 0, err
	}
	if err := toDevice(m.tokens.ptr, tokens); err != nil {
		return 0, fmt.Errorf("cuda forward: copy tokens: %w", err)
	}
	if targets != nil {
		if err := toDevice(m.targets.ptr, targets); err != nil {
			return 0, fmt.Errorf("cuda forward: copy targets: %w", err)
		}
	}
	m.ops.err = nil
	m.net.Forward(&m.ops, count)
	if m.ops.err != nil {
		return 0, fmt.Errorf("cuda forward: %w", m.ops.err)
	}
	m.forwardOK = true
	if targets == nil {
		m.logitsOK = true
		return 0, nil
	}
	m.logitsOK = false
	if err := toHost(m.lossHost, m.ops.ptr(m.net.Losses())); err != nil {
		return 0, fmt.Errorf("cuda forward: copy losses: %w", err)
	}
	var sum float64
	for _, l := range m.lossHost {
		sum += float64(l)
	}
	m.haveTarget = true
	loss := float32(sum / float64(count))
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, fmt.Errorf("cuda forward: loss is %v: %w", loss, gpt.ErrNonFinite)
	}
	return loss, nil
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
		lnf, head := m.net.ClassifierInputs()
		if err := m.dev.gemm(false, true, N, c.VocabSize, c.Width, 1, m.ops.ptr(lnf), c.Width, m.ops.ptr(head), c.Width, 0, tmp.ptr, c.VocabSize); err != nil {
			return nil, err
		}
		if c.SoftCap > 0 {
			if err := m.dev.launch("softcap_forward", ceilDiv(N*c.VocabSize, 256), 256, 0, pArg(tmp.ptr), iArg(N*c.VocabSize), fArg(c.SoftCap)); err != nil {
				return nil, err
			}
		}
		return out, toHost(out, tmp.ptr)
	}
	return out, toHost(out, m.ops.ptr(m.net.Logits()))
}

// Backward accumulates into the gradients the gradient of the last Forward's mean
// loss (gpt.Net's backward op sequence).
func (m *Model) Backward() error {
	if !m.haveTarget {
		return errors.New("cuda backward: the last Forward had no targets (or failed); nothing to differentiate")
	}
	m.haveTarget = false
	defer m.dev.enter()()
	m.ops.err = nil
	m.net.Backward(&m.ops)
	if m.ops.err != nil {
		return fmt.Errorf("cuda backward: %w", m.ops.err)
	}
	return nil
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
