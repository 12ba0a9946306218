package gpt

import "fmt"

// Backend is the set of kernels a GPT needs on the host, one method per op in the
// llm.c style, over []float32 slices. Shapes are row-major; N = B*T rows, C = width,
// OC = output channels, V = vocabulary, NH = heads. Gradients of parameters
// accumulate (+=) so gradient accumulation is free; gradients of activations are
// overwritten unless a comment says otherwise. The CPU backend (NewCPU) is the
// reference implementation.
//
// Model does not call a Backend directly: its op sequence (Net) issues Ops, the
// same kernels over Buf handles, and hostOps resolves those to slices and calls the
// Backend. lmlib/gpt/cuda implements Ops over device memory instead (a Backend
// would need host slices, so every operand would cross the bus per op), which is
// how the CPU and the GPU run one op sequence.
type Backend interface {
	// Name identifies the backend ("cpu").
	Name() string
	// EncoderForward: out (B,T,C) = drop(wte[tokens] + wpe[t]); wte (V,C), wpe (≥T,C).
	EncoderForward(out []float32, tokens []int32, wte, wpe []float32, B, T, C int, drop Dropout)
	// EncoderBackward: dwte (V,C) += scatter dout (B,T,C) by tokens; dwpe (≥T,C) += Σ_b dout.
	EncoderBackward(dwte, dwpe, dout []float32, tokens []int32, B, T, C int)
	// LayernormForward: out (N,C) = (inp-mean)*rstd*w + b; mean, rstd (N); b may be nil.
	LayernormForward(out, mean, rstd, inp, w, b []float32, N, C int)
	// ResidualLayernormForward: res (N,C) = a + drop(x); out (N,C) = LayerNorm(res) (fused).
	ResidualLayernormForward(res, out, mean, rstd, a, x, w, b []float32, N, C int, drop Dropout)
	// LayernormBackward: dinp (N,C) += ∂/∂inp (accumulates: residual stream); dw, db (C) +=; db may be nil.
	LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int)
	// MatmulForward: out (N,OC) = inp (N,C) @ w (C,OC) + bias (OC); bias may be nil.
	MatmulForward(out, inp, w, bias []float32, N, C, OC int)
	// MatmulBackward: dinp (N,C) = dout (N,OC) @ wᵀ; dw (C,OC) += inpᵀ @ dout; dbias (OC) += Σ_n dout (nil: none).
	MatmulBackward(dinp, dw, dbias, dout, inp, w []float32, N, C, OC int)
	// AttentionForward: qkv (B,T,3C) → out (B,T,C); att (B,NH,T,T) keeps the causal softmax probabilities (zero above the diagonal).
	AttentionForward(out, att, qkv []float32, B, T, C, NH int, drop Dropout)
	// AttentionBackward: dqkv (B,T,3C) from dout (B,T,C), qkv, att; drop as in the forward.
	AttentionBackward(dqkv, dout, qkv, att []float32, B, T, C, NH int, drop Dropout)
	// RMSNormForward: out (N,C) = inp·rstd·w, rstd (N) = 1/√(mean inp² + NormEps).
	RMSNormForward(out, rstd, inp, w []float32, N, C int)
	// ResidualRMSNormForward: res (N,C) = a + drop(x); out (N,C) = RMSNorm(res) (fused).
	ResidualRMSNormForward(res, out, rstd, a, x, w []float32, N, C int, drop Dropout)
	// RMSNormBackward: dinp (N,C) += ∂/∂inp (accumulates: residual stream); dw (C) +=.
	RMSNormBackward(dinp, dw, dout, inp, w, rstd []float32, N, C int)
	// QKRotaryForward, in place on the query and key thirds of qkv (B,T,3C): with norm,
	// each head's vector x becomes x·r, r = 1/√(mean x² + NormEps), kept in rstd (B,T,2,NH:
	// queries then keys; nil without norm); with rotary, pair (i, i+hs/2) of a head at
	// position T0+t turns by (T0+t)·RopeTheta^(−2i/hs) (Llama's rotate_half). Values untouched.
	QKRotaryForward(qkv, rstd []float32, B, T, T0, C, NH int, norm, rotary bool)
	// QKRotaryBackward: dqkv (B,T,3C) holds the gradient of QKRotaryForward's output
	// (positions from 0) and becomes that of its input, in place on the query and key
	// thirds; qkv is the forward's output, rstd its saved factors.
	QKRotaryBackward(dqkv, qkv, rstd []float32, B, T, C, NH int, norm, rotary bool)
	// Relu2Forward: out (N) = max(inp, 0)².
	Relu2Forward(out, inp []float32)
	// Relu2Backward: dinp (N) = 2·max(inp, 0)·dout; dinp may alias dout.
	Relu2Backward(dinp, inp, dout []float32)
	// GeluForward: out (N) = 0.5·x·(1+tanh(√(2/π)(x+0.044715x³))), x = inp (N).
	GeluForward(out, inp []float32)
	// GeluBackward: dinp (N) = gelu'(inp)·dout; dinp may alias dout.
	GeluBackward(dinp, inp, dout []float32)
	// DropoutApply: out (N) = inp masked and scaled by drop; the same call is its own backward.
	DropoutApply(out, inp []float32, drop Dropout)
	// ClassifierForward: logits (N,V) = inp (N,C) @ wteᵀ (wte (V,C): the tied embedding or lm_head),
	// soft-capped to softcap·tanh(logits/softcap) when softcap > 0; with targets (N, -1 = ignore):
	// losses (N) = cross-entropy and logits is overwritten by the gradient of the uncapped
	// logits, dlogits = (softmax - onehot)·dscale (times 1 − tanh² with a cap) (fused).
	ClassifierForward(logits, losses, inp, wte []float32, targets []int32, N, C, V int, dscale, softcap float32)
	// ClassifierBackward: dinp (N,C) = dlogits (N,V) @ wte; dwte (V,C) += dlogitsᵀ @ inp.
	ClassifierBackward(dinp, dwte, dlogits, inp, wte []float32, N, C, V int)
	// AdamW: one decoupled-weight-decay Adam step (PyTorch's formula) over params/grads/m/v (P);
	// weight decay applies to the tensors with Decay set; step counts from 1.
	AdamW(params, grads, m, v []float32, tensors []Tensor, lr, beta1, beta2, eps, weightDecay float32, step int)
	// Muon: one Muon step (torch.optim.Muon's formula) on each of tensors, 2-D (rows, cols)
	// views of params, grads and buf (the momentum buffer, zero before the first step):
	// buf = momentum·buf + (1−momentum)·g; u = g + momentum·(buf − g) (Nesterov) or buf;
	// X = nsSteps quintic Newton–Schulz iterations (MuonA, MuonB, MuonC) on u/‖u‖_F; params = params·(1 − lr·
	// weightDecay) − lr·√max(1, cols/rows)·X (cols/rows is out/in: PyTorch's "original" lr adjustment).
	Muon(params, grads, buf []float32, tensors []Tensor, lr, momentum, weightDecay float32, nesterov bool, nsSteps int)
	// SumSquares: Σ x² (accumulated in float64).
	SumSquares(x []float32) float64
	// Scale: x *= s.
	Scale(x []float32, s float32)
}

