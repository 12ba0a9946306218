//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"math"

	"gorgonia.org/cu"

	"github.com/golem-lm/golem/lmlib/gpt"
)

// devOps implements gpt.Ops on the GPU: each gpt.Buf becomes a device pointer into
// one of the model's allocations (parameters, gradients, the activation arena, the
// batch's ids) and each op one or a few kernel launches and cuBLAS calls. The first
// error is kept and every later op is skipped; Forward and Backward return it.
type devOps struct {
	m   *Model
	err error
}

var _ gpt.Ops = (*devOps)(nil)

var errNoDropout = errors.New("dropout is not implemented on the GPU")

// ptr returns the device address of b (0 for the zero Buf). Elements are 4 bytes
// in every arena (float32 or int32).
func (o *devOps) ptr(b gpt.Buf) cu.DevicePtr {
	var base buffer
	switch b.Arena {
	case gpt.ArenaNone:
		return 0
	case gpt.ArenaParams:
		base = o.m.params
	case gpt.ArenaGrads:
		base = o.m.grads
	case gpt.ArenaActs:
		base = o.m.acts
	case gpt.ArenaTokens:
		base = o.m.tokens
	case gpt.ArenaTargets:
		base = o.m.targets
	default:
		panic(fmt.Sprintf("cuda: unknown arena %d", b.Arena))
	}
	if b.Off < 0 || b.Off+b.Len > base.n {
		panic(fmt.Sprintf("cuda: buffer %+v outside its arena of %d elements", b, base.n))
	}
	return base.at(b.Off)
}

// ok reports whether the ops may go on; do records err if it is the first.
func (o *devOps) ok() bool { return o.err == nil }

// okNoDropout is ok for an op with a dropout site: active dropout is an error (New
// refuses a Config with Dropout > 0, so it cannot happen through Model).
func (o *devOps) okNoDropout(drop gpt.Dropout) bool {
	if drop.Active() {
		o.do(errNoDropout)
	}
	return o.ok()
}

func (o *devOps) do(err error) {
	if o.err == nil {
		o.err = err
	}
}

// EncoderForward implements gpt.Ops.
func (o *devOps) EncoderForward(out, tokens, wte, wpe gpt.Buf, B, T, C int, drop gpt.Dropout) {
	if !o.okNoDropout(drop) {
		return
	}
	o.do(o.m.dev.launch("encoder_forward", ceilDiv(B*T*C, 256), 256, 0, pArg(o.ptr(out)), pArg(o.ptr(tokens)), pArg(o.ptr(wte)), pArg(o.ptr(wpe)), iArg(B), iArg(T), iArg(C)))
}

// EncoderBackward implements gpt.Ops: dwte by atomics, dwpe by a column sum.
func (o *devOps) EncoderBackward(dwte, dwpe, dout, tokens gpt.Buf, B, T, C int) {
	if !o.ok() {
		return
	}
	d := o.m.dev
	o.do(d.launch("encoder_backward_wte", ceilDiv(B*T*C, 256), 256, 0, pArg(o.ptr(dwte)), pArg(o.ptr(dout)), pArg(o.ptr(tokens)), iArg(B*T), iArg(C)))
	if o.ok() && dwpe.Arena != gpt.ArenaNone { // none with rotary embeddings
		o.do(d.launch("encoder_backward_wpe", ceilDiv(T*C, 256), 256, 0, pArg(o.ptr(dwpe)), pArg(o.ptr(dout)), iArg(B), iArg(T), iArg(C)))
	}
}

// layernorm: with a != 0, res = a + x and out = LayerNorm(res); otherwise out = LayerNorm(x).
func (o *devOps) layernorm(res, out, mean, rstd, a, x, w, b cu.DevicePtr, N, C int) {
	o.do(o.m.dev.launch("layernorm_forward", ceilDiv(N, 8), 256, 0, pArg(res), pArg(out), pArg(mean), pArg(rstd), pArg(a), pArg(x), pArg(w), pArg(b), iArg(N), iArg(C)))
}

