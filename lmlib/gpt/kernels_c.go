package gpt

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
// no-trapping-math lets GCC if-convert the clamps and vectorise the loops, and
// no-math-errno lets sqrtf become one instruction. No
// reassociation is allowed (the exp's range reduction depends on evaluation order);
// reductions use explicit partial sums instead.
#pragma GCC optimize ("no-trapping-math", "no-math-errno")
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <immintrin.h>

#include "ftz.h" // GOLEM_FTZ_BEGIN/END around every entry point: subnormals flushed inside
#include "softmax.h" // golem_expf, SOFTMAX_BODY (shared with attention_c.go)

// GELU (tanh approximation) as x·σ(2u), u = √(2/π)(x+0.044715x³), since
// 0.5(1+tanh u) = σ(2u): no cancellation for negative x, where 1+tanh u loses all
// digits. golem_sigmoid2u returns σ(2u) with a float32 exp (range reduction by ln 2,
// degree-6 polynomial, 2ⁿ built in the exponent bits), branch-free so the compiler
// vectorises the loops. -2u is clamped to [-87, 40]: σ(-40) ≈ 4e-18 is as good as 0
// next to float32 rounding, and the if-converted code evaluates the clamped branch
// for every element, where x·σ(-87) would be a subnormal product (microcode assists
// made the forward pass 2.6× slower than with the 40 bound). It keeps its own copy of
// golem_expf's steps (softmax.h): calling golem_expf instead (one more clamp, the
// final product no longer fused into 1 + p·2ⁿ) made GELU 30% slower.
static inline float golem_sigmoid2u(float x) {
	float v = -1.5957691216057308f * (x + 0.044715f * x * x * x); // -2u
	v = v > 40.0f ? 40.0f : v;
	v = v < -87.0f ? -87.0f : v;
	float n = (float)((int32_t)(v * 1.44269504088896341f + 128.5f) - 128); // round(v·log2 e), v clamped
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
// GELU is compute-bound (the exp's polynomial and a division per element): 512-bit
// vectors halve it where the CPU has them. The row kernels below stay at 256 bits
// (C = 128 wide rows ran slower at 512).
#define GOLEM_AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl,avx512dq,avx512bw,prefer-vector-width=512")))
GOLEM_AVX512
static void gelu_fwd_avx512(float *restrict out, const float *restrict inp, ptrdiff_t n) { GELU_FWD_BODY }
GOLEM_AVX512
static void gelu_bwd_avx512(float *dinp, const float *inp, const float *dout, ptrdiff_t n) { GELU_BWD_BODY }


__attribute__((target("avx2,fma")))
static golem_sm softmax_avx2(float *x, ptrdiff_t n, float mul) { SOFTMAX_BODY }
static golem_sm softmax_generic(float *x, ptrdiff_t n, float mul) { SOFTMAX_BODY }

static golem_sm golem_softmax_row(float *x, ptrdiff_t n, float mul, int avx2) {
	return avx2 ? softmax_avx2(x, n, mul) : softmax_generic(x, n, mul);
}

static golem_sm golem_softmax(float *x, ptrdiff_t n, float mul, int avx2) {
	GOLEM_FTZ_BEGIN
	golem_sm r = golem_softmax_row(x, n, mul, avx2);
	GOLEM_FTZ_END
	return r;
}

// Causal softmax of rows [r0, r1) of the T×T matrix P: row t over columns 0..t,
// columns after t set to zero.
static void golem_softmax_causal(float *P, ptrdiff_t T, ptrdiff_t r0, ptrdiff_t r1, int avx2) {
	GOLEM_FTZ_BEGIN
	for (ptrdiff_t t = r0; t < r1; t++) {
		float *row = P + t * T;
		golem_softmax_row(row, t + 1, 1.0f, avx2);
		memset(row + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
	}
	GOLEM_FTZ_END
}

// One AdamW step over n parameters (PyTorch's torch.optim.AdamW formula):
// p = p·decay − step·m/(√v/bc2sqrt + eps), m = m + (g − m)(1 − β1), v = β2·v + (1 − β2)g².
#define ADAMW_BODY                                                       \
	for (ptrdiff_t i = 0; i < n; i++) {                                  \
		float g = gr[i];                                                 \
		float mi = m[i] + (g - m[i]) * omb1;                             \
		float vi = v[i] * b2 + g * g * omb2;                             \
		m[i] = mi;                                                       \
		v[i] = vi;                                                       \
		p[i] = p[i] * decay - step * mi / (sqrtf(vi) / bc2sqrt + eps);   \
	}

#define ADAMW_ARGS float *restrict p, const float *restrict gr, float *restrict m, float *restrict v, \
	ptrdiff_t n, float decay, float step, float omb1, float b2, float omb2, float bc2sqrt, float eps
// The vector loop of AdamW over W floats at a time, with the intrinsics of prefix P
// (_mm256, _mm512) on vectors of type V, leaving i at the first element it did not
// take. Square root and divisions are correctly rounded at any width, so the 256-
// and 512-bit loops give the same bits.
#define ADAMW_VLOOP(V, P, W)                                                          \
	V vomb1 = P##_set1_ps(omb1), vb2 = P##_set1_ps(b2), vomb2 = P##_set1_ps(omb2);    \
	V vbc = P##_set1_ps(bc2sqrt), veps = P##_set1_ps(eps);                            \
	V vdecay = P##_set1_ps(decay), vstep = P##_set1_ps(step);                         \
	for (; i + W <= n; i += W) {                                                      \
		V g = P##_loadu_ps(gr + i), mo = P##_loadu_ps(m + i);                         \
		V vo = P##_loadu_ps(v + i), po = P##_loadu_ps(p + i);                         \
		V mi = P##_fmadd_ps(P##_sub_ps(g, mo), vomb1, mo);                            \
		V vi = P##_fmadd_ps(P##_mul_ps(g, g), vomb2, P##_mul_ps(vo, vb2));            \
		V den = P##_add_ps(P##_div_ps(P##_sqrt_ps(vi), vbc), veps);                   \
		V upd = P##_div_ps(P##_mul_ps(vstep, mi), den);                               \
		P##_storeu_ps(m + i, mi);                                                     \
		P##_storeu_ps(v + i, vi);                                                     \
		P##_storeu_ps(p + i, P##_fmadd_ps(po, vdecay, P##_sub_ps(P##_setzero_ps(), upd))); \
	}

__attribute__((target("avx2,fma")))
static void adamw_avx2(ADAMW_ARGS) {
	// Written with intrinsics: GCC keeps sqrtf's errno path (a libm call per element,
	// no vectorisation) unless -fno-math-errno is on the command line, and cgo does
	// not pass that flag (the pragma above does not reach sqrtf). Measured: 3.0 →
	// 0.4 ns/parameter. The tail runs the same operations (explicit FMAs) one at a time.
	ptrdiff_t i = 0;
	ADAMW_VLOOP(__m256, _mm256, 8)
	for (; i < n; i++) {
		float g = gr[i];
		float mi = fmaf(g - m[i], omb1, m[i]);
		float vi = fmaf(g * g, omb2, v[i] * b2);
		m[i] = mi;
		v[i] = vi;
		p[i] = fmaf(p[i], decay, -(step * mi / (sqrtf(vi) / bc2sqrt + eps)));
	}
}
static void adamw_generic(ADAMW_ARGS) { ADAMW_BODY }

// 16 floats at a time: the two divisions and the square root were the AVX2 loop's
// cost (0.8M parameters: 0.86 → 0.53 ms).
GOLEM_AVX512
static void adamw_avx512(ADAMW_ARGS) {
	ptrdiff_t i = 0;
	ADAMW_VLOOP(__m512, _mm512, 16)
	if (i < n) adamw_avx2(p + i, gr + i, m + i, v + i, n - i, decay, step, omb1, b2, omb2, bc2sqrt, eps);
}

static void golem_adamw(ADAMW_ARGS, int simd) {
	GOLEM_FTZ_BEGIN
	if (simd >= 2) adamw_avx512(p, gr, m, v, n, decay, step, omb1, b2, omb2, bc2sqrt, eps);
	else if (simd) adamw_avx2(p, gr, m, v, n, decay, step, omb1, b2, omb2, bc2sqrt, eps);
	else adamw_generic(p, gr, m, v, n, decay, step, omb1, b2, omb2, bc2sqrt, eps);
	GOLEM_FTZ_END
}

// g[i] += x[i]: the shards' gradients added into the model's (shard.go), in the
// order of the calls. Vectorised (GCC at -O3), the same sums as one at a time.
static void add_into_generic(float *restrict g, const float *restrict x, ptrdiff_t n) { for (ptrdiff_t i = 0; i < n; i++) g[i] += x[i]; }
GOLEM_AVX512
static void add_into_avx512(float *restrict g, const float *restrict x, ptrdiff_t n) { for (ptrdiff_t i = 0; i < n; i++) g[i] += x[i]; }
static void golem_add_into(float *g, const float *x, ptrdiff_t n, int simd) {
	GOLEM_FTZ_BEGIN
	if (simd >= 2) add_into_avx512(g, x, n);
	else add_into_generic(g, x, n);
	GOLEM_FTZ_END
}

// LayerNorm over rows [0,rows) of width C (ε = 1e-5). With a != NULL the input is
// the residual sum res = a + xb, written to res first (fused residual add). Sums use
// eight partial accumulators so they vectorise without reassociation flags.
#define SUM8(expr, out)                                                   \
	{                                                                     \
		float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                          \
		ptrdiff_t j = 0;                                                  \
		for (; j + 8 <= C; j += 8)                                        \
			for (int k = 0; k < 8; k++) { ptrdiff_t jj = j + k; acc[k] += (expr); } \
		float t = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])); \
		for (; j < C; j++) { ptrdiff_t jj = j; t += (expr); }             \
		out = t;                                                          \
	}

