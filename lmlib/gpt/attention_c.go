package gpt

/*
#cgo CFLAGS: -O3
#pragma GCC optimize ("no-trapping-math")
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ftz.h"
#include "softmax.h"

// Causal attention of one (batch, head) in plain loops, for heads without dropout.
// At small T the products are too small for sgemm: a baby step (T=64, 32-wide heads)
// made ~2,300 sgemm calls of 32×64×32 for attention, whose per-call overhead was most
// of attention's 12% of the step. Every product here is one of two shapes, written so
// that a 16-float accumulator stays in registers:
//
//   scores:  S[t][j] = Σ_d a[t][d]·bt[d][j], j ≤ t, with bt a transposed, zero-padded
//            copy (hs × Tp, Tp = T rounded up to 16) so the j loop is contiguous;
//   combine: out[r][d] = Σ_i M(r,i)·X[i][d] over i ≤ r (rows of M) or i ≥ r (columns).
//
// Every sum has a fixed order (four partial sums interleaved by index, then
// (s0+s1)+(s2+s3); lane k of a vector is column k), so results do not depend on the
// SIMD level; they differ from the sgemm path only in rounding.

#define ATT_W 16

// bt[d*Tp + j] = x[j*xs + d] for j < T, 0 for T ≤ j < Tp.
static inline void att_transpose(float *bt, const float *x, ptrdiff_t xs, ptrdiff_t T, ptrdiff_t Tp, ptrdiff_t hs) {
	for (ptrdiff_t d = 0; d < hs; d++) {
		float *row = bt + d * Tp;
		for (ptrdiff_t j = 0; j < T; j++) row[j] = x[j * xs + d];
		for (ptrdiff_t j = T; j < Tp; j++) row[j] = 0;
	}
}

// A 16-float vector (GCC vector extension: one zmm with AVX-512, two ymm with
// AVX2), aligned to 4 so that it loads and stores from any float address. Plain
// float[16] accumulators were split into 16 scalar FMAs by the vectoriser.
typedef float att_v16 __attribute__((vector_size(64), aligned(4)));

// Each sum below runs as four interleaved partial sums (index mod 4), added as
// (s0+s1)+(s2+s3): one accumulator would wait on the FMA latency at every step.

// row[j] = scale·Σ_d at[d]·bt[d][j] for j < n16 (n16 ≤ Tp, a multiple of ATT_W).
#define ATT_SCORES_ROW                                                   \
	for (ptrdiff_t j0 = 0; j0 < n16; j0 += ATT_W) {                      \
		att_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                  \
		const float *b = bt + j0;                                        \
		ptrdiff_t d = 0;                                                 \
		for (; d + 4 <= hs; d += 4) {                                    \
			a0 += at[d] * *(const att_v16 *)(b + d * Tp);                 \
			a1 += at[d + 1] * *(const att_v16 *)(b + (d + 1) * Tp);       \
			a2 += at[d + 2] * *(const att_v16 *)(b + (d + 2) * Tp);       \
			a3 += at[d + 3] * *(const att_v16 *)(b + (d + 3) * Tp);       \
		}                                                                \
		for (; d < hs; d++) a0 += at[d] * *(const att_v16 *)(b + d * Tp); \
		*(att_v16 *)(row + j0) = ((a0 + a1) + (a2 + a3)) * scale;        \
	}

// out[d] = Σ_{i in [lo,hi)} M[i*ms]·X[i*xs + d] for d < hs, two vector blocks of d
// at a time where hs allows (eight independent accumulators), then one, then
// single floats. The last (hi−lo) mod 4 terms go to their own partial sums too.
#define ATT_FMA(acc, i, off) acc += M[(i) * ms] * *(const att_v16 *)(X + (i) * xs + (off))
#define ATT_COMBINE_BLOCK(w)                                             \
	{                                                                    \
		att_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                  \
		att_v16 b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};                  \
		ptrdiff_t i = lo;                                                \
		for (; i + 4 <= hi; i += 4) {                                    \
			ATT_FMA(a0, i, d0); ATT_FMA(a1, i + 1, d0);                  \
			ATT_FMA(a2, i + 2, d0); ATT_FMA(a3, i + 3, d0);              \
			if (w == 2) {                                                \
				ATT_FMA(b0, i, d0 + ATT_W); ATT_FMA(b1, i + 1, d0 + ATT_W); \
				ATT_FMA(b2, i + 2, d0 + ATT_W); ATT_FMA(b3, i + 3, d0 + ATT_W); \
			}                                                            \
		}                                                                \
		if (i < hi) { ATT_FMA(a0, i, d0); if (w == 2) ATT_FMA(b0, i, d0 + ATT_W); } \
		if (i + 1 < hi) { ATT_FMA(a1, i + 1, d0); if (w == 2) ATT_FMA(b1, i + 1, d0 + ATT_W); } \
		if (i + 2 < hi) { ATT_FMA(a2, i + 2, d0); if (w == 2) ATT_FMA(b2, i + 2, d0 + ATT_W); } \
		*(att_v16 *)(out + d0) = (a0 + a1) + (a2 + a3);                  \
		if (w == 2) *(att_v16 *)(out + d0 + ATT_W) = (b0 + b1) + (b2 + b3); \
	}
#define ATT_COMBINE                                                      \
	ptrdiff_t d0 = 0;                                                    \
	for (; d0 + 2 * ATT_W <= hs; d0 += 2 * ATT_W) ATT_COMBINE_BLOCK(2)    \
	for (; d0 + ATT_W <= hs; d0 += ATT_W) ATT_COMBINE_BLOCK(1)            \
	for (ptrdiff_t d = d0; d < hs; d++) {                                \
		float acc = 0;                                                   \
		for (ptrdiff_t i = lo; i < hi; i++) acc += M[i * ms] * X[i * xs + d]; \
		out[d] = acc;                                                    \
	}

// Σ_j x[j]·y[j] for j < n with eight partial sums (no reassociation flags needed).
#define ATT_DOT(out, x, y, n)                                            \
	{                                                                    \
		float acc_[8] = {0, 0, 0, 0, 0, 0, 0, 0};                        \
		ptrdiff_t j_ = 0;                                                \
		for (; j_ + 8 <= (n); j_ += 8)                                   \
			for (int k_ = 0; k_ < 8; k_++) acc_[k_] += (x)[j_ + k_] * (y)[j_ + k_]; \
		float t_ = ((acc_[0] + acc_[1]) + (acc_[2] + acc_[3])) + ((acc_[4] + acc_[5]) + (acc_[6] + acc_[7])); \
		for (; j_ < (n); j_++) t_ += (x)[j_] * (y)[j_];                   \
		out = t_;                                                        \
	}

// Forward for heads [h0,h1) of the flattened (B·NH): out (B,T,C), att (B,NH,T,T),
// qkv (B,T,3C). ws: hs·Tp + Tp floats. Per head: scores row by row, each softmaxed
// (SOFTMAX_BODY, as the sgemm path, but over the row padded to a multiple of 16 with
// -1e30, whose exponentials add nothing: without remainder loops the softmax took 13%
// less of the forward) and stored with zeros above the diagonal; then
// out[t] = Σ_{j≤t} P[t][j]·v[j].
#define ATT_FWD_BODY(softmax)                                                                  \
	ptrdiff_t hs = C / NH, C3 = 3 * C, Tp = (T + ATT_W - 1) / ATT_W * ATT_W;          \
	float *bt = ws, *row = ws + hs * Tp;                                               \
	for (ptrdiff_t bh = h0; bh < h1; bh++) {                                           \
		ptrdiff_t b = bh / NH, h = bh % NH;                                            \
		const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;        \
		float *P = att + bh * T * T;                                                   \
		att_transpose(bt, k, C3, T, Tp, hs);                                           \
		for (ptrdiff_t t = 0; t < T; t++) {                                            \
			const float *at = q + t * C3;                                              \
			ptrdiff_t n = t + 1, n16 = (n + ATT_W - 1) / ATT_W * ATT_W;                 \
			ATT_SCORES_ROW                                                             \
			for (ptrdiff_t j = n; j < n16; j++) row[j] = -1e30f;                       \
			softmax(row, n16, 1.0f);                                                   \
			float *Pt = P + t * T;                                                     \
			memcpy(Pt, row, (size_t)n * sizeof(float));                               \
			memset(Pt + n, 0, (size_t)(T - n) * sizeof(float));                       \
		}                                                                              \
		for (ptrdiff_t t = 0; t < T; t++) {      \
			const float *M = P + t * T, *X = v;                                        \
			ptrdiff_t ms = 1, xs = C3, lo = 0, hi = t + 1;                             \
			float *out = o + b * T * C + t * C + h * hs;                               \
			ATT_COMBINE                                                                \
		}                                                                              \
	}

// Backward for heads [h0,h1): dqkv (B,T,3C) written (not accumulated) for each head.
// ws: hs·Tp + T·Tp + Tp floats (vᵀ, dS, one row). Per head: dS[t] = P∘(dP − Σ P·dP)·scale
// with dP = dy vᵀ; dq[t] = Σ_{j≤t} dS[t][j]·k[j]; dk[j] = Σ_{t≥j} dS[t][j]·q[t];
// dv[j] = Σ_{t≥j} P[t][j]·dy[t]. The dot and dS run over the row padded to 16 where
// that stays inside P's row (P is 0 past the diagonal, so the padding adds 0 and
// writes 0): no remainder loops.
#define ATT_BWD_BODY                                                                  \
	ptrdiff_t hs = C / NH, C3 = 3 * C, Tp = (T + ATT_W - 1) / ATT_W * ATT_W;          \
	float *bt = ws, *dS = ws + hs * Tp, *row = dS + T * Tp;                            \
	for (ptrdiff_t bh = h0; bh < h1; bh++) {                                           \
		ptrdiff_t b = bh / NH, h = bh % NH;                                            \
		const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;        \
		float *dq = dqkv + b * T * C3 + h * hs, *dk = dq + C, *dv = dq + 2 * C;        \
		const float *dy = dout + b * T * C + h * hs;                                   \
		const float *P = att + bh * T * T;                                             \
		att_transpose(bt, v, C3, T, Tp, hs);                                           \
		for (ptrdiff_t t = 0; t < T; t++) { \
			const float *at = dy + t * C;                                              \
			ptrdiff_t n = t + 1, n16 = (n + ATT_W - 1) / ATT_W * ATT_W;                 \
			float scale_ = scale;                                                      \
			{                                                                          \
				float scale = 1;                                                       \
				ATT_SCORES_ROW                                                         \
			}                                                                          \
			const float *Pt = P + t * T;                                               \
			ptrdiff_t w = n16 <= T ? n16 : n;                                          \
			float dot;                                                                 \
			ATT_DOT(dot, Pt, row, w)                                                   \
			float *st = dS + t * Tp;                                                   \
			for (ptrdiff_t j = 0; j < w; j++) st[j] = Pt[j] * (row[j] - dot) * scale_; \
		}                                                                              \
		for (ptrdiff_t t = 0; t < T; t++) {       \
			const float *M = dS + t * Tp, *X = k;                                      \
			ptrdiff_t ms = 1, xs = C3, lo = 0, hi = t + 1;                             \
			float *out = dq + t * C3;                                                  \
			ATT_COMBINE                                                                \
		}                                                                              \
		for (ptrdiff_t j = 0; j < T; j++) {       \
			const float *M = dS + j, *X = q;                                           \
			ptrdiff_t ms = Tp, xs = C3, lo = j, hi = T;                                \
			float *out = dk + j * C3;                                                  \
			ATT_COMBINE                                                                \
		}                                                                              \
		for (ptrdiff_t j = 0; j < T; j++) {       \
			const float *M = P + j, *X = dy;                                           \
			ptrdiff_t ms = T, xs = C, lo = j, hi = T;                                  \
			float *out = dv + j * C3;                                                  \
			ATT_COMBINE                                                                \
		}                                                                              \
	}

#define ATT_FWD_ARGS float *restrict o, float *restrict att, const float *restrict qkv, float *restrict ws, \
	ptrdiff_t T, ptrdiff_t C, ptrdiff_t NH, float scale, ptrdiff_t h0, ptrdiff_t h1
#define ATT_BWD_ARGS float *restrict dqkv, const float *restrict dout, const float *restrict qkv, \
	const float *restrict att, float *restrict ws, ptrdiff_t T, ptrdiff_t C, ptrdiff_t NH, float scale, ptrdiff_t h0, ptrdiff_t h1

#define ATT_AVX2 __attribute__((target("avx2,fma")))
#define ATT_AVX512 __attribute__((target("avx2,fma,avx512f,avx512vl,avx512dq,avx512bw,prefer-vector-width=512")))

static inline golem_sm att_softmax_generic(float *x, ptrdiff_t n, float mul) { SOFTMAX_BODY }
ATT_AVX2 static inline golem_sm att_softmax_avx2(float *x, ptrdiff_t n, float mul) { SOFTMAX_BODY }
ATT_AVX512 static inline golem_sm att_softmax_avx512(float *x, ptrdiff_t n, float mul) { SOFTMAX_BODY }

static void att_fwd_generic(ATT_FWD_ARGS) { ATT_FWD_BODY(att_softmax_generic) }
static void att_bwd_generic(ATT_BWD_ARGS) { ATT_BWD_BODY }
ATT_AVX2 static void att_fwd_avx2(ATT_FWD_ARGS) { ATT_FWD_BODY(att_softmax_avx2) }
ATT_AVX2 static void att_bwd_avx2(ATT_BWD_ARGS) { ATT_BWD_BODY }
ATT_AVX512 static void att_fwd_avx512(ATT_FWD_ARGS) { ATT_FWD_BODY(att_softmax_avx512) }
ATT_AVX512 static void att_bwd_avx512(ATT_BWD_ARGS) { ATT_BWD_BODY }

static void golem_att_fwd(ATT_FWD_ARGS, int simd) {
	GOLEM_FTZ_BEGIN
	if (simd >= 2) att_fwd_avx512(o, att, qkv, ws, T, C, NH, scale, h0, h1);
	else if (simd) att_fwd_avx2(o, att, qkv, ws, T, C, NH, scale, h0, h1);
	else att_fwd_generic(o, att, qkv, ws, T, C, NH, scale, h0, h1);
	GOLEM_FTZ_END
}

static void golem_att_bwd(ATT_BWD_ARGS, int simd) {
	GOLEM_FTZ_BEGIN
	if (simd >= 2) att_bwd_avx512(dqkv, dout, qkv, att, ws, T, C, NH, scale, h0, h1);
	else if (simd) att_bwd_avx2(dqkv, dout, qkv, att, ws, T, C, NH, scale, h0, h1);
	else att_bwd_generic(dqkv, dout, qkv, att, ws, T, C, NH, scale, h0, h1);
	GOLEM_FTZ_END
}
*/
import "C"

