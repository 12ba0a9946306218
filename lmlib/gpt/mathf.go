package gpt

import "math"

// expf is a float32 exp accurate to about 2 ulp: range reduction by ln 2 and a
// degree-6 polynomial. It is 5–10× faster than math.Exp, which matters in the
// attention softmax and GELU.
func expf(x float32) float32 {
	if x > 88.3762626647949 {
		return float32(math.Inf(1))
	}
	if x < -87.33654 {
		return 0
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	n := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - n*ln2hi - n*ln2lo
	// e^r on |r| ≤ ln2/2, Taylor to r⁶.
	p := float32(1.0 / 720)
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// tanhf is tanh via expf.
func tanhf(x float32) float32 {
	if x > 9 {
		return 1
	}
	if x < -9 {
		return -1
	}
	if x > -0.04 && x < 0.04 { // avoid cancellation near 0: odd series
		x2 := x * x
		return x * (1 - x2*(1.0/3-x2*(2.0/15)))
	}
	e := expf(2 * x)
	return (e - 1) / (e + 1)
}

const geluScale = 0.7978845608028654 // √(2/π)

func gelu(x float32) float32 {
	u := geluScale * (x + 0.044715*x*x*x)
	return 0.5 * x * (1 + tanhf(u))
}

func geluGrad(x float32) float32 {
	u := geluScale * (x + 0.044715*x*x*x)
	t := tanhf(u)
	return 0.5*(1+t) + 0.5*x*(1-t*t)*geluScale*(1+3*0.044715*x*x)
}

func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }
