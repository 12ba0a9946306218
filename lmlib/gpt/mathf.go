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

func sqrtf(x float32) float32 { return float32(math.Sqrt(float64(x))) }
