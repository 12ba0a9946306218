package gpt

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
// The modern recipe's row and elementwise kernels (Config switches RMSNorm, QKNorm,
// Rotary, ReLU2, SoftCap), in the style of kernels_c.go: explicit partial sums (no
// reassociation), every entry point between GOLEM_FTZ_BEGIN/END, a generic and an
// AVX2+FMA version of each chosen at run time.
#pragma GCC optimize ("no-trapping-math", "no-math-errno")
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#include "ftz.h"
#include "softmax.h" // golem_expf

#define RSUM8(expr, n, out)                                               \
	{                                                                     \
		float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                          \
		ptrdiff_t j = 0;                                                  \
		for (; j + 8 <= (n); j += 8)                                      \
			for (int k = 0; k < 8; k++) { ptrdiff_t jj = j + k; acc[k] += (expr); } \
		float t = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])); \
		for (; j < (n); j++) { ptrdiff_t jj = j; t += (expr); }           \
		out = t;                                                          \
	}

// RMSNorm over rows [0,rows) of width C: out = x·s·w, s = 1/√(mean x² + eps). With
// a != NULL the input is res = a + xb, written to res first (fused residual add).
#define RMS_FWD_BODY                                                      \
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
		float ss;                                                         \
		RSUM8(x[jj] * x[jj], C, ss);                                      \
		float s = 1.0f / sqrtf(ss / (float)C + eps);                      \
		float *o = out + i * C;                                           \
		for (ptrdiff_t j = 0; j < C; j++) o[j] = x[j] * s * w[j];         \
		rstd[i] = s;                                                      \
	}
#define RMS_FWD_ARGS float *restrict res, float *restrict out, float *restrict rstd, const float *restrict a, const float *restrict xb, \
	const float *w, ptrdiff_t rows, ptrdiff_t C, float eps
__attribute__((target("avx2,fma")))
static void rms_fwd_avx2(RMS_FWD_ARGS) { RMS_FWD_BODY }
static void rms_fwd_generic(RMS_FWD_ARGS) { RMS_FWD_BODY }
static void golem_rms_fwd(RMS_FWD_ARGS, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) rms_fwd_avx2(res, out, rstd, a, xb, w, rows, C, eps);
	else rms_fwd_generic(res, out, rstd, a, xb, w, rows, C, eps);
	GOLEM_FTZ_END
}

// RMSNorm backward over rows, n = x·s: dinp += (w·d − n·mean(w·d·n))·s, pdw += n·d.
#define RMS_BWD_BODY                                                      \
	for (ptrdiff_t i = 0; i < rows; i++) {                                \
		const float *d = dout + i * C, *x = inp + i * C;                  \
		float *di = dinp + i * C;                                         \
		float s = rstd[i], dnm;                                           \
		RSUM8(w[jj] * d[jj] * (x[jj] * s), C, dnm);                       \
		dnm /= (float)C;                                                  \
		for (ptrdiff_t j = 0; j < C; j++) {                               \
			float n = x[j] * s;                                           \
			pdw[j] += n * d[j];                                           \
			di[j] += (w[j] * d[j] - n * dnm) * s;                         \
		}                                                                 \
	}
#define RMS_BWD_ARGS float *restrict dinp, float *restrict pdw, const float *restrict dout, const float *restrict inp, \
	const float *w, const float *rstd, ptrdiff_t rows, ptrdiff_t C
__attribute__((target("avx2,fma")))
static void rms_bwd_avx2(RMS_BWD_ARGS) { RMS_BWD_BODY }
static void rms_bwd_generic(RMS_BWD_ARGS) { RMS_BWD_BODY }
static void golem_rms_bwd(RMS_BWD_ARGS, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) rms_bwd_avx2(dinp, pdw, dout, inp, w, rstd, rows, C);
	else rms_bwd_generic(dinp, pdw, dout, inp, w, rstd, rows, C);
	GOLEM_FTZ_END
}

