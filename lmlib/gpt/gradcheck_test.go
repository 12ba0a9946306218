package gpt

import (
	"fmt"
	"math"
	"strconv"
	"testing"
)

func randn(r *RNG, n int, std float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * std)
	}
	return x
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// gradCase is one op under a finite-difference check: loss() runs the forward and
// returns a scalar (Σ dout·out in float64); grads() runs the backward for that
// scalar and returns the analytic gradient of every input in inputs.
type gradCase struct {
	name   string
	inputs map[string][]float32
	loss   func() float64
	grads  func() map[string][]float32
	h      float32 // finite-difference step (0: 1e-2)
}

// checkGrads compares analytic gradients with central differences (float32 inputs,
// float64 loss) at up to 40 positions of each input. Error: |a-n| / max(|a|, |n|,
// 1e-2·max|a over the input|) ≤ 2e-2 — what float32 central differences allow.
func checkGrads(t *testing.T, c gradCase) {
	t.Helper()
	h := c.h
	if h == 0 {
		h = 1e-2
	}
	analytic := c.grads()
	for name, x := range c.inputs {
		g := analytic[name]
		if len(g) != len(x) {
			t.Fatalf("%s: gradient of %s has %d entries, want %d", c.name, name, len(g), len(x))
		}
		var gmax float64
		for _, v := range g {
			gmax = math.Max(gmax, math.Abs(float64(v)))
		}
		if gmax == 0 {
			t.Errorf("%s: gradient of %s is all zero", c.name, name)
			continue
		}
		step := len(x)/40 + 1
		worst := 0.0
		for i := 0; i < len(x); i += step {
			old := x[i]
			x[i] = old + h
			fp := c.loss()
			x[i] = old - h
			fm := c.loss()
			x[i] = old
			num := (fp - fm) / (2 * float64(h))
			a := float64(g[i])
			den := math.Max(math.Max(math.Abs(a), math.Abs(num)), 1e-2*gmax)
			if e := math.Abs(a-num) / den; e > worst {
				worst = e
			}
			if e := math.Abs(a-num) / den; e > 2e-2 {
				t.Errorf("%s: d/d%s[%d]: analytic %.6g, numeric %.6g (error %.3g)", c.name, name, i, a, num, e)
			}
		}
		t.Logf("%s: %s worst error %.3g", c.name, name, worst)
	}
}