// Arena names one of the buffers a model's op sequence reads and writes.
type Arena uint8

// The arenas of a model. Params and Grads are laid out by Model.Tensors, Acts by
// the activation size table (Net.Layout), Tokens and Targets hold the batch.
const (
	ArenaNone    Arena = iota // the zero Buf: no buffer (an absent bias, no targets)
	ArenaParams               // parameters, float32
	ArenaGrads                // parameter gradients, float32, same layout
	ArenaActs                 // activations and backward scratch, float32
	ArenaTokens               // the batch's token ids, int32 (N)
	ArenaTargets              // the batch's targets, int32 (N; -1 = ignore)
	numArenas
)

// Buf is Len elements at offset Off of an arena: a buffer handle that does not say
// where the arena lives. gpt.Model resolves it to a slice of host memory,
// lmlib/gpt/cuda to a device pointer. Elements are 4 bytes (float32 or int32).
type Buf struct {
	Arena    Arena
	Off, Len int
}

// Ops is the kernel set the op sequence (Net) issues: Backend's methods of the same
// names, with the same shapes, accumulation and aliasing rules, over Bufs instead of
// slices (a zero Buf where Backend takes nil). Zero sets x to zeros. Methods return
// nothing: an implementation that can fail (a GPU launch) keeps the first error and
// its caller checks it after the sequence.
type Ops interface {
	EncoderForward(out, tokens, wte, wpe Buf, B, T, C int, drop Dropout)
	EncoderBackward(dwte, dwpe, dout, tokens Buf, B, T, C int)
	LayernormForward(out, mean, rstd, inp, w, b Buf, N, C int)
	ResidualLayernormForward(res, out, mean, rstd, a, x, w, b Buf, N, C int, drop Dropout)
	LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd Buf, N, C int)
	MatmulForward(out, inp, w, bias Buf, N, C, OC int)
	MatmulBackward(dinp, dw, dbias, dout, inp, w Buf, N, C, OC int)
	AttentionForward(out, att, qkv Buf, B, T, C, NH int, drop Dropout)
	AttentionBackward(dqkv, dout, qkv, att Buf, B, T, C, NH int, drop Dropout)
	RMSNormForward(out, rstd, inp, w Buf, N, C int)
	ResidualRMSNormForward(res, out, rstd, a, x, w Buf, N, C int, drop Dropout)
	RMSNormBackward(dinp, dw, dout, inp, w, rstd Buf, N, C int)
	QKRotaryForward(qkv, rstd Buf, B, T, C, NH int, norm, rotary bool) // positions from 0
	QKRotaryBackward(dqkv, qkv, rstd Buf, B, T, C, NH int, norm, rotary bool)
	Relu2Forward(out, inp Buf)
	Relu2Backward(dinp, inp, dout Buf)
	GeluForward(out, inp Buf)
	GeluBackward(dinp, inp, dout Buf)
	DropoutApply(out, inp Buf, drop Dropout)
	ClassifierForward(logits, losses, inp, wte, targets Buf, N, C, V int, dscale, softcap float32)
	ClassifierBackward(dinp, dwte, dlogits, inp, wte Buf, N, C, V int)
	Zero(x Buf)
}