// ReLU²: out = max(x,0)²; backward dinp = 2·max(x,0)·dout (dinp may alias dout).
#define RELU2_FWD_BODY for (ptrdiff_t i = 0; i < n; i++) { float x = inp[i] > 0 ? inp[i] : 0; out[i] = x * x; }
#define RELU2_BWD_BODY for (ptrdiff_t i = 0; i < n; i++) { float x = inp[i] > 0 ? inp[i] : 0; dinp[i] = 2.0f * x * dout[i]; }
__attribute__((target("avx2,fma")))
static void relu2_fwd_avx2(float *restrict out, const float *restrict inp, ptrdiff_t n) { RELU2_FWD_BODY }
static void relu2_fwd_generic(float *restrict out, const float *restrict inp, ptrdiff_t n) { RELU2_FWD_BODY }
__attribute__((target("avx2,fma")))
static void relu2_bwd_avx2(float *dinp, const float *inp, const float *dout, ptrdiff_t n) { RELU2_BWD_BODY }
static void relu2_bwd_generic(float *dinp, const float *inp, const float *dout, ptrdiff_t n) { RELU2_BWD_BODY }
static void golem_relu2_fwd(float *out, const float *inp, ptrdiff_t n, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) relu2_fwd_avx2(out, inp, n); else relu2_fwd_generic(out, inp, n);
	GOLEM_FTZ_END
}
static void golem_relu2_bwd(float *dinp, const float *inp, const float *dout, ptrdiff_t n, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) relu2_bwd_avx2(dinp, inp, dout, n); else relu2_bwd_generic(dinp, inp, dout, n);
	GOLEM_FTZ_END
}

// tanh in float32, branch-free so the loops vectorise: the odd Taylor series to x¹⁵
// below |x| = 0.55 (truncation error < 3e-8 relative there), 1 − 2/(1 + e^{2|x|})
// above (no cancellation: the quotient is at most 0.5), the sign restored last.
static inline float golem_tanhf(float x) {
	float ax = x < 0 ? -x : x;
	float e = golem_expf(2.0f * ax);
	float big = 1.0f - 2.0f / (1.0f + e);
	float x2 = ax * ax;
	float p = -929569.0f / 638512875.0f;
	p = p * x2 + 21844.0f / 6081075.0f;
	p = p * x2 - 1382.0f / 155925.0f;
	p = p * x2 + 62.0f / 2835.0f;
	p = p * x2 - 17.0f / 315.0f;
	p = p * x2 + 2.0f / 15.0f;
	p = p * x2 - 1.0f / 3.0f;
	float small = ax + ax * x2 * p;
	float r = ax < 0.55f ? small : big;
	return x < 0 ? -r : r;
}

// Soft-cap: x = cap·tanh(x/cap); with d != NULL, d = 1 − tanh² (the derivative, for the
// fused cross-entropy). golem_mul: x *= d.
#define SOFTCAP_BODY                                                      \
	float inv = 1.0f / cap;                                               \
	for (ptrdiff_t i = 0; i < n; i++) {                                   \
		float t = golem_tanhf(x[i] * inv);                                \
		x[i] = cap * t;                                                   \
		if (d) d[i] = 1.0f - t * t;                                       \
	}
__attribute__((target("avx2,fma")))
static void softcap_avx2(float *restrict x, float *restrict d, ptrdiff_t n, float cap) { SOFTCAP_BODY }
static void softcap_generic(float *restrict x, float *restrict d, ptrdiff_t n, float cap) { SOFTCAP_BODY }
static void golem_softcap(float *x, float *d, ptrdiff_t n, float cap, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) softcap_avx2(x, d, n, cap); else softcap_generic(x, d, n, cap);
	GOLEM_FTZ_END
}
static void golem_mul(float *restrict x, const float *restrict d, ptrdiff_t n) {
	GOLEM_FTZ_BEGIN
	for (ptrdiff_t i = 0; i < n; i++) x[i] *= d[i];
	GOLEM_FTZ_END
}

