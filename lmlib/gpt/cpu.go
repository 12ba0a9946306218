package gpt

import (
	"math"
)

// CPU is the reference Backend: matrix products through OpenBLAS (single-threaded,
// one sgemm per worker on a row block), everything else as Go loops split across
// the workers. Every kernel is a struct owned by the CPU value, so a training step
// allocates nothing after the first.
type CPU struct {
	p  *pool
	nw int

	scratch   [][]float32 // per worker, grown before dispatch
	partials  []float32   // chunks × 2C, layernorm backward
	partial64 []float64   // per chunk, SumSquares
	ones      []float32   // N ones: bias gradients as sgemv

	encF   encoderFwd
	encB   encoderBwd
	lnF    layernormFwd
	lnB    layernormBwd
	mmF    matmulFwd
	mmFC   matmulFwdCols
	mmBIn  matmulBwdInp
	mmBW   matmulBwdW
	mmBWC  matmulBwdWCols
	mmBB   matmulBwdBias
	attF   attentionFwd
	attB   attentionBwd
	geluF  geluFwd
	geluB  geluBwd
	drop   dropoutTask
	clsF   classifierFwd
	clsFC  classifierFwdCols
	clsBIn classifierBwdInp
	clsBW  classifierBwdW
	adam   adamwTask
	sumsq  sumSquaresTask
	scale  scaleTask

	// the modern recipe (recipe.go, muon.go)
	rmsF             rmsnormFwd
	rmsB             rmsnormBwd
	qkF              qkFwd
	qkB              qkBwd
	reluF            relu2Fwd
	reluB            relu2Bwd
	muon             muonTask
	muonOrder        []int
	ropeHS           int
	ropeCos, ropeSin []float32
}

// NewCPU returns a CPU backend with the given number of workers (≤ 0: GOMAXPROCS).
// It loads OpenBLAS on first use (see BLAS) and panics with the reason when that fails.
// With two or more workers it may raise GOMAXPROCS by one (SpareP).
func NewCPU(workers int) *CPU {
	blasInit()
	if workers <= 0 {
		workers = defaultWorkers()
	}
	reserveSpareP(workers)
	c := &CPU{p: newPool(workers), nw: workers}
	c.scratch = make([][]float32, workers)
	return c
}

// Name implements Backend.
func (c *CPU) Name() string { return "cpu" }

// Workers returns the number of workers.
func (c *CPU) Workers() int { return c.nw }

func (c *CPU) ensureScratch(n int) {
	for w := range c.scratch {
		if len(c.scratch[w]) < n {
			c.scratch[w] = make([]float32, n)
		}
	}
}

// elementwise work is split in blocks of this many items so that tiny tensors
// run on one goroutine.
const grain = 4096

func blocks(n int) int { return (n + grain - 1) / grain }

func blockRange(i, n int) (int, int) {
	lo := i * grain
	hi := lo + grain
	if hi > n {
		hi = n
	}
	return lo, hi
}

// ---- encoder ----

type encoderFwd struct {
	out, wte, wpe []float32
	tokens        []int32
	T, C          int
	drop          Dropout
}

func (k *encoderFwd) run(_, _, lo, hi int) {
	C := k.C
	thr, sc := k.drop.threshold(), k.drop.scale()
	for i := lo; i < hi; i++ {
		t := i % k.T
		o := k.out[i*C : (i+1)*C]
		e := k.wte[int(k.tokens[i])*C : int(k.tokens[i])*C+C]
		if k.wpe == nil { // rotary embeddings: no learned positions
			copy(o, e)
		} else {
			p := k.wpe[t*C : t*C+C]
			for j := range o {
				o[j] = e[j] + p[j]
			}
		}
		if k.drop.Active() {
			for j := range o {
				if keep(k.drop.Seed, i*C+j, thr) {
					o[j] *= sc
				} else {
					o[j] = 0
				}
			}
		}
	}
}

// EncoderForward implements Backend.
func (c *CPU) EncoderForward(out []float32, tokens []int32, wte, wpe []float32, B, T, C int, drop Dropout) {
	c.encF = encoderFwd{out: out, wte: wte, wpe: wpe, tokens: tokens, T: T, C: C, drop: drop}
	c.p.run(&c.encF, B*T)
}

type encoderBwd struct {
	dwte, dwpe, dout []float32
	tokens           []int32
	N, T, C          int
}

