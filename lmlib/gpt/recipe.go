package gpt

import "math"

// The CPU backend's kernels for the modern recipe's switches (Config.RMSNorm,
// QKNorm, Rotary, ReLU2): row and elementwise C loops (recipe_c.go) split across the
// workers like their GPT-2 counterparts. SoftCap lives in the classifier (cpu.go),
// Muon in muon.go.

type rmsnormFwd struct {
	res, out, rstd, a, x, w []float32
	C                       int
	drop                    Dropout
	fused                   bool // res = a + drop(x) first
}

func (k *rmsnormFwd) run(_, _, lo, hi int) {
	C := k.C
	if !k.fused {
		rmsnormRowsC(nil, k.out[lo*C:hi*C], k.rstd[lo:hi], nil, k.a[lo*C:hi*C], k.w, hi-lo, C)
		return
	}
	if !k.drop.Active() {
		rmsnormRowsC(k.res[lo*C:hi*C], k.out[lo*C:hi*C], k.rstd[lo:hi], k.a[lo*C:hi*C], k.x[lo*C:hi*C], k.w, hi-lo, C)
		return
	}
	thr, sc := k.drop.threshold(), k.drop.scale()
	for i := lo; i < hi; i++ { // res = a + drop(x), then RMSNorm of res
		r, a, b := k.res[i*C:(i+1)*C], k.a[i*C:(i+1)*C], k.x[i*C:(i+1)*C]
		for j := range r {
			if keep(k.drop.Seed, i*C+j, thr) {
				r[j] = a[j] + b[j]*sc
			} else {
				r[j] = a[j]
			}
		}
	}
	rmsnormRowsC(nil, k.out[lo*C:hi*C], k.rstd[lo:hi], nil, k.res[lo*C:hi*C], k.w, hi-lo, C)
}

// RMSNormForward implements Backend.
func (c *CPU) RMSNormForward(out, rstd, inp, w []float32, N, C int) {
	c.rmsF = rmsnormFwd{out: out, rstd: rstd, a: inp, w: w, C: C}
	c.p.run(&c.rmsF, N)
}

// ResidualRMSNormForward implements Backend.
func (c *CPU) ResidualRMSNormForward(res, out, rstd, a, x, w []float32, N, C int, drop Dropout) {
	c.rmsF = rmsnormFwd{res: res, out: out, rstd: rstd, a: a, x: x, w: w, C: C, drop: drop, fused: true}
	c.p.run(&c.rmsF, N)
}

type rmsnormBwd struct {
	dinp, dout, inp, w, rstd []float32
	partials                 []float32 // per chunk: dw (C)
	C                        int
}

func (k *rmsnormBwd) run(_, ch, lo, hi int) {
	C := k.C
	pdw := k.partials[ch*C : ch*C+C]
	clear(pdw)
	rmsnormBackwardRowsC(k.dinp[lo*C:hi*C], pdw, k.dout[lo*C:hi*C], k.inp[lo*C:hi*C], k.w, k.rstd[lo:hi], hi-lo, C)
}

// RMSNormBackward implements Backend.
func (c *CPU) RMSNormBackward(dinp, dw, dout, inp, w, rstd []float32, N, C int) {
	nc := c.p.chunks(N)
	if len(c.partials) < nc*2*C {
		c.partials = make([]float32, nc*2*C)
	}
	c.rmsB = rmsnormBwd{dinp: dinp, dout: dout, inp: inp, w: w, rstd: rstd, partials: c.partials, C: C}
	c.p.run(&c.rmsB, N)
	for ch := 0; ch < nc; ch++ { // reduce in chunk order: deterministic
		pdw := c.partials[ch*C : ch*C+C]
		for j := 0; j < C; j++ {
			dw[j] += pdw[j]
		}
	}
}

// ---- QK-norm and RoPE ----

// ropeTables returns cos and sin of every position's angles, hs/2 per position for
// positions [0, n): angle(pos, i) = pos·RopeTheta^(−2i/hs), computed in float64 and
// rounded once. The tables are cached and only grow.
func (c *CPU) ropeTables(n, hs int) (cs, sn []float32) {
	d := hs / 2
	if c.ropeHS != hs || len(c.ropeCos) < n*d {
		c.ropeHS = hs
		c.ropeCos, c.ropeSin = RopeTables(n, hs)
	}
	return c.ropeCos[:n*d], c.ropeSin[:n*d]
}

