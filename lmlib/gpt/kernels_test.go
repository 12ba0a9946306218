package gpt

import (
	"math"
	"runtime"
	"testing"
)

// The C GELU (AVX2 and generic paths) agrees with float64 math.
func TestElementwiseAccuracy(t *testing.T) {
	xs := []float32{0, 1e-6, -1e-6, 0.03, -0.03, 0.5, -0.5, 1, -1, 2.5, -2.5, 4, -4, 9, -9, 30, -30, 1e4, -1e4}
	r := NewRNG(3)
	for i := 0; i < 2000; i++ {
		xs = append(xs, float32(r.NormFloat64()*3))
	}
	ref := func(x float64) (g, dg float64) {
		u := math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
		th := math.Tanh(u)
		return 0.5 * x * (1 + th), 0.5*(1+th) + 0.5*x*(1-th*th)*math.Sqrt(2/math.Pi)*(1+3*0.044715*x*x)
	}
	saved := simdLevel
	defer func() { simdLevel = saved }()
	for avx := 0; avx <= saved; avx++ {
		simdLevel = avx
		out, d := make([]float32, len(xs)), make([]float32, len(xs))
		ones := make([]float32, len(xs))
		for i := range ones {
			ones[i] = 1
		}
		geluForwardC(out, xs)
		geluBackwardC(d, xs, ones)
		for i, x := range xs {
			g, dg := ref(float64(x))
			// float32 rounding of u alone costs |u|·6e-8 relative in the far negative tail.
			if math.Abs(float64(out[i])-g) > 2e-6*math.Abs(g)+1e-9 {
				t.Errorf("simd=%d gelu(%v) = %v, want %v", avx, x, out[i], g)
			}
			if e := math.Abs(float64(d[i]) - dg); e > 2e-6 {
				t.Errorf("simd=%d gelu'(%v) = %v, want %v", avx, x, d[i], dg)
			}
		}
	}
}

// The C softmax (both paths) matches float64, including rows longer than 8 and
// with large offsets; the causal variant zeroes the upper triangle.
func TestSoftmaxC(t *testing.T) {
	saved := simdLevel
	defer func() { simdLevel = saved }()
	r := NewRNG(4)
	for avx := 0; avx <= saved; avx++ {
		simdLevel = avx
		for _, n := range []int{1, 3, 8, 9, 65, 1000} {
			x := randn(r, n, 5)
			x[n/2] += 80 // a large logit must not overflow
			ref := make([]float64, n)
			m := math.Inf(-1)
			for _, v := range x {
				m = math.Max(m, float64(v))
			}
			var s float64
			for i, v := range x {
				ref[i] = math.Exp(float64(v) - m)
				s += ref[i]
			}
			sum, mx := softmaxC(x, 0.5)
			if float64(mx) != m || math.Abs(float64(sum)-s) > 1e-6*s {
				t.Errorf("simd=%d n=%d: sum %v max %v, want %v %v", avx, n, sum, mx, s, m)
			}
			for i := range x {
				if want := 0.5 * ref[i] / s; math.Abs(float64(x[i])-want) > 1e-6*want+1e-12 {
					t.Fatalf("simd=%d n=%d: p[%d] = %v, want %v", avx, n, i, x[i], want)
				}
			}
		}
		const T = 11
		p := randn(r, T*T, 2)
		softmaxCausalC(p, T, 0, T)
		for i := 0; i < T; i++ {
			var s float64
			for j := 0; j < T; j++ {
				if j > i && p[i*T+j] != 0 {
					t.Fatalf("causal softmax: p[%d][%d] = %v above the diagonal", i, j, p[i*T+j])
				}
				s += float64(p[i*T+j])
			}
			if math.Abs(s-1) > 1e-6 {
				t.Errorf("causal softmax row %d sums to %v", i, s)
			}
		}
	}
}