#define LN_FWD_BODY                                                       \
	for (ptrdiff_t i = 0; i < rows; i++) {                                \
		const float *x;                                                   \
		if (a) {                                                          \
			float *r = res + i * C;                                       \
			const float *ai = a + i * C, *bi = xb + i * C;                \
			for (ptrdiff_t j = 0; j < C; j++) r[j] = ai[j] + bi[j];       \
			x = r;                                                        \
		} else {                                                          \
			x = xb + i * C;                                               \
		}                                                                 \
		float m, v;                                                       \
		SUM8(x[jj], m);                                                   \
		m /= (float)C;                                                    \
		SUM8((x[jj] - m) * (x[jj] - m), v);                               \
		v /= (float)C;                                                    \
		float s = 1.0f / sqrtf(v + 1e-5f);                                \
		float *o = out + i * C;                                           \
		if (b) for (ptrdiff_t j = 0; j < C; j++) o[j] = (x[j] - m) * s * w[j] + b[j]; \
		else for (ptrdiff_t j = 0; j < C; j++) o[j] = (x[j] - m) * s * w[j]; \
		mean[i] = m;                                                      \
		rstd[i] = s;                                                      \
	}

#define LN_FWD_ARGS float *restrict res, float *restrict out, float *restrict mean, float *restrict rstd, const float *restrict a, const float *restrict xb, \
	const float *w, const float *b, ptrdiff_t rows, ptrdiff_t C