// run handles channels [lo,hi) for every position, so no two workers touch the
// same gradient entry.
func (k *encoderBwd) run(_, _, lo, hi int) {
	C := k.C
	for i := 0; i < k.N; i++ {
		t := i % k.T
		d := k.dout[i*C+lo : i*C+hi]
		tok := int(k.tokens[i])
		e := k.dwte[tok*C+lo : tok*C+hi]
		if k.dwpe == nil {
			for j, v := range d {
				e[j] += v
			}
			continue
		}
		p := k.dwpe[t*C+lo : t*C+hi]
		for j, v := range d {
			e[j] += v
			p[j] += v
		}
	}
}

// EncoderBackward implements Backend.
func (c *CPU) EncoderBackward(dwte, dwpe, dout []float32, tokens []int32, B, T, C int) {
	c.encB = encoderBwd{dwte: dwte, dwpe: dwpe, dout: dout, tokens: tokens, N: B * T, T: T, C: C}
	c.p.run(&c.encB, C)
}

// ---- layernorm ----

const lnEps = 1e-5

type layernormFwd struct {
	res, out, mean, rstd, a, x, w, b []float32
	C                                int
	drop                             Dropout
	fused                            bool // res = a + drop(x) first
}

func (k *layernormFwd) run(_, _, lo, hi int) {
	C := k.C
	if !k.fused {
		layernormRowsC(nil, k.out[lo*C:hi*C], k.mean[lo:hi], k.rstd[lo:hi], nil, k.a[lo*C:hi*C], k.w, k.b, hi-lo, C)
		return
	}
	if !k.drop.Active() {
		layernormRowsC(k.res[lo*C:hi*C], k.out[lo*C:hi*C], k.mean[lo:hi], k.rstd[lo:hi], k.a[lo*C:hi*C], k.x[lo*C:hi*C], k.w, k.b, hi-lo, C)
		return
	}
	thr, sc := k.drop.threshold(), k.drop.scale()
	for i := lo; i < hi; i++ { // res = a + drop(x), then LayerNorm of res
		r := k.res[i*C : (i+1)*C]
		a := k.a[i*C : (i+1)*C]
		b := k.x[i*C : (i+1)*C]
		for j := range r {
			if keep(k.drop.Seed, i*C+j, thr) {
				r[j] = a[j] + b[j]*sc
			} else {
				r[j] = a[j]
			}
		}
	}
	layernormRowsC(nil, k.out[lo*C:hi*C], k.mean[lo:hi], k.rstd[lo:hi], nil, k.res[lo*C:hi*C], k.w, k.b, hi-lo, C)
}

// LayernormForward implements Backend.
func (c *CPU) LayernormForward(out, mean, rstd, inp, w, b []float32, N, C int) {
	c.lnF = layernormFwd{out: out, mean: mean, rstd: rstd, a: inp, w: w, b: b, C: C}
	c.p.run(&c.lnF, N)
}

// ResidualLayernormForward implements Backend.
func (c *CPU) ResidualLayernormForward(res, out, mean, rstd, a, x, w, b []float32, N, C int, drop Dropout) {
	c.lnF = layernormFwd{res: res, out: out, mean: mean, rstd: rstd, a: a, x: x, w: w, b: b, C: C, drop: drop, fused: true}
	c.p.run(&c.lnF, N)
}

type layernormBwd struct {
	dinp, dout, inp, w, mean, rstd []float32
	partials                       []float32 // per chunk: dw (C) then db (C)
	C                              int
}

func (k *layernormBwd) run(_, ch, lo, hi int) {
	C := k.C
	pdw := k.partials[ch*2*C : ch*2*C+C]
	pdb := k.partials[ch*2*C+C : ch*2*C+2*C]
	clear(pdw)
	clear(pdb)
	layernormBackwardRowsC(k.dinp[lo*C:hi*C], pdw, pdb, k.dout[lo*C:hi*C], k.inp[lo*C:hi*C], k.w, k.mean[lo:hi], k.rstd[lo:hi], hi-lo, C)
}