// hostOps implements Ops on the host: it resolves every Buf to a slice of the
// model's buffers and calls the Backend. Resolving is a bounds-checked reslice, so
// the indirection costs nanoseconds per op and allocates nothing.
type hostOps struct {
	be              Backend
	f32             [numArenas][]float32 // Params, Grads, Acts
	tokens, targets []int32
}

var _ Ops = (*hostOps)(nil)

// f returns b as a float32 slice (nil for the zero Buf).
func (h *hostOps) f(b Buf) []float32 {
	if b.Arena == ArenaNone {
		return nil
	}
	return h.f32[b.Arena][b.Off : b.Off+b.Len : b.Off+b.Len]
}

// i returns b as an int32 slice (nil for the zero Buf).
func (h *hostOps) i(b Buf) []int32 {
	var s []int32
	switch b.Arena {
	case ArenaNone:
		return nil
	case ArenaTokens:
		s = h.tokens
	case ArenaTargets:
		s = h.targets
	default:
		panic(fmt.Sprintf("gpt: arena %d holds no int32s", b.Arena))
	}
	return s[b.Off : b.Off+b.Len : b.Off+b.Len]
}

func (h *hostOps) EncoderForward(out, tokens, wte, wpe Buf, B, T, C int, drop Dropout) {
	h.be.EncoderForward(h.f(out), h.i(tokens), h.f(wte), h.f(wpe), B, T, C, drop)
}

func (h *hostOps) EncoderBackward(dwte, dwpe, dout, tokens Buf, B, T, C int) {
	h.be.EncoderBackward(h.f(dwte), h.f(dwpe), h.f(dout), h.i(tokens), B, T, C)
}

func (h *hostOps) LayernormForward(out, mean, rstd, inp, w, b Buf, N, C int) {
	h.be.LayernormForward(h.f(out), h.f(mean), h.f(rstd), h.f(inp), h.f(w), h.f(b), N, C)
}

func (h *hostOps) ResidualLayernormForward(res, out, mean, rstd, a, x, w, b Buf, N, C int, drop Dropout) {
	h.be.ResidualLayernormForward(h.f(res), h.f(out), h.f(mean), h.f(rstd), h.f(a), h.f(x), h.f(w), h.f(b), N, C, drop)
}