__attribute__((target("avx2,fma")))
static void ln_fwd_avx2(LN_FWD_ARGS) { LN_FWD_BODY }
static void ln_fwd_generic(LN_FWD_ARGS) { LN_FWD_BODY }
static void golem_ln_fwd(LN_FWD_ARGS, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) ln_fwd_avx2(res, out, mean, rstd, a, xb, w, b, rows, C);
	else ln_fwd_generic(res, out, mean, rstd, a, xb, w, b, rows, C);
	GOLEM_FTZ_END
}

// LayerNorm backward over rows: dinp += ∂, pdw += Σ n·dout, pdb += Σ dout.
#define LN_BWD_BODY                                                       \
	for (ptrdiff_t i = 0; i < rows; i++) {                                \
		const float *d = dout + i * C, *x = inp + i * C;                  \
		float *di = dinp + i * C;                                         \
		float m = mean[i], s = rstd[i], dm, dnm;                          \
		SUM8(w[jj] * d[jj], dm);                                          \
		SUM8(w[jj] * d[jj] * ((x[jj] - m) * s), dnm);                     \
		dm /= (float)C;                                                   \
		dnm /= (float)C;                                                  \
		for (ptrdiff_t j = 0; j < C; j++) {                               \
			float n = (x[j] - m) * s;                                     \
			pdb[j] += d[j];                                               \
			pdw[j] += n * d[j];                                           \
			di[j] += (w[j] * d[j] - dm - n * dnm) * s;                    \
		}                                                                 \
	}