// LayernormForward implements gpt.Ops.
func (o *devOps) LayernormForward(out, mean, rstd, inp, w, b gpt.Buf, N, C int) {
	if !o.ok() {
		return
	}
	o.layernorm(0, o.ptr(out), o.ptr(mean), o.ptr(rstd), 0, o.ptr(inp), o.ptr(w), o.ptr(b), N, C)
}

// ResidualLayernormForward implements gpt.Ops (one fused kernel).
func (o *devOps) ResidualLayernormForward(res, out, mean, rstd, a, x, w, b gpt.Buf, N, C int, drop gpt.Dropout) {
	if !o.okNoDropout(drop) {
		return
	}
	o.layernorm(o.ptr(res), o.ptr(out), o.ptr(mean), o.ptr(rstd), o.ptr(a), o.ptr(x), o.ptr(w), o.ptr(b), N, C)
}

// LayernormBackward implements gpt.Ops.
func (o *devOps) LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd gpt.Buf, N, C int) {
	if !o.ok() {
		return
	}
	d := o.m.dev
	grid := min(ceilDiv(N, 8), 2*max(d.SMs, 1))
	o.do(d.launch("layernorm_backward", grid, 256, 2*C*4, pArg(o.ptr(dinp)), pArg(o.ptr(dw)), pArg(o.ptr(db)), pArg(o.ptr(dout)), pArg(o.ptr(inp)), pArg(o.ptr(w)), pArg(o.ptr(mean)), pArg(o.ptr(rstd)), iArg(N), iArg(C)))
}

// MatmulForward implements gpt.Ops: out (N,OC) = inp (N,C) @ w (C,OC) + bias.
func (o *devOps) MatmulForward(out, inp, w, bias gpt.Buf, N, C, OC int) {
	if !o.ok() {
		return
	}
	d := o.m.dev
	o.do(d.gemm(false, false, N, OC, C, 1, o.ptr(inp), C, o.ptr(w), OC, 0, o.ptr(out), OC))
	if o.ok() && bias.Arena != gpt.ArenaNone {
		o.do(d.launch("add_bias", ceilDiv(N*OC, 256), 256, 0, pArg(o.ptr(out)), pArg(o.ptr(bias)), iArg(N), iArg(OC)))
	}
}

// MatmulBackward implements gpt.Ops: dinp = dout @ wᵀ; dw += inpᵀ @ dout; dbias += Σ dout.
func (o *devOps) MatmulBackward(dinp, dw, dbias, dout, inp, w gpt.Buf, N, C, OC int) {
	if !o.ok() {
		return
	}
	d := o.m.dev
	o.do(d.gemm(false, true, N, C, OC, 1, o.ptr(dout), OC, o.ptr(w), OC, 0, o.ptr(dinp), C))
	if o.ok() {
		o.do(d.gemm(true, false, C, OC, N, 1, o.ptr(inp), C, o.ptr(dout), OC, 1, o.ptr(dw), OC))
	}
	if o.ok() && dbias.Arena != gpt.ArenaNone {
		o.do(d.launch2("bias_backward", ceilDiv(OC, 256), min(ceilDiv(N, 64), 512), 256, pArg(o.ptr(dbias)), pArg(o.ptr(dout)), iArg(N), iArg(OC)))
	}
}

// AttentionForward implements gpt.Ops in llm.c's materialised form: permute qkv,
// Q·Kᵀ/√hs by strided-batched GEMM, causal softmax (att keeps the probabilities),
// ·V, unpermute.
func (o *devOps) AttentionForward(out, att, qkv gpt.Buf, B, T, C, NH int, drop gpt.Dropout) {
	if !o.okNoDropout(drop) {
		return
	}
	o.do(o.attention(o.ptr(out), o.ptr(att), o.ptr(qkv), B, T, NH, C/NH))
}