// QK-norm and RoPE of rows [0,rows) of qkv (3C wide; row r is global row r0+r, at
// position T0 + (r0+r) mod T): for the query (part 0) and key (part 1) of each head,
// x = x·s, s = 1/√(mean x² + eps) saved in rstd[(r·2+part)·NH + h] (norm), then pair
// (i, i+hs/2) turned by the position's angle (rotary; cs, sn: hs/2 per position).
#define QK_FWD_BODY                                                                \
	ptrdiff_t hs = C / NH, d = hs / 2;                                             \
	for (ptrdiff_t r = 0; r < rows; r++) {                                         \
		ptrdiff_t pos = T0 + (r0 + r) % T;                                         \
		const float *c = cs + pos * d, *s = sn + pos * d;                          \
		for (ptrdiff_t part = 0; part < 2; part++)                                 \
			for (ptrdiff_t h = 0; h < NH; h++) {                                   \
				float *x = qkv + r * 3 * C + part * C + h * hs;                    \
				if (norm) {                                                        \
					float ss;                                                      \
					RSUM8(x[jj] * x[jj], hs, ss);                                  \
					float f = 1.0f / sqrtf(ss / (float)hs + eps);                  \
					for (ptrdiff_t j = 0; j < hs; j++) x[j] *= f;                  \
					rstd[(r * 2 + part) * NH + h] = f;                             \
				}                                                                  \
				if (rotary)                                                        \
					for (ptrdiff_t i = 0; i < d; i++) {                            \
						float x1 = x[i], x2 = x[i + d];                            \
						x[i] = x1 * c[i] - x2 * s[i];                              \
						x[i + d] = x2 * c[i] + x1 * s[i];                          \
					}                                                              \
			}                                                                      \
	}
#define QK_FWD_ARGS float *restrict qkv, float *restrict rstd, const float *restrict cs, const float *restrict sn, \
	ptrdiff_t rows, ptrdiff_t r0, ptrdiff_t T, ptrdiff_t T0, ptrdiff_t C, ptrdiff_t NH, int norm, int rotary, float eps
__attribute__((target("avx2,fma")))
static void qk_fwd_avx2(QK_FWD_ARGS) { QK_FWD_BODY }
static void qk_fwd_generic(QK_FWD_ARGS) { QK_FWD_BODY }
static void golem_qk_fwd(QK_FWD_ARGS, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) qk_fwd_avx2(qkv, rstd, cs, sn, rows, r0, T, T0, C, NH, norm, rotary, eps);
	else qk_fwd_generic(qkv, rstd, cs, sn, rows, r0, T, T0, C, NH, norm, rotary, eps);
	GOLEM_FTZ_END
}

// Backward of QK_FWD_BODY (positions from 0), in place on the query and key parts of
// dqkv; z is the forward's output. Rotary: the gradient turns back, u = Rᵀg. Norm:
// dx = s·(u − y·(u·y)/hs) with y = Rᵀz the normalised input, and u·y = g·z (R is
// orthogonal), so both run in one pass after the dot product.
#define QK_BWD_BODY                                                                \
	ptrdiff_t hs = C / NH, d = hs / 2;                                             \
	for (ptrdiff_t r = 0; r < rows; r++) {                                         \
		ptrdiff_t pos = (r0 + r) % T;                                              \
		const float *c = cs + pos * d, *s = sn + pos * d;                          \
		for (ptrdiff_t part = 0; part < 2; part++)                                 \
			for (ptrdiff_t h = 0; h < NH; h++) {                                   \
				float *g = dqkv + r * 3 * C + part * C + h * hs;                   \
				const float *z = qkv + r * 3 * C + part * C + h * hs;              \
				float f = 1, k = 0;                                                \
				if (norm) {                                                        \
					float dot;                                                     \
					RSUM8(g[jj] * z[jj], hs, dot);                                 \
					f = rstd[(r * 2 + part) * NH + h];                             \
					k = dot / (float)hs;                                           \
				}                                                                  \
				if (rotary)                                                        \
					for (ptrdiff_t i = 0; i < d; i++) {                            \
						float g1 = g[i], g2 = g[i + d], z1 = z[i], z2 = z[i + d];  \
						float u1 = g1 * c[i] + g2 * s[i], u2 = g2 * c[i] - g1 * s[i]; \
						float y1 = z1 * c[i] + z2 * s[i], y2 = z2 * c[i] - z1 * s[i]; \
						g[i] = f * (u1 - y1 * k);                                  \
						g[i + d] = f * (u2 - y2 * k);                              \
					}                                                              \
				else                                                               \
					for (ptrdiff_t j = 0; j < hs; j++) g[j] = f * (g[j] - z[j] * k); \
			}                                                                      \
	}
#define QK_BWD_ARGS float *restrict dqkv, const float *restrict qkv, const float *restrict rstd, const float *restrict cs, \
	const float *restrict sn, ptrdiff_t rows, ptrdiff_t r0, ptrdiff_t T, ptrdiff_t C, ptrdiff_t NH, int norm, int rotary