// restrict (every caller passes distinct buffers): without it GCC guarded the
// three-output loop with alias checks and LayerNorm backward ran 3.5× slower
// (1.15 against 0.33 ms per baby step).
#define LN_BWD_ARGS float *restrict dinp, float *restrict pdw, float *restrict pdb, const float *restrict dout, const float *restrict inp, \
	const float *w, const float *mean, const float *rstd, ptrdiff_t rows, ptrdiff_t C
__attribute__((target("avx2,fma")))
static void ln_bwd_avx2(LN_BWD_ARGS) { LN_BWD_BODY }
static void ln_bwd_generic(LN_BWD_ARGS) { LN_BWD_BODY }
static void golem_ln_bwd(LN_BWD_ARGS, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) ln_bwd_avx2(dinp, pdw, pdb, dout, inp, w, mean, rstd, rows, C);
	else ln_bwd_generic(dinp, pdw, pdb, dout, inp, w, mean, rstd, rows, C);
	GOLEM_FTZ_END
}

// 0: generic C, 1: AVX2 and FMA, 2: AVX-512 (F, VL, DQ, BW) too.
static int golem_simd_level(void) {
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) return 2;
	return 1;
}

static void golem_gelu_fwd(float *out, const float *inp, ptrdiff_t n, int simd) {
	GOLEM_FTZ_BEGIN
	if (simd >= 2) gelu_fwd_avx512(out, inp, n);
	else if (simd) gelu_fwd_avx2(out, inp, n);
	else gelu_fwd_generic(out, inp, n);
	GOLEM_FTZ_END
}
static void golem_gelu_bwd(float *dinp, const float *inp, const float *dout, ptrdiff_t n, int simd) {
	GOLEM_FTZ_BEGIN
	if (simd >= 2) gelu_bwd_avx512(dinp, inp, dout, n);
	else if (simd) gelu_bwd_avx2(dinp, inp, dout, n);
	else gelu_bwd_generic(dinp, inp, dout, n);
	GOLEM_FTZ_END
}
*/
import "C"

import "unsafe"

// GELU, softmax, LayerNorm and the AdamW update are the row/elementwise ops written in C: Go does not vectorise, and
// their exponentials dominated as Go loops (the tanh-GELU over the (N,4C) MLP
// activations was a third of a baby training step's CPU time); the C loops (AVX2
// when the CPU has it, AVX-512 for GELU, chosen at run time) are 5–10× faster.
//
// simdLevel is the widest vector path the kernels take: 0 generic C, 1 AVX2 and
// FMA, 2 AVX-512 (tests set it lower to check every path).
var simdLevel = int(C.golem_simd_level())