func (h *hostOps) LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd Buf, N, C int) {
	h.be.LayernormBackward(h.f(dinp), h.f(dw), h.f(db), h.f(dout), h.f(inp), h.f(w), h.f(mean), h.f(rstd), N, C)
}

func (h *hostOps) MatmulForward(out, inp, w, bias Buf, N, C, OC int) {
	h.be.MatmulForward(h.f(out), h.f(inp), h.f(w), h.f(bias), N, C, OC)
}

func (h *hostOps) MatmulBackward(dinp, dw, dbias, dout, inp, w Buf, N, C, OC int) {
	h.be.MatmulBackward(h.f(dinp), h.f(dw), h.f(dbias), h.f(dout), h.f(inp), h.f(w), N, C, OC)
}

func (h *hostOps) AttentionForward(out, att, qkv Buf, B, T, C, NH int, drop Dropout) {
	h.be.AttentionForward(h.f(out), h.f(att), h.f(qkv), B, T, C, NH, drop)
}

func (h *hostOps) AttentionBackward(dqkv, dout, qkv, att Buf, B, T, C, NH int, drop Dropout) {
	h.be.AttentionBackward(h.f(dqkv), h.f(dout), h.f(qkv), h.f(att), B, T, C, NH, drop)
}

func (h *hostOps) RMSNormForward(out, rstd, inp, w Buf, N, C int) {
	h.be.RMSNormForward(h.f(out), h.f(rstd), h.f(inp), h.f(w), N, C)
}

func (h *hostOps) ResidualRMSNormForward(res, out, rstd, a, x, w Buf, N, C int, drop Dropout) {
	h.be.ResidualRMSNormForward(h.f(res), h.f(out), h.f(rstd), h.f(a), h.f(x), h.f(w), N, C, drop)
}

func (h *hostOps) RMSNormBackward(dinp, dw, dout, inp, w, rstd Buf, N, C int) {
	h.be.RMSNormBackward(h.f(dinp), h.f(dw), h.f(dout), h.f(inp), h.f(w), h.f(rstd), N, C)
}

func (h *hostOps) QKRotaryForward(qkv, rstd Buf, B, T, C, NH int, norm, rotary bool) {
	h.be.QKRotaryForward(h.f(qkv), h.f(rstd), B, T, 0, C, NH, norm, rotary)
}

func (h *hostOps) QKRotaryBackward(dqkv, qkv, rstd Buf, B, T, C, NH int, norm, rotary bool) {
	h.be.QKRotaryBackward(h.f(dqkv), h.f(qkv), h.f(rstd), B, T, C, NH, norm, rotary)
}

func (h *hostOps) Relu2Forward(out, inp Buf) { h.be.Relu2Forward(h.f(out), h.f(inp)) }
func (h *hostOps) Relu2Backward(dinp, inp, dout Buf) {
	h.be.Relu2Backward(h.f(dinp), h.f(inp), h.f(dout))
}

func (h *hostOps) GeluForward(out, inp Buf) { h.be.GeluForward(h.f(out), h.f(inp)) }
func (h *hostOps) GeluBackward(dinp, inp, dout Buf) {
	h.be.GeluBackward(h.f(dinp), h.f(inp), h.f(dout))
}
func (h *hostOps) DropoutApply(out, inp Buf, drop Dropout) {
	h.be.DropoutApply(h.f(out), h.f(inp), drop)
}

func (h *hostOps) ClassifierForward(logits, losses, inp, wte, targets Buf, N, C, V int, dscale, softcap float32) {
	h.be.ClassifierForward(h.f(logits), h.f(losses), h.f(inp), h.f(wte), h.i(targets), N, C, V, dscale, softcap)
}

func (h *hostOps) ClassifierBackward(dinp, dwte, dlogits, inp, wte Buf, N, C, V int) {
	h.be.ClassifierBackward(h.f(dinp), h.f(dwte), h.f(dlogits), h.f(inp), h.f(wte), N, C, V)
}

func (h *hostOps) Zero(x Buf) { clear(h.f(x)) }