// RopeTables returns the rotary tables of positions [0, n) for heads of size hs:
// cos and sin of pos·RopeTheta^(−2i/hs) at [pos·hs/2 + i], i < hs/2, computed in
// float64 and rounded once to float32. lmlib/gpt/cuda and the KV cache use the same.
func RopeTables(n, hs int) (cs, sn []float32) {
	d := hs / 2
	cs, sn = make([]float32, n*d), make([]float32, n*d)
	for i := 0; i < d; i++ {
		f := math.Pow(RopeTheta, -float64(2*i)/float64(hs))
		for p := 0; p < n; p++ {
			s, co := math.Sincos(float64(p) * f)
			cs[p*d+i], sn[p*d+i] = float32(co), float32(s)
		}
	}
	return cs, sn
}

type qkFwd struct {
	qkv, rstd, cs, sn []float32
	T, T0, C, NH      int
	norm, rotary      bool
}

func (k *qkFwd) run(_, _, lo, hi int) {
	var rstd []float32
	if k.norm {
		rstd = k.rstd[lo*2*k.NH:]
	}
	qkForwardC(k.qkv[lo*3*k.C:], rstd, k.cs, k.sn, hi-lo, lo, k.T, k.T0, k.C, k.NH, k.norm, k.rotary)
}

// QKRotaryForward implements Backend.
func (c *CPU) QKRotaryForward(qkv, rstd []float32, B, T, T0, C, NH int, norm, rotary bool) {
	if !norm && !rotary {
		return
	}
	var cs, sn []float32
	if rotary {
		cs, sn = c.ropeTables(T0+T, C/NH)
	}
	c.qkF = qkFwd{qkv: qkv, rstd: rstd, cs: cs, sn: sn, T: T, T0: T0, C: C, NH: NH, norm: norm, rotary: rotary}
	c.p.run(&c.qkF, B*T)
}

type qkBwd struct {
	dqkv, qkv, rstd, cs, sn []float32
	T, C, NH                int
	norm, rotary            bool
}

func (k *qkBwd) run(_, _, lo, hi int) {
	var rstd []float32
	if k.norm {
		rstd = k.rstd[lo*2*k.NH:]
	}
	o := lo * 3 * k.C
	qkBackwardC(k.dqkv[o:], k.qkv[o:], rstd, k.cs, k.sn, hi-lo, lo, k.T, k.C, k.NH, k.norm, k.rotary)
}

// QKRotaryBackward implements Backend.
func (c *CPU) QKRotaryBackward(dqkv, qkv, rstd []float32, B, T, C, NH int, norm, rotary bool) {
	if !norm && !rotary {
		return
	}
	var cs, sn []float32
	if rotary {
		cs, sn = c.ropeTables(T, C/NH)
	}
	c.qkB = qkBwd{dqkv: dqkv, qkv: qkv, rstd: rstd, cs: cs, sn: sn, T: T, C: C, NH: NH, norm: norm, rotary: rotary}
	c.p.run(&c.qkB, B*T)
}

// ---- ReLU² ----

type relu2Fwd struct{ out, inp []float32 }

func (k *relu2Fwd) run(_, _, lo, hi int) {
	n := len(k.inp)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	relu2ForwardC(k.out[lo:hi], k.inp[lo:hi])
}

// Relu2Forward implements Backend.
func (c *CPU) Relu2Forward(out, inp []float32) {
	c.reluF = relu2Fwd{out: out, inp: inp}
	c.p.run(&c.reluF, blocks(len(inp)))
}

type relu2Bwd struct{ dinp, inp, dout []float32 }

func (k *relu2Bwd) run(_, _, lo, hi int) {
	n := len(k.inp)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	relu2BackwardC(k.dinp[lo:hi], k.inp[lo:hi], k.dout[lo:hi])
}

// Relu2Backward implements Backend.
func (c *CPU) Relu2Backward(dinp, inp, dout []float32) {
	c.reluB = relu2Bwd{dinp: dinp, inp: inp, dout: dout}
	c.p.run(&c.reluB, blocks(len(inp)))
}