// LayernormBackward implements Backend.
func (c *CPU) LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	nc := c.p.chunks(N)
	if len(c.partials) < nc*2*C {
		c.partials = make([]float32, nc*2*C)
	}
	c.lnB = layernormBwd{dinp: dinp, dout: dout, inp: inp, w: w, mean: mean, rstd: rstd, partials: c.partials, C: C}
	c.p.run(&c.lnB, N)
	for ch := 0; ch < nc; ch++ { // reduce in chunk order: deterministic
		pdw := c.partials[ch*2*C : ch*2*C+C]
		pdb := c.partials[ch*2*C+C : ch*2*C+2*C]
		for j := 0; j < C; j++ {
			dw[j] += pdw[j]
		}
		if db != nil {
			for j := 0; j < C; j++ {
				db[j] += pdb[j]
			}
		}
	}
}

// ---- matmul ----

type matmulFwd struct {
	out, inp, w, bias []float32
	C, OC             int
}

func (k *matmulFwd) run(_, _, lo, hi int) {
	OC := k.OC
	var beta float32
	if k.bias != nil {
		for i := lo; i < hi; i++ {
			copy(k.out[i*OC:(i+1)*OC], k.bias[:OC])
		}
		beta = 1
	}
	sgemm(false, false, hi-lo, OC, k.C, 1, k.inp[lo*k.C:], k.C, k.w, OC, beta, k.out[lo*OC:], OC)
}

// matmulFwdCols is matmulFwd split over output columns, for a few rows (generation
// with a KV cache feeds one row per token): split over rows, one worker would do it all.
type matmulFwdCols struct{ matmulFwd }

func (k *matmulFwdCols) run(_, _, lo, hi int) {
	OC := k.OC
	N := len(k.out) / OC
	var beta float32
	if k.bias != nil {
		for i := 0; i < N; i++ {
			copy(k.out[i*OC+lo:i*OC+hi], k.bias[lo:hi])
		}
		beta = 1
	}
	sgemm(false, false, N, hi-lo, k.C, 1, k.inp, k.C, k.w[lo:], OC, beta, k.out[lo:], OC)
}

// fewRows reports whether an op over n rows is split over columns instead: with
// fewer than 4 rows per worker, row chunks would leave workers idle.
func (c *CPU) fewRows(n int) bool { return c.nw > 1 && n < 4*c.nw }

// MatmulForward implements Backend.
func (c *CPU) MatmulForward(out, inp, w, bias []float32, N, C, OC int) {
	c.mmF = matmulFwd{out: out, inp: inp, w: w, bias: bias, C: C, OC: OC}
	if c.fewRows(N) {
		c.mmFC = matmulFwdCols{c.mmF}
		c.mmFC.out = out[:N*OC]
		c.p.run(&c.mmFC, OC)
		return
	}
	c.p.run(&c.mmF, N)
}

type matmulBwdInp struct {
	dinp, dout, w []float32
	C, OC         int
}

func (k *matmulBwdInp) run(_, _, lo, hi int) {
	sgemm(false, true, hi-lo, k.C, k.OC, 1, k.dout[lo*k.OC:], k.OC, k.w, k.OC, 0, k.dinp[lo*k.C:], k.C)
}

type matmulBwdW struct {
	dw, dout, inp []float32
	N, C, OC      int
}

// run computes rows [lo,hi) of dw (input channels).
func (k *matmulBwdW) run(_, _, lo, hi int) {
	sgemm(true, false, hi-lo, k.OC, k.N, 1, k.inp[lo:], k.C, k.dout, k.OC, 1, k.dw[lo*k.OC:], k.OC)
}

// matmulBwdWCols computes columns [lo,hi) of dw (output channels). Each chunk of
// a product packs the whole operand it shares with the others again: splitting
// dw by rows repacks dout (N×OC) per chunk, by columns inp (N×C), so the split
// goes over the wider side.
type matmulBwdWCols struct{ matmulBwdW }

func (k *matmulBwdWCols) run(_, _, lo, hi int) {
	sgemm(true, false, k.C, hi-lo, k.N, 1, k.inp, k.C, k.dout[lo:], k.OC, 1, k.dw[lo:], k.OC)
}

type matmulBwdBias struct {
	dbias, dout, ones []float32
	N, OC             int
}

// run adds the sums of columns [lo,hi) of dout to dbias (one sgemv against ones).
func (k *matmulBwdBias) run(_, _, lo, hi int) {
	sgemvT(k.N, hi-lo, k.dout[lo:], k.OC, k.ones, k.dbias[lo:hi])
}

