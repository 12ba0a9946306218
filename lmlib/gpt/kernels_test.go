package gpt

import (
	"math"
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
	saved := hasAVX2
	defer func() { hasAVX2 = saved }()
	for _, avx := range []bool{false, saved} {
		hasAVX2 = avx
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
				t.Errorf("avx2=%v gelu(%v) = %v, want %v", avx, x, out[i], g)
			}
			if e := math.Abs(float64(d[i]) - dg); e > 2e-6 {
				t.Errorf("avx2=%v gelu'(%v) = %v, want %v", avx, x, d[i], dg)
			}
		}
	}
}

// The C softmax (both paths) matches float64, including rows longer than 8 and
// with large offsets; the causal variant zeroes the upper triangle.
func TestSoftmaxC(t *testing.T) {
	saved := hasAVX2
	defer func() { hasAVX2 = saved }()
	r := NewRNG(4)
	for _, avx := range []bool{false, saved} {
		hasAVX2 = avx
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
				t.Errorf("avx2=%v n=%d: sum %v max %v, want %v %v", avx, n, sum, mx, s, m)
			}
			for i := range x {
				if want := 0.5 * ref[i] / s; math.Abs(float64(x[i])-want) > 1e-6*want+1e-12 {
					t.Fatalf("avx2=%v n=%d: p[%d] = %v, want %v", avx, n, i, x[i], want)
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