func TestGradientsFiniteDifference(t *testing.T) {
	be := NewCPU(2)
	r := NewRNG(7)
	const B, T, C, NH, V = 2, 5, 8, 2, 11
	N := B * T
	var cases []gradCase

	{ // encoder
		wte, wpe := randn(r, V*C, 1), randn(r, T*C, 1)
		tokens := make([]int32, N)
		for i := range tokens {
			tokens[i] = int32(r.Uint64() % V)
		}
		out, dout := make([]float32, N*C), randn(r, N*C, 1)
		cases = append(cases, gradCase{"encoder", map[string][]float32{"wte": wte, "wpe": wpe},
			func() float64 { be.EncoderForward(out, tokens, wte, wpe, B, T, C, Dropout{}); return dot64(out, dout) },
			func() map[string][]float32 {
				dwte, dwpe := make([]float32, V*C), make([]float32, T*C)
				be.EncoderBackward(dwte, dwpe, dout, tokens, B, T, C)
				return map[string][]float32{"wte": dwte, "wpe": dwpe}
			}, 0})
	}
	for _, withBias := range []bool{true, false} { // layernorm
		inp, w := randn(r, N*C, 1), randn(r, C, 1)
		var b []float32
		in := map[string][]float32{"inp": inp, "w": w}
		if withBias {
			b = randn(r, C, 1)
			in["b"] = b
		}
		out, mean, rstd, dout := make([]float32, N*C), make([]float32, N), make([]float32, N), randn(r, N*C, 1)
		name := "layernorm"
		if !withBias {
			name += "-nobias"
		}
		cases = append(cases, gradCase{name, in,
			func() float64 { be.LayernormForward(out, mean, rstd, inp, w, b, N, C); return dot64(out, dout) },
			func() map[string][]float32 {
				be.LayernormForward(out, mean, rstd, inp, w, b, N, C)
				dinp, dw := make([]float32, N*C), make([]float32, C)
				var db []float32
				if withBias {
					db = make([]float32, C)
				}
				be.LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C)
				return map[string][]float32{"inp": dinp, "w": dw, "b": db}
			}, 0})
	}
	for _, drop := range []Dropout{{}, {P: 0.3, Seed: 99}} { // residual + layernorm
		a, x, w, b := randn(r, N*C, 1), randn(r, N*C, 1), randn(r, C, 1), randn(r, C, 1)
		res, out, mean, rstd := make([]float32, N*C), make([]float32, N*C), make([]float32, N), make([]float32, N)
		dout, dres := randn(r, N*C, 1), randn(r, N*C, 1) // the loss reads both outputs
		cases = append(cases, gradCase{"residual-layernorm p=" + ftoa(drop.P), map[string][]float32{"a": a, "x": x, "w": w},
			func() float64 {
				be.ResidualLayernormForward(res, out, mean, rstd, a, x, w, b, N, C, drop)
				return dot64(out, dout) + dot64(res, dres)
			},
			func() map[string][]float32 {
				be.ResidualLayernormForward(res, out, mean, rstd, a, x, w, b, N, C, drop)
				d := append([]float32(nil), dres...)
				dw, db := make([]float32, C), make([]float32, C)
				be.LayernormBackward(d, dw, db, dout, res, w, mean, rstd, N, C)
				dx := make([]float32, N*C)
				be.DropoutApply(dx, d, drop)
				return map[string][]float32{"a": d, "x": dx, "w": dw}
			}, 0})
	}
	{ // matmul
		const OC = 7
		inp, w, bias := randn(r, N*C, 1), randn(r, C*OC, 1), randn(r, OC, 1)
		out, dout := make([]float32, N*OC), randn(r, N*OC, 1)
		cases = append(cases, gradCase{"matmul", map[string][]float32{"inp": inp, "w": w, "bias": bias},
			func() float64 { be.MatmulForward(out, inp, w, bias, N, C, OC); return dot64(out, dout) },
			func() map[string][]float32 {
				dinp, dw, db := make([]float32, N*C), make([]float32, C*OC), make([]float32, OC)
				be.MatmulBackward(dinp, dw, db, dout, inp, w, N, C, OC)
				return map[string][]float32{"inp": dinp, "w": dw, "bias": db}
			}, 0})
	}
	for _, tt := range []struct {
		T    int
		drop Dropout
	}{{T, Dropout{}}, {T, Dropout{P: 0.25, Seed: 5}}, {70, Dropout{}}} { // attention; T=70 spans several row blocks
		n := B * tt.T
		qkv := randn(r, n*3*C, 1)
		out, att, dout := make([]float32, n*C), make([]float32, B*NH*tt.T*tt.T), randn(r, n*C, 1)
		cases = append(cases, gradCase{"attention T=" + itoa(tt.T) + " p=" + ftoa(tt.drop.P), map[string][]float32{"qkv": qkv},
			func() float64 { be.AttentionForward(out, att, qkv, B, tt.T, C, NH, tt.drop); return dot64(out, dout) },
			func() map[string][]float32 {
				be.AttentionForward(out, att, qkv, B, tt.T, C, NH, tt.drop)
				dqkv := make([]float32, n*3*C)
				be.AttentionBackward(dqkv, dout, qkv, att, B, tt.T, C, NH, tt.drop)
				return map[string][]float32{"qkv": dqkv}
			}, 0})
	}
	{ // gelu
		inp := randn(r, 300, 2)
		out, dout := make([]float32, 300), randn(r, 300, 1)
		cases = append(cases, gradCase{"gelu", map[string][]float32{"inp": inp},
			func() float64 { be.GeluForward(out, inp); return dot64(out, dout) },
			func() map[string][]float32 {
				d := make([]float32, 300)
				be.GeluBackward(d, inp, dout)
				return map[string][]float32{"inp": d}
			}, 0})
	}
	for _, softcap := range []float32{0, 2} { // classifier + soft-cap + softmax + cross-entropy (mean over non-ignored targets)
		inp, wte := randn(r, N*C, 1), randn(r, V*C, 1)
		targets := make([]int32, N)
		for i := range targets {
			targets[i] = int32(r.Uint64() % V)
		}
		targets[3] = -1
		scale := 1 / float32(N-1)
		logits, losses := make([]float32, N*V), make([]float32, N)
		cases = append(cases, gradCase{"classifier softcap=" + ftoa(softcap), map[string][]float32{"inp": inp, "wte": wte},
			func() float64 {
				be.ClassifierForward(logits, losses, inp, wte, targets, N, C, V, scale, softcap)
				var s float64
				for _, l := range losses {
					s += float64(l)
				}
				return s * float64(scale)
			},
			func() map[string][]float32 {
				be.ClassifierForward(logits, losses, inp, wte, targets, N, C, V, scale, softcap)
				dinp, dwte := make([]float32, N*C), make([]float32, V*C)
				be.ClassifierBackward(dinp, dwte, logits, inp, wte, N, C, V)
				return map[string][]float32{"inp": dinp, "wte": dwte}
			}, 0})
	}
	{ // RMSNorm
		inp, w := randn(r, N*C, 1), randn(r, C, 1)
		out, rstd, dout := make([]float32, N*C), make([]float32, N), randn(r, N*C, 1)
		cases = append(cases, gradCase{"rmsnorm", map[string][]float32{"inp": inp, "w": w},
			func() float64 { be.RMSNormForward(out, rstd, inp, w, N, C); return dot64(out, dout) },
			func() map[string][]float32 {
				be.RMSNormForward(out, rstd, inp, w, N, C)
				dinp, dw := make([]float32, N*C), make([]float32, C)
				be.RMSNormBackward(dinp, dw, dout, inp, w, rstd, N, C)
				return map[string][]float32{"inp": dinp, "w": dw}
			}, 0})
	}
	for _, drop := range []Dropout{{}, {P: 0.3, Seed: 98}} { // residual + RMSNorm
		a, x, w := randn(r, N*C, 1), randn(r, N*C, 1), randn(r, C, 1)
		res, out, rstd := make([]float32, N*C), make([]float32, N*C), make([]float32, N)
		dout, dres := randn(r, N*C, 1), randn(r, N*C, 1)
		cases = append(cases, gradCase{"residual-rmsnorm p=" + ftoa(drop.P), map[string][]float32{"a": a, "x": x, "w": w},
			func() float64 {
				be.ResidualRMSNormForward(res, out, rstd, a, x, w, N, C, drop)
				return dot64(out, dout) + dot64(res, dres)
			},
			func() map[string][]float32 {
				be.ResidualRMSNormForward(res, out, rstd, a, x, w, N, C, drop)
				d := append([]float32(nil), dres...)
				dw := make([]float32, C)
				be.RMSNormBackward(d, dw, dout, res, w, rstd, N, C)
				dx := make([]float32, N*C)
				be.DropoutApply(dx, d, drop)
				return map[string][]float32{"a": d, "x": dx, "w": dw}
			}, 0})
	}
	for _, mode := range [][2]bool{{true, false}, {false, true}, {true, true}} { // QK-norm and RoPE (in place)
		norm, rotary := mode[0], mode[1]
		const hc = 4 * 2 // width 8 in 2 heads of 4
		qkv0 := randn(r, N*3*hc, 1)
		qkv, rstd, dout := make([]float32, N*3*hc), make([]float32, 2*N*2), randn(r, N*3*hc, 1)
		fwd := func() { copy(qkv, qkv0); be.QKRotaryForward(qkv, rstd, B, T, 0, hc, 2, norm, rotary) }
		cases = append(cases, gradCase{fmt.Sprintf("qk norm=%v rotary=%v", norm, rotary), map[string][]float32{"qkv": qkv0},
			func() float64 { fwd(); return dot64(qkv, dout) },
			func() map[string][]float32 {
				fwd()
				d := append([]float32(nil), dout...)
				be.QKRotaryBackward(d, qkv, rstd, B, T, hc, 2, norm, rotary)
				return map[string][]float32{"qkv": d}
			}, 0})
	}
	{ // ReLU²
		inp, dout := randn(r, N*C, 1), randn(r, N*C, 1)
		out := make([]float32, N*C)
		cases = append(cases, gradCase{"relu2", map[string][]float32{"inp": inp},
			func() float64 { be.Relu2Forward(out, inp); return dot64(out, dout) },
			func() map[string][]float32 {
				d := append([]float32(nil), dout...)
				be.Relu2Backward(d, inp, d)
				return map[string][]float32{"inp": d}
			}, 1e-3})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrads(t, c) })
	}
}

