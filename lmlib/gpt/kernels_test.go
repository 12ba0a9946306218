package gpt

import (
	"math"
	"testing"
)

// The C GELU (AVX2 and generic paths) and the Go expf agree with float64 math.
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
	for _, x := range xs {
		if x < -80 || x > 80 {
			continue
		}
		if e := math.Abs(float64(expf(x))-math.Exp(float64(x))) / math.Exp(float64(x)); e > 5e-7 {
			t.Errorf("expf(%v) = %v, want %v (relative error %.3g)", x, expf(x), math.Exp(float64(x)), e)
		}
	}
	if expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Errorf("expf range: %v %v", expf(-100), expf(100))
	}
}