// attLoopsMaxT is the longest context whose attention runs as plain loops (above);
// longer ones go through sgemm in row blocks, where the products are large enough
// to pay for the calls. Measured (tools/benchtrain, 2 workers): baby (T=64) ~5%
// faster with the loops, equal on 1 worker; small (T=256, 64-wide heads) 9% slower.
var attLoopsMaxT = 64

// attPad is T rounded up to the loops' vector block.
func attPad(T int) int { return (T + 15) / 16 * 16 }

// attFwdScratch and attBwdScratch are the per-worker floats the loops need.
func attFwdScratch(T, hs int) int { return hs*attPad(T) + attPad(T) }
func attBwdScratch(T, hs int) int { return hs*attPad(T) + T*attPad(T) + attPad(T) }

// attentionForwardC runs the causal attention of heads [h0,h1) without dropout.
func attentionForwardC(out, att, qkv, ws []float32, T, C, NH int, scale float32, h0, h1 int) {
	C.golem_att_fwd(fptr(out), fptr(att), fptr(qkv), fptr(ws), C.ptrdiff_t(T), C.ptrdiff_t(C), C.ptrdiff_t(NH),
		C.float(scale), C.ptrdiff_t(h0), C.ptrdiff_t(h1), C.int(simdLevel))
}

// attentionBackwardC writes dqkv for heads [h0,h1) without dropout.
func attentionBackwardC(dqkv, dout, qkv, att, ws []float32, T, C, NH int, scale float32, h0, h1 int) {
	C.golem_att_bwd(fptr(dqkv), fptr(dout), fptr(qkv), fptr(att), fptr(ws), C.ptrdiff_t(T), C.ptrdiff_t(C),
		C.ptrdiff_t(NH), C.float(scale), C.ptrdiff_t(h0), C.ptrdiff_t(h1), C.int(simdLevel))
}