__attribute__((target("avx2,fma")))
static void qk_bwd_avx2(QK_BWD_ARGS) { QK_BWD_BODY }
static void qk_bwd_generic(QK_BWD_ARGS) { QK_BWD_BODY }
static void golem_qk_bwd(QK_BWD_ARGS, int avx2) {
	GOLEM_FTZ_BEGIN
	if (avx2) qk_bwd_avx2(dqkv, qkv, rstd, cs, sn, rows, r0, T, C, NH, norm, rotary);
	else qk_bwd_generic(dqkv, qkv, rstd, cs, sn, rows, r0, T, C, NH, norm, rotary);
	GOLEM_FTZ_END
}
*/
import "C"

// rmsnormRowsC: RMSNorm of rows (each width wide) of xb, or of res = a + xb
// (written to res) when a is not nil.
func rmsnormRowsC(res, out, rstd, a, xb, w []float32, rows, width int) {
	if rows == 0 {
		return
	}
	C.golem_rms_fwd(fptr(res), fptr(out), fptr(rstd), fptr(a), fptr(xb), fptr(w),
		C.ptrdiff_t(rows), C.ptrdiff_t(width), C.float(NormEps), C.int(min(simdLevel, 1)))
}

// rmsnormBackwardRowsC: dinp += RMSNorm backward; pdw (width) accumulates.
func rmsnormBackwardRowsC(dinp, pdw, dout, inp, w, rstd []float32, rows, width int) {
	if rows == 0 {
		return
	}
	C.golem_rms_bwd(fptr(dinp), fptr(pdw), fptr(dout), fptr(inp), fptr(w), fptr(rstd),
		C.ptrdiff_t(rows), C.ptrdiff_t(width), C.int(min(simdLevel, 1)))
}

func relu2ForwardC(out, inp []float32) {
	if len(inp) == 0 {
		return
	}
	C.golem_relu2_fwd(fptr(out), fptr(inp), C.ptrdiff_t(len(inp)), C.int(min(simdLevel, 1)))
}

func relu2BackwardC(dinp, inp, dout []float32) {
	if len(inp) == 0 {
		return
	}
	C.golem_relu2_bwd(fptr(dinp), fptr(inp), fptr(dout), C.ptrdiff_t(len(inp)), C.int(min(simdLevel, 1)))
}

// softcapC: x = cap·tanh(x/cap); d (nil: not kept) = 1 − tanh².
func softcapC(x, d []float32, cap float32) {
	if len(x) == 0 {
		return
	}
	C.golem_softcap(fptr(x), fptr(d), C.ptrdiff_t(len(x)), C.float(cap), C.int(min(simdLevel, 1)))
}

// mulC: x *= d elementwise.
func mulC(x, d []float32) {
	if len(x) == 0 {
		return
	}
	C.golem_mul(fptr(x), fptr(d), C.ptrdiff_t(len(x)))
}

func cbool01(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// qkForwardC: QK-norm and RoPE of rows [r0, r0+rows) of qkv (qkv and rstd start at
// row r0); cs, sn are the rotary tables (hs/2 per position).
func qkForwardC(qkv, rstd, cs, sn []float32, rows, r0, T, T0, width, NH int, norm, rotary bool) {
	if rows == 0 {
		return
	}
	C.golem_qk_fwd(fptr(qkv), fptr(rstd), fptr(cs), fptr(sn), C.ptrdiff_t(rows), C.ptrdiff_t(r0), C.ptrdiff_t(T),
		C.ptrdiff_t(T0), C.ptrdiff_t(width), C.ptrdiff_t(NH), cbool01(norm), cbool01(rotary), C.float(NormEps), C.int(min(simdLevel, 1)))
}

// qkBackwardC is qkForwardC's backward, in place on dqkv (positions from 0).
func qkBackwardC(dqkv, qkv, rstd, cs, sn []float32, rows, r0, T, width, NH int, norm, rotary bool) {
	if rows == 0 {
		return
	}
	C.golem_qk_bwd(fptr(dqkv), fptr(qkv), fptr(rstd), fptr(cs), fptr(sn), C.ptrdiff_t(rows), C.ptrdiff_t(r0), C.ptrdiff_t(T),
		C.ptrdiff_t(width), C.ptrdiff_t(NH), cbool01(norm), cbool01(rotary), C.int(min(simdLevel, 1)))
}