func (o *devOps) attention(out, att, qkv cu.DevicePtr, B, T, NH, hs int) error {
	m, d := o.m, o.m.dev
	n := B * NH * T * hs
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

// AttentionBackward implements gpt.Ops: four batched GEMMs and the softmax backward.
func (o *devOps) AttentionBackward(dqkv, dout, qkv, att gpt.Buf, B, T, C, NH int, drop gpt.Dropout) {
	if !o.okNoDropout(drop) {
		return
	}
	o.do(o.attentionBackward(o.ptr(dqkv), o.ptr(dout), o.ptr(qkv), o.ptr(att), B, T, NH, C/NH))
}

func (o *devOps) attentionBackward(dqkv, dout, qkv, att cu.DevicePtr, B, T, NH, hs int) error {
	m, d := o.m, o.m.dev
	n := B * NH * T * hs
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

// RMSNormForward implements gpt.Ops.
func (o *devOps) RMSNormForward(out, rstd, inp, w gpt.Buf, N, C int) {
	if !o.ok() {
		return
	}
	o.rmsnorm(0, o.ptr(out), o.ptr(rstd), 0, o.ptr(inp), o.ptr(w), N, C)
}

// ResidualRMSNormForward implements gpt.Ops (one fused kernel).
func (o *devOps) ResidualRMSNormForward(res, out, rstd, a, x, w gpt.Buf, N, C int, drop gpt.Dropout) {
	if !o.okNoDropout(drop) {
		return
	}
	o.rmsnorm(o.ptr(res), o.ptr(out), o.ptr(rstd), o.ptr(a), o.ptr(x), o.ptr(w), N, C)
}

// rmsnorm: with a != 0, res = a + x and out = RMSNorm(res); otherwise out = RMSNorm(x).
func (o *devOps) rmsnorm(res, out, rstd, a, x, w cu.DevicePtr, N, C int) {
	o.do(o.m.dev.launch("rmsnorm_forward", ceilDiv(N, 8), 256, 0, pArg(res), pArg(out), pArg(rstd), pArg(a), pArg(x), pArg(w), iArg(N), iArg(C), fArg(gpt.NormEps)))
}

// RMSNormBackward implements gpt.Ops.
func (o *devOps) RMSNormBackward(dinp, dw, dout, inp, w, rstd gpt.Buf, N, C int) {
	if !o.ok() {
		return
	}
	d := o.m.dev
	grid := min(ceilDiv(N, 8), 2*max(d.SMs, 1))
	o.do(d.launch("rmsnorm_backward", grid, 256, C*4, pArg(o.ptr(dinp)), pArg(o.ptr(dw)), pArg(o.ptr(dout)), pArg(o.ptr(inp)), pArg(o.ptr(w)), pArg(o.ptr(rstd)), iArg(N), iArg(C)))
}

// QKRotaryForward implements gpt.Ops: one thread per (row, query or key, head).
func (o *devOps) QKRotaryForward(qkv, rstd gpt.Buf, B, T, C, NH int, norm, rotary bool) {
	if !o.ok() {
		return
	}
	n := B * T * 2 * NH
	o.do(o.m.dev.launch("qk_rotary_forward", ceilDiv(n, 128), 128, 0, pArg(o.ptr(qkv)), pArg(o.ptr(rstd)), pArg(o.m.ropeCos.ptr), pArg(o.m.ropeSin.ptr),
		iArg(B*T), iArg(T), iArg(C), iArg(NH), iArg(b01(norm)), iArg(b01(rotary)), fArg(gpt.NormEps)))
}

// QKRotaryBackward implements gpt.Ops.
func (o *devOps) QKRotaryBackward(dqkv, qkv, rstd gpt.Buf, B, T, C, NH int, norm, rotary bool) {
	if !o.ok() {
		return
	}
	n := B * T * 2 * NH
	o.do(o.m.dev.launch("qk_rotary_backward", ceilDiv(n, 128), 128, 0, pArg(o.ptr(dqkv)), pArg(o.ptr(qkv)), pArg(o.ptr(rstd)), pArg(o.m.ropeCos.ptr), pArg(o.m.ropeSin.ptr),
		iArg(B*T), iArg(T), iArg(C), iArg(NH), iArg(b01(norm)), iArg(b01(rotary))))
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Relu2Forward implements gpt.Ops.
func (o *devOps) Relu2Forward(out, inp gpt.Buf) {
	if !o.ok() {
		return
	}
	o.do(o.m.dev.launch("relu2_forward", ceilDiv(out.Len, 256), 256, 0, pArg(o.ptr(out)), pArg(o.ptr(inp)), iArg(out.Len)))
}

// Relu2Backward implements gpt.Ops (dinp may alias dout).
func (o *devOps) Relu2Backward(dinp, inp, dout gpt.Buf) {
	if !o.ok() {
		return
	}
	o.do(o.m.dev.launch("relu2_backward", ceilDiv(dinp.Len, 256), 256, 0, pArg(o.ptr(dinp)), pArg(o.ptr(inp)), pArg(o.ptr(dout)), iArg(dinp.Len)))
}

// GeluForward implements gpt.Ops.
func (o *devOps) GeluForward(out, inp gpt.Buf) {
	if !o.ok() {
		return
	}
	o.do(o.m.dev.launch("gelu_forward", ceilDiv(out.Len, 256), 256, 0, pArg(o.ptr(out)), pArg(o.ptr(inp)), iArg(out.Len)))
}

// GeluBackward implements gpt.Ops (dinp may alias dout).
func (o *devOps) GeluBackward(dinp, inp, dout gpt.Buf) {
	if !o.ok() {
		return
	}
	o.do(o.m.dev.launch("gelu_backward", ceilDiv(dinp.Len, 256), 256, 0, pArg(o.ptr(dinp)), pArg(o.ptr(inp)), pArg(o.ptr(dout)), iArg(dinp.Len)))
}

// DropoutApply implements gpt.Ops: not on the GPU (New refuses Dropout > 0).
func (o *devOps) DropoutApply(out, inp gpt.Buf, drop gpt.Dropout) { o.do(errNoDropout) }

// ClassifierForward implements gpt.Ops: logits = inp @ wteᵀ; with targets the fused
// softmax/cross-entropy turns them into dlogits·dscale and writes the per-row losses.
func (o *devOps) ClassifierForward(logits, losses, inp, wte, targets gpt.Buf, N, C, V int, dscale, softcap float32) {
	if !o.ok() {
		return
	}
	d := o.m.dev
	o.do(d.gemm(false, true, N, V, C, 1, o.ptr(inp), C, o.ptr(wte), C, 0, o.ptr(logits), V))
	switch {
	case !o.ok():
	case targets.Arena != gpt.ArenaNone:
		o.do(d.launch("crossentropy_softmax", N, min(1024, ceilDiv(V, 32)*32), 0, pArg(o.ptr(logits)), pArg(o.ptr(losses)), pArg(o.ptr(targets)), iArg(V), fArg(dscale), fArg(softcap)))
	case softcap > 0:
		o.do(d.launch("softcap_forward", ceilDiv(N*V, 256), 256, 0, pArg(o.ptr(logits)), iArg(N*V), fArg(softcap)))
	}
}

// ClassifierBackward implements gpt.Ops: dinp = dlogits @ wte; dwte += dlogitsᵀ @ inp.
func (o *devOps) ClassifierBackward(dinp, dwte, dlogits, inp, wte gpt.Buf, N, C, V int) {
	if !o.ok() {
		return
	}
	d := o.m.dev
	o.do(d.gemm(false, false, N, C, V, 1, o.ptr(dlogits), V, o.ptr(wte), C, 0, o.ptr(dinp), C))
	if o.ok() {
		o.do(d.gemm(true, false, V, C, N, 1, o.ptr(dlogits), V, o.ptr(inp), C, 1, o.ptr(dwte), C))
	}
}

// Zero implements gpt.Ops.
func (o *devOps) Zero(x gpt.Buf) {
	if !o.ok() || x.Len == 0 {
		return
	}
	o.do(cu.MemsetD32(o.ptr(x), 0, int64(x.Len)))
}