// MatmulBackward implements Backend. The input, weight and bias gradients are
// independent: one dispatch runs them all.
func (c *CPU) MatmulBackward(dinp, dw, dbias, dout, inp, w []float32, N, C, OC int) {
	var parts [3]part
	k := 0
	c.mmBW = matmulBwdW{dw: dw, dout: dout, inp: inp, N: N, C: C, OC: OC}
	if OC > C {
		c.mmBWC = matmulBwdWCols{c.mmBW}
		parts[k], k = part{t: &c.mmBWC, n: OC, few: true}, k+1
	} else {
		parts[k], k = part{t: &c.mmBW, n: C, few: true}, k+1
	}
	if dinp != nil {
		c.mmBIn = matmulBwdInp{dinp: dinp, dout: dout, w: w, C: C, OC: OC}
		parts[k], k = part{t: &c.mmBIn, n: N}, k+1
	}
	if dbias != nil {
		if len(c.ones) < N {
			c.ones = make([]float32, N)
			for i := range c.ones {
				c.ones[i] = 1
			}
		}
		c.mmBB = matmulBwdBias{dbias: dbias, dout: dout, ones: c.ones, N: N, OC: OC}
		parts[k], k = part{t: &c.mmBB, n: OC}, k+1
	}
	c.p.runAll(parts[:k]...)
}

// ---- attention ----

// attnBlock is the row-block size of the causal attention products: block r
// multiplies only the key columns 0..end(r), skipping most of the upper triangle.
var attnBlockMin = 32

func attnBlock(T int) int {
	b := (T + 3) / 4
	if b < attnBlockMin {
		b = attnBlockMin
	}
	if b < 32 {
		b = 32
	}
	if b > T {
		b = T
	}
	return b
}

type attentionFwd struct {
	out, att, qkv []float32
	scratch       [][]float32
	T, C, NH      int
	drop          Dropout
}

// attLoops reports whether attention over T positions runs as the C loops of
// attention_c.go (short contexts without dropout) rather than sgemm row blocks.
func attLoops(T int, drop Dropout) bool { return T <= attLoopsMaxT && !drop.Active() }

func (k *attentionFwd) run(wk, _, lo, hi int) {
	T, C, NH := k.T, k.C, k.NH
	hs := C / NH
	C3 := 3 * C
	scale := float32(1 / math.Sqrt(float64(hs)))
	if attLoops(T, k.drop) {
		attentionForwardC(k.out, k.att, k.qkv, k.scratch[wk], T, C, NH, scale, lo, hi)
		return
	}
	bs := attnBlock(T)
	thr, dsc := k.drop.threshold(), k.drop.scale()
	for bh := lo; bh < hi; bh++ {
		b, h := bh/NH, bh%NH
		base := b * T * C3
		q := k.qkv[base+h*hs:]
		kk := k.qkv[base+C+h*hs:]
		v := k.qkv[base+2*C+h*hs:]
		P := k.att[bh*T*T : (bh+1)*T*T]
		for r0 := 0; r0 < T; r0 += bs {
			r1 := r0 + bs
			if r1 > T {
				r1 = T
			}
			sgemm(false, true, r1-r0, r1, hs, scale, q[r0*C3:], C3, kk, C3, 0, P[r0*T:], T)
		}
		softmaxCausalC(P, T, 0, T)
		pv := P
		if k.drop.Active() {
			pd := k.scratch[wk][:T*T]
			for i := range pd {
				if keep(k.drop.Seed, bh*T*T+i, thr) {
					pd[i] = P[i] * dsc
				} else {
					pd[i] = 0
				}
			}
			pv = pd
		}
		o := k.out[b*T*C+h*hs:]
		for r0 := 0; r0 < T; r0 += bs {
			r1 := r0 + bs
			if r1 > T {
				r1 = T
			}
			sgemm(false, false, r1-r0, hs, r1, 1, pv[r0*T:], T, v, C3, 0, o[r0*C:], C)
		}
	}
}

// AttentionForward implements Backend.
func (c *CPU) AttentionForward(out, att, qkv []float32, B, T, C, NH int, drop Dropout) {
	if attLoops(T, drop) {
		c.ensureScratch(attFwdScratch(T, C/NH))
	} else if drop.Active() {
		c.ensureScratch(T * T)
	}
	c.attF = attentionFwd{out: out, att: att, qkv: qkv, scratch: c.scratch, T: T, C: C, NH: NH, drop: drop}
	c.p.run(&c.attF, B*NH)
}

type attentionBwd struct {
	dqkv, dout, qkv, att []float32
	scratch              [][]float32
	T, C, NH             int
	drop                 Dropout
}