// The C LayerNorm (both paths, widths that are and are not multiples of 8) matches
// a float64 LayerNorm and its analytic backward.
func TestLayernormC(t *testing.T) {
	saved := simdLevel
	defer func() { simdLevel = saved }()
	r := NewRNG(5)
	for avx := 0; avx <= saved; avx++ {
		simdLevel = avx
		for _, C := range []int{5, 13, 32} {
			const rows = 3
			a, x, w, b := randn(r, rows*C, 1), randn(r, rows*C, 1), randn(r, C, 1), randn(r, C, 1)
			dout := randn(r, rows*C, 1)
			res, out, mean, rstd := make([]float32, rows*C), make([]float32, rows*C), make([]float32, rows), make([]float32, rows)
			layernormRowsC(res, out, mean, rstd, a, x, w, b, rows, C)
			dinp, pdw, pdb := make([]float32, rows*C), make([]float32, C), make([]float32, C)
			layernormBackwardRowsC(dinp, pdw, pdb, dout, res, w, mean, rstd, rows, C)
			wdw, wdb := make([]float64, C), make([]float64, C)
			for i := 0; i < rows; i++ {
				var m, v float64
				for j := 0; j < C; j++ {
					m += float64(a[i*C+j]) + float64(x[i*C+j])
				}
				m /= float64(C)
				for j := 0; j < C; j++ {
					d := float64(a[i*C+j]) + float64(x[i*C+j]) - m
					v += d * d
				}
				s := 1 / math.Sqrt(v/float64(C)+1e-5)
				var dm, dnm float64
				n := make([]float64, C)
				for j := 0; j < C; j++ {
					n[j] = (float64(a[i*C+j]) + float64(x[i*C+j]) - m) * s
					want := n[j]*float64(w[j]) + float64(b[j])
					if math.Abs(float64(out[i*C+j])-want) > 1e-5 {
						t.Fatalf("simd=%d C=%d: out[%d][%d] = %v, want %v", avx, C, i, j, out[i*C+j], want)
					}
					dn := float64(w[j]) * float64(dout[i*C+j])
					dm += dn
					dnm += dn * n[j]
					wdw[j] += n[j] * float64(dout[i*C+j])
					wdb[j] += float64(dout[i*C+j])
				}
				dm /= float64(C)
				dnm /= float64(C)
				for j := 0; j < C; j++ {
					want := (float64(w[j])*float64(dout[i*C+j]) - dm - n[j]*dnm) * s
					if math.Abs(float64(dinp[i*C+j])-want) > 1e-4*math.Max(1, math.Abs(want)) {
						t.Fatalf("simd=%d C=%d: dinp[%d][%d] = %v, want %v", avx, C, i, j, dinp[i*C+j], want)
					}
				}
			}
			for j := 0; j < C; j++ {
				if math.Abs(float64(pdw[j])-wdw[j]) > 1e-4 || math.Abs(float64(pdb[j])-wdb[j]) > 1e-4 {
					t.Fatalf("simd=%d C=%d: dw/db[%d] = %v/%v, want %v/%v", avx, C, j, pdw[j], pdb[j], wdw[j], wdb[j])
				}
			}
		}
	}
}

// The C kernels flush subnormals inside (MXCSR FTZ/DAZ) but give the caller's thread
// its floating-point mode back: Go code after them still computes subnormals.
func TestKernelsRestoreFloatMode(t *testing.T) {
	n := 64
	p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = 1e-20 // g² = 1e-40 is subnormal
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	adamwC(p, g, m, v, 1, 1e-3, 0.9, 0.95, 1, 1e-8)
	for i := range v {
		if v[i] != 0 {
			t.Fatalf("v[%d] = %g: subnormal not flushed in the kernel", i, v[i])
		}
	}
	if sub := g[0] * g[1]; sub == 0 {
		t.Fatal("Go code after a kernel call flushes subnormals: MXCSR was not restored")
	}
}

