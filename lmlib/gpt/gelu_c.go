package gpt

/*
#cgo CFLAGS: -O3
#pragma GCC optimize ("no-trapping-math") // lets GCC if-convert the clamps and vectorise
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// GELU (tanh approximation) as x·σ(2u), u = √(2/π)(x+0.044715x³), since
// 0.5(1+tanh u) = σ(2u): no cancellation for negative x, where 1+tanh u loses all
// digits. golem_sigmoid2u returns σ(2u) with a float32 exp (range reduction by ln 2,
// degree-6 polynomial, 2ⁿ built in the exponent bits), branch-free so the compiler
// vectorises the loops.
static inline float golem_sigmoid2u(float x) {
	float v = -1.5957691216057308f * (x + 0.044715f * x * x * x); // -2u
	v = v > 87.0f ? 87.0f : v;
	v = v < -87.0f ? -87.0f : v;
	float n = v * 1.44269504088896341f + 12582912.0f;
	n -= 12582912.0f;
	float r = v - n * 0.693359375f - n * -2.12194440e-4f;
	float p = ((((((1.0f/720)*r + 1.0f/120)*r + 1.0f/24)*r + 1.0f/6)*r + 0.5f)*r + 1.0f)*r + 1.0f;
	int32_t bits = ((int32_t)n + 127) << 23;
	float scale;
	memcpy(&scale, &bits, 4);
	return 1.0f / (1.0f + p * scale);
}

#define GELU_FWD_BODY                                 \
	for (ptrdiff_t i = 0; i < n; i++) {               \
		float x = inp[i];                             \
		out[i] = x * golem_sigmoid2u(x);              \
	}

// d/dx x·σ(2u) = σ + 2x·σ(1-σ)·u', u' = √(2/π)(1+3·0.044715x²).
#define GELU_BWD_BODY                                                                        \
	for (ptrdiff_t i = 0; i < n; i++) {                                                      \
		float x = inp[i];                                                                    \
		float s = golem_sigmoid2u(x);                                                        \
		float g = s + 2.0f * x * s * (1.0f - s) * 0.7978845608028654f * (1.0f + 0.134145f * x * x); \
		dinp[i] = g * dout[i];                                                               \
	}

__attribute__((target("avx2,fma")))
static void gelu_fwd_avx2(float *restrict out, const float *restrict inp, ptrdiff_t n) { GELU_FWD_BODY }
static void gelu_fwd_generic(float *restrict out, const float *restrict inp, ptrdiff_t n) { GELU_FWD_BODY }
__attribute__((target("avx2,fma")))
static void gelu_bwd_avx2(float *dinp, const float *inp, const float *dout, ptrdiff_t n) { GELU_BWD_BODY }
static void gelu_bwd_generic(float *dinp, const float *inp, const float *dout, ptrdiff_t n) { GELU_BWD_BODY }

static int golem_has_avx2(void) {
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static void golem_gelu_fwd(float *out, const float *inp, ptrdiff_t n, int avx2) {
	if (avx2) gelu_fwd_avx2(out, inp, n); else gelu_fwd_generic(out, inp, n);
}
static void golem_gelu_bwd(float *dinp, const float *inp, const float *dout, ptrdiff_t n, int avx2) {
	if (avx2) gelu_bwd_avx2(dinp, inp, dout, n); else gelu_bwd_generic(dinp, inp, dout, n);
}
*/
import "C"

import "unsafe"

// GELU is the one elementwise op written in C: Go does not vectorise, and the
// tanh-GELU over the (N,4C) MLP activations was a third of a baby training step's
// CPU time as a Go loop; the C loop (AVX2 when the CPU has it) is about 10× faster.
var hasAVX2 = C.golem_has_avx2() != 0

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// geluForwardC: out[i] = gelu(inp[i]); out may alias inp.
func geluForwardC(out, inp []float32) {
	if len(inp) == 0 {
		return
	}
	C.golem_gelu_fwd((*C.float)(unsafe.Pointer(&out[0])), (*C.float)(unsafe.Pointer(&inp[0])), C.ptrdiff_t(len(inp)), cBool(hasAVX2))
}

// geluBackwardC: dinp[i] = gelu'(inp[i])·dout[i]; dinp may alias dout.
func geluBackwardC(dinp, inp, dout []float32) {
	if len(inp) == 0 {
		return
	}
	C.golem_gelu_bwd((*C.float)(unsafe.Pointer(&dinp[0])), (*C.float)(unsafe.Pointer(&inp[0])), (*C.float)(unsafe.Pointer(&dout[0])), C.ptrdiff_t(len(inp)), cBool(hasAVX2))
}