func (k *attentionBwd) run(wk, _, lo, hi int) {
	T, C, NH := k.T, k.C, k.NH
	hs := C / NH
	C3 := 3 * C
	scale := float32(1 / math.Sqrt(float64(hs)))
	if attLoops(T, k.drop) {
		attentionBackwardC(k.dqkv, k.dout, k.qkv, k.att, k.scratch[wk], T, C, NH, scale, lo, hi)
		return
	}
	bs := attnBlock(T)
	nblk := (T + bs - 1) / bs
	thr, dsc := k.drop.threshold(), k.drop.scale()
	dP := k.scratch[wk][:T*T]
	var pd []float32
	if k.drop.Active() {
		pd = k.scratch[wk][T*T : 2*T*T]
	}
	for bh := lo; bh < hi; bh++ {
		b, h := bh/NH, bh%NH
		base := b * T * C3
		q := k.qkv[base+h*hs:]
		kk := k.qkv[base+C+h*hs:]
		v := k.qkv[base+2*C+h*hs:]
		dq := k.dqkv[base+h*hs:]
		dk := k.dqkv[base+C+h*hs:]
		dv := k.dqkv[base+2*C+h*hs:]
		dy := k.dout[b*T*C+h*hs:]
		P := k.att[bh*T*T : (bh+1)*T*T]
		pv := P
		if pd != nil {
			for i := range pd {
				if keep(k.drop.Seed, bh*T*T+i, thr) {
					pd[i] = P[i] * dsc
				} else {
					pd[i] = 0
				}
			}
			pv = pd
		}
		// Blocks from the last (which spans every key row) down, so its products
		// initialise dK and dV (beta 0) and the others accumulate.
		for bi := nblk - 1; bi >= 0; bi-- {
			r0 := bi * bs
			r1 := r0 + bs
			if r1 > T {
				r1 = T
			}
			var beta float32 = 1
			if bi == nblk-1 {
				beta = 0
			}
			// dP = dY Vᵀ; dV += Pᵀ dY.
			sgemm(false, true, r1-r0, r1, hs, 1, dy[r0*C:], C, v, C3, 0, dP[r0*T:], T)
			sgemm(true, false, r1, hs, r1-r0, 1, pv[r0*T:], T, dy[r0*C:], C, beta, dv, C3)
			// softmax backward (with the dropout mask), into dP as dS.
			for t := r0; t < r1; t++ {
				p := P[t*T : t*T+t+1]
				d := dP[t*T : t*T+t+1]
				if pd != nil {
					for j := range d {
						if pd[t*T+j] == 0 && P[t*T+j] != 0 {
							d[j] = 0
						} else {
							d[j] *= dsc
						}
					}
				}
				var dot float32
				for j, pj := range p {
					dot += pj * d[j]
				}
				for j, pj := range p {
					d[j] = pj * (d[j] - dot) * scale
				}
				rest := dP[t*T+t+1 : t*T+r1]
				for j := range rest {
					rest[j] = 0
				}
			}
			// dQ = dS K; dK += dSᵀ Q.
			sgemm(false, false, r1-r0, hs, r1, 1, dP[r0*T:], T, kk, C3, 0, dq[r0*C3:], C3)
			sgemm(true, false, r1, hs, r1-r0, 1, dP[r0*T:], T, q[r0*C3:], C3, beta, dk, C3)
		}
	}
}

// AttentionBackward implements Backend.
func (c *CPU) AttentionBackward(dqkv, dout, qkv, att []float32, B, T, C, NH int, drop Dropout) {
	n := T * T
	if attLoops(T, drop) {
		n = attBwdScratch(T, C/NH)
	} else if drop.Active() {
		n *= 2
	}
	c.ensureScratch(n)
	c.attB = attentionBwd{dqkv: dqkv, dout: dout, qkv: qkv, att: att, scratch: c.scratch, T: T, C: C, NH: NH, drop: drop}
	c.p.run(&c.attB, B*NH)
}

// ---- GELU, dropout, scale ----

type geluFwd struct{ out, inp []float32 }

func (k *geluFwd) run(_, _, lo, hi int) {
	n := len(k.inp)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	geluForwardC(k.out[lo:hi], k.inp[lo:hi])
}

// GeluForward implements Backend.
func (c *CPU) GeluForward(out, inp []float32) {
	c.geluF = geluFwd{out: out, inp: inp}
	c.p.run(&c.geluF, blocks(len(inp)))
}

type geluBwd struct{ dinp, inp, dout []float32 }

func (k *geluBwd) run(_, _, lo, hi int) {
	n := len(k.inp)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	geluBackwardC(k.dinp[lo:hi], k.inp[lo:hi], k.dout[lo:hi])
}

// GeluBackward implements Backend.
func (c *CPU) GeluBackward(dinp, inp, dout []float32) {
	c.geluB = geluBwd{dinp: dinp, inp: inp, dout: dout}
	c.p.run(&c.geluB, blocks(len(inp)))
}

type dropoutTask struct {
	out, inp []float32
	drop     Dropout
}

func (k *dropoutTask) run(_, _, lo, hi int) {
	n := len(k.inp)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	thr, sc := k.drop.threshold(), k.drop.scale()
	for i := lo; i < hi; i++ {
		if keep(k.drop.Seed, i, thr) {
			k.out[i] = k.inp[i] * sc
		} else {
			k.out[i] = 0
		}
	}
}

// DropoutApply implements Backend.
func (c *CPU) DropoutApply(out, inp []float32, drop Dropout) {
	if !drop.Active() {
		copy(out, inp)
		return
	}
	c.drop = dropoutTask{out: out, inp: inp, drop: drop}
	c.p.run(&c.drop, blocks(len(inp)))
}

type scaleTask struct {
	x []float32
	s float32
}

func (k *scaleTask) run(_, _, lo, hi int) {
	n := len(k.x)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	x := k.x[lo:hi]
	for i := range x {
		x[i] *= k.s
	}
}

// Scale implements Backend.
func (c *CPU) Scale(x []float32, s float32) {
	c.scale = scaleTask{x: x, s: s}
	c.p.run(&c.scale, blocks(len(x)))
}

type sumSquaresTask struct {
	x   []float32
	out []float64
}

func (k *sumSquaresTask) run(_, ch, lo, hi int) {
	n := len(k.x)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	var s float64
	for b := lo; b < hi; b += grain {
		e := b + grain
		if e > hi {
			e = hi
		}
		var s0, s1 float32
		x := k.x[b:e]
		j := 0
		for ; j+1 < len(x); j += 2 {
			s0 += x[j] * x[j]
			s1 += x[j+1] * x[j+1]
		}
		for ; j < len(x); j++ {
			s0 += x[j] * x[j]
		}
		s += float64(s0) + float64(s1)
	}
	k.out[ch] = s
}

// SumSquares implements Backend.
func (c *CPU) SumSquares(x []float32) float64 {
	nc := c.p.chunks(blocks(len(x)))
	if len(c.partial64) < nc {
		c.partial64 = make([]float64, nc)
	}
	c.sumsq = sumSquaresTask{x: x, out: c.partial64}
	c.p.run(&c.sumsq, blocks(len(x)))
	var s float64
	for _, v := range c.partial64[:nc] { // chunk order: deterministic
		s += v
	}
	return s
}

// ---- classifier ----

type classifierFwd struct {
	logits, losses, inp, wte []float32
	targets                  []int32
	scratch                  [][]float32 // per worker, V floats: 1 − tanh² of the soft-cap
	C, V                     int
	dscale, softcap          float32
}

func (k *classifierFwd) run(wk, _, lo, hi int) {
	V := k.V
	sgemm(false, true, hi-lo, V, k.C, 1, k.inp[lo*k.C:], k.C, k.wte, k.C, 0, k.logits[lo*V:], V)
	if k.targets == nil {
		if k.softcap > 0 {
			softcapC(k.logits[lo*V:hi*V], nil, k.softcap)
		}
		return
	}
	var dcap []float32
	if k.softcap > 0 {
		dcap = k.scratch[wk][:V]
	}
	for i := lo; i < hi; i++ {
		row := k.logits[i*V : (i+1)*V]
		tg := int(k.targets[i])
		if tg < 0 {
			k.losses[i] = 0
			for j := range row {
				row[j] = 0
			}
			continue
		}
		if dcap != nil {
			softcapC(row, dcap, k.softcap)
		}
		xt := row[tg]
		s, mx := softmaxC(row, k.dscale)
		k.losses[i] = float32(math.Log(float64(s))) - (xt - mx)
		row[tg] -= k.dscale
		if dcap != nil { // the gradient of the uncapped logits
			mulC(row, dcap)
		}
	}
}