// TestModelGradientFiniteDifference checks the whole model's gradient, every
// tensor, with dropout on (fixed seeds) and off.
func TestModelGradientFiniteDifference(t *testing.T) {
	base := Config{VocabSize: 13, ContextLen: 6, Layers: 2, Heads: 2, Width: 8, Bias: true}
	modern := base
	modern.Rotary, modern.RMSNorm, modern.QKNorm, modern.ReLU2, modern.Untied, modern.SoftCap, modern.Bias = true, true, true, true, true, 3, false
	cfgs := []Config{base, base, modern, modern}
	cfgs[1].Dropout, cfgs[3].Dropout = 0.2, 0.2
	for _, cfg := range cfgs {
		p := cfg.Dropout
		m, err := New(cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		r := NewRNG(11)
		for i := range m.Params { // larger weights than GPT-2's init so every path matters
			m.Params[i] += float32(r.NormFloat64() * 0.3)
		}
		const B, T = 2, 5
		tokens, targets := make([]int32, B*T), make([]int32, B*T)
		for i := range tokens {
			tokens[i] = int32(r.Uint64() % 13)
			targets[i] = int32(r.Uint64() % 13)
		}
		rngState := uint64(77)
		m.SetTrain(true, NewRNG(rngState))
		loss := func() float64 {
			m.rng.SetState(rngState) // same dropout masks every evaluation
			if _, err := m.Forward(tokens, targets, B, T); err != nil {
				t.Fatal(err)
			}
			var s float64 // the mean loss in float64: Forward's float32 loss is too coarse for differences
			for i := range m.cur {
				for _, l := range m.cur[i].losses() {
					s += float64(l)
				}
			}
			return s / (B * T)
		}
		// ReLU²'s second derivative jumps at 0, so central differences across a kink
		// err by O(h): the modern model takes a smaller step than GELU's 1e-2 (float32
		// rounding of the loss grows as h shrinks; 3e-3 balances both).
		var h float32
		if cfg.ReLU2 {
			h = 3e-3
		}
		c := gradCase{name: fmt.Sprintf("model p=%v modern=%v", p, cfg.Rotary), h: h, inputs: map[string][]float32{}, loss: loss,
			grads: func() map[string][]float32 {
				loss()
				m.ZeroGrad()
				if err := m.Backward(); err != nil {
					t.Fatal(err)
				}
				g := map[string][]float32{}
				for _, tn := range m.Tensors() {
					g[tn.Name] = append([]float32(nil), m.Grads[tn.Offset:tn.Offset+tn.Size]...)
				}
				return g
			}}
		for _, tn := range m.Tensors() {
			if tn.Name == "wpe" {
				continue // rows ≥ T get no gradient; checked through the encoder case
			}
			c.inputs[tn.Name] = m.Params[tn.Offset : tn.Offset+tn.Size]
		}
		t.Run(c.name, func(t *testing.T) { checkGrads(t, c) })
	}
}

func itoa(i int) string { return ftoa(float32(i)) }

func ftoa(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