// With few rows (generation) the products split over columns; the result equals the
// single-worker row path.
func TestFewRowsColumnSplit(t *testing.T) {
	one, two := NewCPU(1), NewCPU(2)
	r := NewRNG(5)
	C, OC, V := 48, 80, 97
	for _, N := range []int{1, 3, 7} {
		inp, w, bias := randn(r, N*C, 1), randn(r, C*OC, 1), randn(r, OC, 1)
		a, b := make([]float32, N*OC), make([]float32, N*OC)
		one.MatmulForward(a, inp, w, bias, N, C, OC)
		two.MatmulForward(b, inp, w, bias, N, C, OC)
		for i := range a {
			if d := math.Abs(float64(a[i] - b[i])); d > 1e-5 {
				t.Fatalf("matmul N=%d [%d]: %g vs %g", N, i, a[i], b[i])
			}
		}
		wte := randn(r, V*C, 1)
		la, lb := make([]float32, N*V), make([]float32, N*V)
		one.ClassifierForward(la, nil, inp, wte, nil, N, C, V, 1, 0)
		two.ClassifierForward(lb, nil, inp, wte, nil, N, C, V, 1, 0)
		for i := range la {
			if d := math.Abs(float64(la[i] - lb[i])); d > 1e-5 {
				t.Fatalf("classifier N=%d [%d]: %g vs %g", N, i, la[i], lb[i])
			}
		}
	}
}

// The C AdamW (vector loops of 8 and 16, their one-at-a-time tail, and the generic
// path) agrees with the float64 formula, and the vector loops and the tail agree
// to the bit.
func TestAdamWC(t *testing.T) {
	const n = 1027 // 128 vectors of 8 and a tail of 3
	r := NewRNG(9)
	g0, p0, m0, v0 := randn(r, n, 0.1), randn(r, n, 1), randn(r, n, 0.01), make([]float32, n)
	for i := range v0 {
		v0[i] = float32(r.Float64()) * 1e-3
	}
	const lr, b1, b2, eps, decay = 1e-3, 0.9, 0.95, 1e-8, 0.9999
	const step = 3
	bc1 := 1 - math.Pow(b1, step)
	bc2 := 1 - math.Pow(b2, step)
	run := func(one bool) (p, m, v []float32) {
		p, m, v = append([]float32(nil), p0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		ss, bs := float32(lr/bc1), float32(math.Sqrt(bc2))
		if one {
			for i := range p {
				adamwC(p[i:i+1], g0[i:i+1], m[i:i+1], v[i:i+1], decay, ss, b1, b2, bs, eps)
			}
		} else {
			adamwC(p, g0, m, v, decay, ss, b1, b2, bs, eps)
		}
		return
	}
	saved := simdLevel
	defer func() { simdLevel = saved }()
	for avx := 0; avx <= saved; avx++ {
		simdLevel = avx
		p, m, v := run(false)
		for i := range p {
			g := float64(g0[i])
			mi := float64(m0[i])*b1 + (1-b1)*g
			vi := float64(v0[i])*b2 + (1-b2)*g*g
			pi := float64(p0[i])*decay - lr/bc1*mi/(math.Sqrt(vi)/math.Sqrt(bc2)+eps)
			// float32 rounding of the terms: bounds relative to their sizes, not the result's.
			if math.Abs(float64(m[i])-mi) > 1e-6*(math.Abs(float64(m0[i]))+math.Abs(g)) || math.Abs(float64(v[i])-vi) > 1e-6*vi+1e-15 ||
				math.Abs(float64(p[i])-pi) > 1e-6*math.Abs(pi)+1e-9 {
				t.Fatalf("simd=%d [%d]: p,m,v = %v %v %v, want %v %v %v", avx, i, p[i], m[i], v[i], pi, mi, vi)
			}
		}
		p1, m1, v1 := run(true)
		for i := range p {
			if avx > 0 && (p1[i] != p[i] || m1[i] != m[i] || v1[i] != v[i]) {
				t.Fatalf("[%d]: one at a time %v %v %v, vector loop %v %v %v", i, p1[i], m1[i], v1[i], p[i], m[i], v[i])
			}
		}
	}
}

// The attention loops (attention_c.go) and the sgemm row-block path agree: outputs,
// probabilities and gradients, for head sizes with and without a partial vector
// block and for T not a multiple of 16, on every SIMD level.
func TestAttentionLoopsMatchSgemm(t *testing.T) {
	savedT, savedSIMD := attLoopsMaxT, simdLevel
	defer func() { attLoopsMaxT, simdLevel = savedT, savedSIMD }()
	be := NewCPU(2)
	r := NewRNG(11)
	for _, sh := range []struct{ B, T, C, NH int }{{2, 64, 128, 4}, {1, 70, 128, 2}, {2, 17, 24, 2}, {1, 1, 32, 1}, {3, 33, 40, 5}} {
		n := sh.B * sh.T
		qkv, dout := randn(r, n*3*sh.C, 1), randn(r, n*sh.C, 1)
		run := func() (out, att, dqkv []float32) {
			out, att, dqkv = make([]float32, n*sh.C), make([]float32, sh.B*sh.NH*sh.T*sh.T), make([]float32, n*3*sh.C)
			for i := range dqkv {
				dqkv[i] = float32(math.NaN()) // every entry must be written
			}
			be.AttentionForward(out, att, qkv, sh.B, sh.T, sh.C, sh.NH, Dropout{})
			be.AttentionBackward(dqkv, dout, qkv, att, sh.B, sh.T, sh.C, sh.NH, Dropout{})
			return
		}
		attLoopsMaxT = 0
		o0, a0, d0 := run()
		attLoopsMaxT = 1 << 30
		for lvl := 0; lvl <= savedSIMD; lvl++ {
			simdLevel = lvl
			o1, a1, d1 := run()
			for _, c := range []struct {
				what string
				x, y []float32
			}{{"out", o1, o0}, {"att", a1, a0}, {"dqkv", d1, d0}} {
				if e := relErr(c.x, c.y); !(e < 2e-6) {
					t.Errorf("%+v simd=%d: %s differs from the sgemm path by %g", sh, lvl, c.what, e)
				}
			}
		}
	}
}

// The modern recipe's C kernels (recipe_c.go) against float64 math at every SIMD
// level the CPU has: soft-cap (tanh), ReLU², RMSNorm forward and backward, QK-norm
// with RoPE.
func TestRecipeKernelsC(t *testing.T) {
	saved := simdLevel
	defer func() { simdLevel = saved }()
	r := NewRNG(9)
	for lvl := 0; lvl <= saved; lvl++ {
		simdLevel = lvl
		// tanh over [-40, 40] and near 0, through the soft-cap with cap 1.
		xs := []float32{0, 1e-30, -1e-7, 1e-3, 0.3, 0.5499, 0.55, 0.5501, 1, 3, 9, 20, 40, -40}
		for i := 0; i < 2000; i++ {
			xs = append(xs, float32(r.NormFloat64()*3))
		}
		y, d := append([]float32(nil), xs...), make([]float32, len(xs))
		softcapC(y, d, 1)
		for i, x := range xs {
			want := math.Tanh(float64(x))
			if e := math.Abs(float64(y[i])-want) / math.Max(math.Abs(want), 1e-30); e > 4e-7 && math.Abs(float64(y[i])-want) > 1e-37 {
				t.Fatalf("simd=%d: tanh(%v) = %v, want %v (relative error %.3g)", lvl, x, y[i], want, e)
			}
			if math.Abs(float64(d[i])-(1-want*want)) > 1e-6 {
				t.Fatalf("simd=%d: 1-tanh²(%v) = %v, want %v", lvl, x, d[i], 1-want*want)
			}
		}
		// ReLU².
		in, dout := randn(r, 37, 1), randn(r, 37, 1)
		out, din := make([]float32, 37), make([]float32, 37)
		relu2ForwardC(out, in)
		relu2BackwardC(din, in, dout)
		for i, x := range in {
			p := math.Max(float64(x), 0)
			if float64(out[i]) != float64(float32(p*p)) || math.Abs(float64(din[i])-2*p*float64(dout[i])) > 1e-6 {
				t.Fatalf("simd=%d: relu² of %v: %v/%v", lvl, x, out[i], din[i])
			}
		}
		// RMSNorm with the residual add, forward and backward.
		for _, C := range []int{5, 13, 32} {
			const rows = 3
			a, x, w, dout := randn(r, rows*C, 1), randn(r, rows*C, 1), randn(r, C, 1), randn(r, rows*C, 1)
			res, out, rstd := make([]float32, rows*C), make([]float32, rows*C), make([]float32, rows)
			rmsnormRowsC(res, out, rstd, a, x, w, rows, C)
			dinp, pdw := make([]float32, rows*C), make([]float32, C)
			rmsnormBackwardRowsC(dinp, pdw, dout, res, w, rstd, rows, C)
			wdw := make([]float64, C)
			for i := 0; i < rows; i++ {
				var ss float64
				v := make([]float64, C)
				for j := range v {
					v[j] = float64(a[i*C+j]) + float64(x[i*C+j])
					ss += v[j] * v[j]
				}
				s := 1 / math.Sqrt(ss/float64(C)+NormEps)
				var dnm float64
				for j := range v {
					if want := v[j] * s * float64(w[j]); math.Abs(float64(out[i*C+j])-want) > 1e-5 {
						t.Fatalf("simd=%d C=%d: rms out[%d][%d] = %v, want %v", lvl, C, i, j, out[i*C+j], want)
					}
					dnm += float64(w[j]) * float64(dout[i*C+j]) * v[j] * s
					wdw[j] += v[j] * s * float64(dout[i*C+j])
				}
				dnm /= float64(C)
				for j := range v {
					want := (float64(w[j])*float64(dout[i*C+j]) - v[j]*s*dnm) * s
					if math.Abs(float64(dinp[i*C+j])-want) > 1e-4*math.Max(1, math.Abs(want)) {
						t.Fatalf("simd=%d C=%d: rms dinp[%d][%d] = %v, want %v", lvl, C, i, j, dinp[i*C+j], want)
					}
				}
			}
			for j := range wdw {
				if math.Abs(float64(pdw[j])-wdw[j]) > 1e-4 {
					t.Fatalf("simd=%d C=%d: rms dw[%d] = %v, want %v", lvl, C, j, pdw[j], wdw[j])
				}
			}
		}
		// QK-norm and RoPE of 3 rows (T=2: positions 5, 6, 5 with T0=5), 2 heads of 6.
		const C, NH, hs, T, T0 = 12, 2, 6, 2, 5
		qkv := randn(r, 3*3*C, 1)
		got, rstd := append([]float32(nil), qkv...), make([]float32, 3*2*NH)
		cs, sn := RopeTables(T0+T, hs)
		qkForwardC(got, rstd, cs, sn, 3, 0, T, T0, C, NH, true, true)
		for row := 0; row < 3; row++ {
			pos := T0 + row%T
			for part := 0; part < 2; part++ {
				for h := 0; h < NH; h++ {
					x := qkv[row*3*C+part*C+h*hs:][:hs]
					var ss float64
					for _, v := range x {
						ss += float64(v) * float64(v)
					}
					s := 1 / math.Sqrt(ss/hs+NormEps)
					for i := 0; i < hs/2; i++ {
						ang := float64(pos) * math.Pow(RopeTheta, -float64(2*i)/hs)
						x1, x2 := float64(x[i])*s, float64(x[i+hs/2])*s
						w1, w2 := x1*math.Cos(ang)-x2*math.Sin(ang), x2*math.Cos(ang)+x1*math.Sin(ang)
						g := got[row*3*C+part*C+h*hs:]
						if math.Abs(float64(g[i])-w1) > 1e-5 || math.Abs(float64(g[i+hs/2])-w2) > 1e-5 {
							t.Fatalf("simd=%d: qk row %d part %d head %d pair %d: %v %v, want %v %v", lvl, row, part, h, i, g[i], g[i+hs/2], w1, w2)
						}
					}
				}
			}
			if v := got[row*3*C+2*C : row*3*C+3*C]; relErr(v, qkv[row*3*C+2*C:row*3*C+3*C]) != 0 {
				t.Fatalf("simd=%d: qk changed the values of row %d", lvl, row)
			}
		}
	}
}

// addIntoC adds exactly what a Go loop adds, at every SIMD level.
func TestAddIntoC(t *testing.T) {
	saved := simdLevel
	defer func() { simdLevel = saved }()
	r := NewRNG(4)
	for lvl := 0; lvl <= saved; lvl++ {
		simdLevel = lvl
		for _, n := range []int{0, 1, 15, 16, 37, 1000} {
			g, x := randn(r, n, 1), randn(r, n, 3)
			want := append([]float32(nil), g...)
			for i := range want {
				want[i] += x[i]
			}
			addIntoC(g, x)
			for i := range g {
				if g[i] != want[i] {
					t.Fatalf("simd=%d n=%d [%d]: %v, want %v", lvl, n, i, g[i], want[i])
				}
			}
		}
	}
}