// classifierFwdCols computes logits only (no targets) over vocabulary columns, for a
// few rows (generation).
type classifierFwdCols struct{ classifierFwd }

func (k *classifierFwdCols) run(_, _, lo, hi int) {
	N := len(k.logits) / k.V
	sgemm(false, true, N, hi-lo, k.C, 1, k.inp, k.C, k.wte[lo*k.C:], k.C, 0, k.logits[lo:], k.V)
	if k.softcap > 0 {
		for i := 0; i < N; i++ {
			softcapC(k.logits[i*k.V+lo:i*k.V+hi], nil, k.softcap)
		}
	}
}

// ClassifierForward implements Backend.
func (c *CPU) ClassifierForward(logits, losses, inp, wte []float32, targets []int32, N, C, V int, dscale, softcap float32) {
	if softcap > 0 && targets != nil {
		c.ensureScratch(V)
	}
	c.clsF = classifierFwd{logits: logits, losses: losses, inp: inp, wte: wte, targets: targets, scratch: c.scratch,
		C: C, V: V, dscale: dscale, softcap: softcap}
	if targets == nil && c.fewRows(N) {
		c.clsFC = classifierFwdCols{c.clsF}
		c.clsFC.logits = logits[:N*V]
		c.p.run(&c.clsFC, V)
		return
	}
	c.p.run(&c.clsF, N)
}

type classifierBwdInp struct {
	dinp, dlogits, wte []float32
	C, V               int
}

func (k *classifierBwdInp) run(_, _, lo, hi int) {
	sgemm(false, false, hi-lo, k.C, k.V, 1, k.dlogits[lo*k.V:], k.V, k.wte, k.C, 0, k.dinp[lo*k.C:], k.C)
}

type classifierBwdW struct {
	dwte, dlogits, inp []float32
	N, C, V            int
}

// run computes rows [lo,hi) of dwte (vocabulary entries).
func (k *classifierBwdW) run(_, _, lo, hi int) {
	sgemm(true, false, hi-lo, k.C, k.N, 1, k.dlogits[lo:], k.V, k.inp, k.C, 1, k.dwte[lo*k.C:], k.C)
}

// ClassifierBackward implements Backend (one dispatch, as MatmulBackward).
func (c *CPU) ClassifierBackward(dinp, dwte, dlogits, inp, wte []float32, N, C, V int) {
	c.clsBIn = classifierBwdInp{dinp: dinp, dlogits: dlogits, wte: wte, C: C, V: V}
	c.clsBW = classifierBwdW{dwte: dwte, dlogits: dlogits, inp: inp, N: N, C: C, V: V}
	c.p.runAll(part{t: &c.clsBIn, n: N}, part{t: &c.clsBW, n: V})
}

// ---- AdamW ----

type adamwTask struct {
	params, grads, m, v []float32
	tensors             []Tensor
	lr, b1, b2, eps, wd float32
	stepSize, bc2sqrt   float32
}

func (k *adamwTask) run(_, _, lo, hi int) {
	n := len(k.params)
	lo, _ = blockRange(lo, n)
	_, hi = blockRange(hi-1, n)
	for _, t := range k.tensors {
		s, e := t.Offset, t.Offset+t.Size
		if s < lo {
			s = lo
		}
		if e > hi {
			e = hi
		}
		if s >= e {
			continue
		}
		decay := float32(1)
		if t.Decay {
			decay = 1 - k.lr*k.wd
		}
		adamwC(k.params[s:e], k.grads[s:e], k.m[s:e], k.v[s:e], decay, k.stepSize, k.b1, k.b2, k.bc2sqrt, k.eps)
	}
}

// AdamW implements Backend.
func (c *CPU) AdamW(params, grads, m, v []float32, tensors []Tensor, lr, beta1, beta2, eps, weightDecay float32, step int) {
	bc1 := 1 - math.Pow(float64(beta1), float64(step))
	bc2 := 1 - math.Pow(float64(beta2), float64(step))
	c.adam = adamwTask{params: params, grads: grads, m: m, v: v, tensors: tensors,
		lr: lr, b1: beta1, b2: beta2, eps: eps, wd: weightDecay,
		stepSize: float32(float64(lr) / bc1), bc2sqrt: float32(math.Sqrt(bc2))}
	c.p.run(&c.adam, blocks(len(params)))
}

func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }
