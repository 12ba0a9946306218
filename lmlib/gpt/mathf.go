package gpt

import "math"

// expf is a float32 exp accurate to about 2 ulp: x = n·ln2 + r with n rounded by
// the 1.5·2²³ trick, e^r by a degree-6 polynomial, 2ⁿ built in the exponent bits.
// It is several times faster than math.Exp, which matters in softmax and GELU.
func expf(x float32) float32 {
	if x > 88.3762626647949 {
		return float32(math.Inf(1))
	}
	if x < -87.33654 {
		return 0
	}
	return expfCore(x)
}

// expfCore is expf without the range checks: x must be in [-87.3, 88.3].
func expfCore(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912 // 1.5·2²³: adding it rounds to an integer
	)
	n := x*log2e + magic
	n -= magic
	r := x - n*ln2hi - n*ln2lo
	p := ((((((1.0/720)*r+1.0/120)*r+1.0/24)*r+1.0/6)*r+0.5)*r+1)*r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// tanhf is tanh via expf: 1 - 2/(e^{2x}+1), with the odd series near 0 where that
// form cancels.
func tanhf(x float32) float32 {
	if x > 9 {
		return 1
	}
	if x < -9 {
		return -1
	}
	if x > -0.04 && x < 0.04 {
		x2 := x * x
		return x * (1 - x2*(1.0/3-x2*(2.0/15)))
	}
	return 1 - 2/(expfCore(2*x)+1)
}

const geluScale = 0.7978845608028654 // √(2/π)

// geluTanh returns tanh(√(2/π)(x+0.044715x³)), the inner term of tanh-GELU, with
// the argument clamped to ±9 (tanh is ±1 there in float32). Small enough to inline.
func geluTanh(x float32) float32 {
	u := 2 * geluScale * (x + 0.044715*x*x*x)
	if u > 18 {
		u = 18
	} else if u < -18 {
		u = -18
	}
	return 1 - 2/(expfCore(u)+1)
}

func gelu(x float32) float32 { return 0.5 * x * (1 + geluTanh(x)) }

func geluGrad(x float32) float32 {
	t := geluTanh(x)
	return 0.5*(1+t) + 0.5*x*(1-t*t)*geluScale*(1+3*0.044715*x*x)
}

func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }
