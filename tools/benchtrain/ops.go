package main

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/golem-lm/golem/lmlib/gpt"
)

// timed is the CPU backend with each op's wall time added up under a name (the
// matrix products under their shape), for -ops.
type timed struct {
	*gpt.CPU
	t map[string]time.Duration
}

func (b *timed) at(name string, t0 time.Time) { b.t[name] += time.Since(t0) }

func (b *timed) LayernormForward(out, mean, rstd, inp, w, bb []float32, N, C int) {
	defer b.at("lnF", time.Now())
	b.CPU.LayernormForward(out, mean, rstd, inp, w, bb, N, C)
}
func (b *timed) ResidualLayernormForward(res, out, mean, rstd, a, x, w, bb []float32, N, C int, drop gpt.Dropout) {
	defer b.at("lnF", time.Now())
	b.CPU.ResidualLayernormForward(res, out, mean, rstd, a, x, w, bb, N, C, drop)
}
func (b *timed) LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	defer b.at("lnB", time.Now())
	b.CPU.LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C)
}
func (b *timed) MatmulForward(out, inp, w, bias []float32, N, C, OC int) {
	defer b.at(fmt.Sprintf("mmF %dx%d", C, OC), time.Now())
	b.CPU.MatmulForward(out, inp, w, bias, N, C, OC)
}
func (b *timed) MatmulBackward(dinp, dw, dbias, dout, inp, w []float32, N, C, OC int) {
	defer b.at(fmt.Sprintf("mmB %dx%d", C, OC), time.Now())
	b.CPU.MatmulBackward(dinp, dw, dbias, dout, inp, w, N, C, OC)
}
func (b *timed) AttentionForward(out, att, qkv []float32, B, T, C, NH int, drop gpt.Dropout) {
	defer b.at("attF", time.Now())
	b.CPU.AttentionForward(out, att, qkv, B, T, C, NH, drop)
}
func (b *timed) AttentionBackward(dqkv, dout, qkv, att []float32, B, T, C, NH int, drop gpt.Dropout) {
	defer b.at("attB", time.Now())
	b.CPU.AttentionBackward(dqkv, dout, qkv, att, B, T, C, NH, drop)
}
func (b *timed) GeluForward(out, inp []float32) {
	defer b.at("geluF", time.Now())
	b.CPU.GeluForward(out, inp)
}
func (b *timed) GeluBackward(dinp, inp, dout []float32) {
	defer b.at("geluB", time.Now())
	b.CPU.GeluBackward(dinp, inp, dout)
}
func (b *timed) ClassifierForward(logits, losses, inp, wte []float32, targets []int32, N, C, V int, dscale, softcap float32) {
	defer b.at("clsF", time.Now())
	b.CPU.ClassifierForward(logits, losses, inp, wte, targets, N, C, V, dscale, softcap)
}
func (b *timed) RMSNormForward(out, rstd, inp, w []float32, N, C int) {
	defer b.at("rmsF", time.Now())
	b.CPU.RMSNormForward(out, rstd, inp, w, N, C)
}
func (b *timed) ResidualRMSNormForward(res, out, rstd, a, x, w []float32, N, C int, drop gpt.Dropout) {
	defer b.at("rmsF", time.Now())
	b.CPU.ResidualRMSNormForward(res, out, rstd, a, x, w, N, C, drop)
}
func (b *timed) RMSNormBackward(dinp, dw, dout, inp, w, rstd []float32, N, C int) {
	defer b.at("rmsB", time.Now())
	b.CPU.RMSNormBackward(dinp, dw, dout, inp, w, rstd, N, C)
}
func (b *timed) QKRotaryForward(qkv, rstd []float32, B, T, T0, C, NH int, norm, rotary bool) {
	defer b.at("qkF", time.Now())
	b.CPU.QKRotaryForward(qkv, rstd, B, T, T0, C, NH, norm, rotary)
}
func (b *timed) QKRotaryBackward(dqkv, qkv, rstd []float32, B, T, C, NH int, norm, rotary bool) {
	defer b.at("qkB", time.Now())
	b.CPU.QKRotaryBackward(dqkv, qkv, rstd, B, T, C, NH, norm, rotary)
}
func (b *timed) Relu2Forward(out, inp []float32) {
	defer b.at("relu2F", time.Now())
	b.CPU.Relu2Forward(out, inp)
}
func (b *timed) Relu2Backward(dinp, inp, dout []float32) {
	defer b.at("relu2B", time.Now())
	b.CPU.Relu2Backward(dinp, inp, dout)
}
func (b *timed) Muon(params, grads, buf []float32, tensors []gpt.Tensor, lr, momentum, wd float32, nesterov bool, nsSteps int) {
	defer b.at("muon", time.Now())
	b.CPU.Muon(params, grads, buf, tensors, lr, momentum, wd, nesterov, nsSteps)
}
func (b *timed) ClassifierBackward(dinp, dwte, dlogits, inp, wte []float32, N, C, V int) {
	defer b.at("clsB", time.Now())
	b.CPU.ClassifierBackward(dinp, dwte, dlogits, inp, wte, N, C, V)
}
func (b *timed) AdamW(params, grads, m, v []float32, tensors []gpt.Tensor, lr, beta1, beta2, eps, wd float32, step int) {
	defer b.at("adamw", time.Now())
	b.CPU.AdamW(params, grads, m, v, tensors, lr, beta1, beta2, eps, wd, step)
}
func (b *timed) SumSquares(x []float32) float64 {
	defer b.at("sumsq", time.Now())
	return b.CPU.SumSquares(x)
}
func (b *timed) EncoderForward(out []float32, tokens []int32, wte, wpe []float32, B, T, C int, drop gpt.Dropout) {
	defer b.at("encF", time.Now())
	b.CPU.EncoderForward(out, tokens, wte, wpe, B, T, C, drop)
}
func (b *timed) EncoderBackward(dwte, dwpe, dout []float32, tokens []int32, B, T, C int) {
	defer b.at("encB", time.Now())
	b.CPU.EncoderBackward(dwte, dwpe, dout, tokens, B, T, C)
}

// report writes each op's milliseconds per step and share of the timed steps.
func (b *timed) report(w io.Writer, steps int, total time.Duration) {
	var names []string
	var sum time.Duration
	for k, v := range b.t {
		names = append(names, k)
		sum += v
	}
	sort.Slice(names, func(i, j int) bool { return b.t[names[i]] > b.t[names[j]] })
	per := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(steps) }
	fmt.Fprintf(w, "ops over %d steps: %.2f ms per step, %.2f ms in backend ops\n", steps, per(total), per(sum))
	for _, k := range names {
		fmt.Fprintf(w, "  %-14s %7.3f ms  %5.1f%%\n", k, per(b.t[k]), 100*b.t[k].Seconds()/total.Seconds())
	}
}

// reset forgets the warm-up steps.
func (b *timed) reset() { clear(b.t) }