// geluForwardC: out[i] = gelu(inp[i]); out may alias inp.
func geluForwardC(out, inp []float32) {
	if len(inp) == 0 {
		return
	}
	C.golem_gelu_fwd((*C.float)(unsafe.Pointer(&out[0])), (*C.float)(unsafe.Pointer(&inp[0])), C.ptrdiff_t(len(inp)), C.int(simdLevel))
}

// geluBackwardC: dinp[i] = gelu'(inp[i])·dout[i]; dinp may alias dout.
func geluBackwardC(dinp, inp, dout []float32) {
	if len(inp) == 0 {
		return
	}
	C.golem_gelu_bwd((*C.float)(unsafe.Pointer(&dinp[0])), (*C.float)(unsafe.Pointer(&inp[0])), (*C.float)(unsafe.Pointer(&dout[0])), C.ptrdiff_t(len(inp)), C.int(simdLevel))
}

// softmaxC turns x into softmax(x)·mul in place and returns Σ e^(x-max) and max.
func softmaxC(x []float32, mul float32) (sum, max float32) {
	r := C.golem_softmax((*C.float)(unsafe.Pointer(&x[0])), C.ptrdiff_t(len(x)), C.float(mul), C.int(simdLevel))
	return float32(r.sum), float32(r.max)
}

// softmaxCausalC applies the causal softmax to rows [r0,r1) of the T×T matrix p.
func softmaxCausalC(p []float32, T, r0, r1 int) {
	C.golem_softmax_causal((*C.float)(unsafe.Pointer(&p[0])), C.ptrdiff_t(T), C.ptrdiff_t(r0), C.ptrdiff_t(r1), C.int(simdLevel))
}

// adamwC applies one AdamW step to p, g, m, v (same length); see golem_adamw.
func adamwC(p, g, m, v []float32, decay, step, beta1, beta2, bc2sqrt, eps float32) {
	if len(p) == 0 {
		return
	}
	C.golem_adamw((*C.float)(unsafe.Pointer(&p[0])), (*C.float)(unsafe.Pointer(&g[0])),
		(*C.float)(unsafe.Pointer(&m[0])), (*C.float)(unsafe.Pointer(&v[0])), C.ptrdiff_t(len(p)),
		C.float(decay), C.float(step), C.float(1-beta1), C.float(beta2), C.float(1-beta2), C.float(bc2sqrt), C.float(eps),
		C.int(simdLevel))
}

// addIntoC: g[i] += x[i] (same length).
func addIntoC(g, x []float32) {
	if len(g) == 0 {
		return
	}
	C.golem_add_into(fptr(g), fptr(x), C.ptrdiff_t(len(g)), C.int(simdLevel))
}

func fptr(x []float32) *C.float {
	if x == nil {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&x[0]))
}

// layernormRowsC: LayerNorm of rows (each C wide) of xb, or of res = a + xb (written
// to res) when a is not nil; b may be nil.
func layernormRowsC(res, out, mean, rstd, a, xb, w, b []float32, rows, width int) {
	if rows == 0 {
		return
	}
	C.golem_ln_fwd(fptr(res), fptr(out), fptr(mean), fptr(rstd), fptr(a), fptr(xb), fptr(w), fptr(b),
		C.ptrdiff_t(rows), C.ptrdiff_t(width), C.int(simdLevel))
}

// layernormBackwardRowsC: dinp += LayerNorm backward; pdw, pdb (width) accumulate.
func layernormBackwardRowsC(dinp, pdw, pdb, dout, inp, w, mean, rstd []float32, rows, width int) {
	if rows == 0 {
		return
	}
	C.golem_ln_bwd(fptr(dinp), fptr(pdw), fptr(pdb), fptr(dout), fptr(inp), fptr(w), fptr(mean), fptr(rstd),
		C.ptrdiff_t(rows), C.ptrdiff_t(width), C.int(simdLevel))
}
