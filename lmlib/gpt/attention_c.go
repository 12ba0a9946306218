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
// of attention's 12% of the step. Every product here is one of two shapes, computed
// for four rows of the result at a time so that each vector loaded from memory
// feeds four FMAs (one row at a time, a load per FMA made the loops load-bound: the
// forward ran at ~30 GFLOP/s on a core whose sgemm runs at 100):
//
//   scores:  S[t][j] = Σ_d a[t][d]·bt[d][j], j ≤ t, with bt a transposed, zero-padded
//            copy (hs × Tp, Tp = T rounded up to 16) so the j loop is contiguous;
//   combine: out[r][d] = Σ_i M(r,i)·X[i][d] over the rows i of X, with M's entries
//            zero where the causal mask leaves a row out (P and dS are stored with
//            zeros above the diagonal), so the four rows of a group share one range.
//
// Every sum has a fixed order (scores: the even and the odd d in two partial sums,
// added at the end; combine: one sum in i order per output vector; lane k of a vector
// is column k), so results do not depend on the SIMD level; they differ from the
// sgemm path only in rounding.

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
#define ATT_LD(p) (*(const att_v16 *)(p))
#define ATT_ST(p, v) (*(att_v16 *)(p) = (v))

// Scores of g (1 or 4, a constant) rows: rowR[j] = scale·Σ_d aR[d]·bt[d][j] for
// j < n16 (n16 ≤ Tp, a multiple of ATT_W), with a0..a3 the rows' inputs and
// row0..row3 their outputs. Each bt vector is loaded once for the g rows.
#define ATT_SCORES(g)                                                             \
	for (ptrdiff_t j0 = 0; j0 < n16; j0 += ATT_W) {                               \
		att_v16 e0 = {0}, e1 = {0}, e2 = {0}, e3 = {0};                           \
		att_v16 f0 = {0}, f1 = {0}, f2 = {0}, f3 = {0};                           \
		const float *b = bt + j0;                                                 \
		ptrdiff_t d = 0;                                                          \
		for (; d + 2 <= hs; d += 2) {                                             \
			att_v16 x = ATT_LD(b + d * Tp), y = ATT_LD(b + (d + 1) * Tp);         \
			e0 += a0[d] * x; f0 += a0[d + 1] * y;                                 \
			if (g > 1) {                                                          \
				e1 += a1[d] * x; f1 += a1[d + 1] * y;                             \
				e2 += a2[d] * x; f2 += a2[d + 1] * y;                             \
				e3 += a3[d] * x; f3 += a3[d + 1] * y;                             \
			}                                                                     \
		}                                                                         \
		if (d < hs) {                                                             \
			att_v16 x = ATT_LD(b + d * Tp);                                       \
			e0 += a0[d] * x;                                                      \
			if (g > 1) { e1 += a1[d] * x; e2 += a2[d] * x; e3 += a3[d] * x; }     \
		}                                                                         \
		ATT_ST(row0 + j0, (e0 + f0) * scale);                                     \
		if (g > 1) {                                                              \
			ATT_ST(row1 + j0, (e1 + f1) * scale);                                 \
			ATT_ST(row2 + j0, (e2 + f2) * scale);                                 \
			ATT_ST(row3 + j0, (e3 + f3) * scale);                                 \
		}                                                                         \
	}

// Combine for g (1 or 4, a constant) output rows: out[r*os + d] =
// Σ_{i in [lo,hi)} M[r*mr + i*mi]·X[i*xs + d] for r < g, d < hs; two vector blocks
// of d at a time where hs allows, then one, then single floats.
#define ATT_FMA(acc, r, x) acc += Mi[(r) * mr] * (x)
#define ATT_COMBINE(g)                                                            \
	{                                                                             \
		ptrdiff_t d0 = 0;                                                         \
		for (; d0 + 2 * ATT_W <= hs; d0 += 2 * ATT_W) {                           \
			att_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                       \
			att_v16 b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0};                       \
			for (ptrdiff_t i = lo; i < hi; i++) {                                 \
				const float *Mi = M + i * mi, *Xi = X + i * xs + d0;              \
				att_v16 x = ATT_LD(Xi), y = ATT_LD(Xi + ATT_W);                   \
				ATT_FMA(a0, 0, x); ATT_FMA(b0, 0, y);                             \
				if (g > 1) {                                                      \
					ATT_FMA(a1, 1, x); ATT_FMA(b1, 1, y);                         \
					ATT_FMA(a2, 2, x); ATT_FMA(b2, 2, y);                         \
					ATT_FMA(a3, 3, x); ATT_FMA(b3, 3, y);                         \
				}                                                                 \
			}                                                                     \
			ATT_ST(out + d0, a0); ATT_ST(out + d0 + ATT_W, b0);                   \
			if (g > 1) {                                                          \
				ATT_ST(out + os + d0, a1); ATT_ST(out + os + d0 + ATT_W, b1);     \
				ATT_ST(out + 2 * os + d0, a2); ATT_ST(out + 2 * os + d0 + ATT_W, b2); \
				ATT_ST(out + 3 * os + d0, a3); ATT_ST(out + 3 * os + d0 + ATT_W, b3); \
			}                                                                     \
		}                                                                         \
		for (; d0 + ATT_W <= hs; d0 += ATT_W) {                                   \
			att_v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                       \
			for (ptrdiff_t i = lo; i < hi; i++) {                                 \
				const float *Mi = M + i * mi;                                     \
				att_v16 x = ATT_LD(X + i * xs + d0);                              \
				ATT_FMA(a0, 0, x);                                                \
				if (g > 1) { ATT_FMA(a1, 1, x); ATT_FMA(a2, 2, x); ATT_FMA(a3, 3, x); } \
			}                                                                     \
			ATT_ST(out + d0, a0);                                                 \
			if (g > 1) { ATT_ST(out + os + d0, a1); ATT_ST(out + 2 * os + d0, a2); ATT_ST(out + 3 * os + d0, a3); } \
		}                                                                         \
		for (ptrdiff_t d = d0; d < hs; d++)                                       \
			for (ptrdiff_t r = 0; r < g; r++) {                                   \
				float acc = 0;                                                    \
				for (ptrdiff_t i = lo; i < hi; i++) acc += M[r * mr + i * mi] * X[i * xs + d]; \
				out[r * os + d] = acc;                                            \
			}                                                                     \
	}

// ATT_COMBINE with its operands given: M_ (strides mr_ per output row, mi_ per
// term), X_ (stride xs_), the range [lo_,hi_) and out_ (stride os_).
#define ATT_COMBINE_AT(g, M_, mr_, mi_, X_, xs_, os_, lo_, hi_, out_)             \
	{                                                                             \
		const float *M = (M_), *X = (X_);                                         \
		ptrdiff_t mr = (mr_), mi = (mi_), xs = (xs_), os = (os_), lo = (lo_), hi = (hi_); \
		float *out = (out_);                                                      \
		ATT_COMBINE(g)                                                            \
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

// Runs body(g) over groups of rows [t0, t0+g) of [0,T): four at a time (a group lies
// in one 16-row block, so its rows share n16), then the rest one at a time.
#define ATT_GROUPS(body)                                                 \
	{                                                                    \
		ptrdiff_t t0 = 0;                                                \
		for (; t0 + 4 <= T; t0 += 4) body(4)                             \
		for (; t0 < T; t0++) body(1)                                     \
	}

// Forward for heads [h0,h1) of the flattened (B·NH): out (B,T,C), att (B,NH,T,T),
// qkv (B,T,3C). ws: hs·Tp + 4·Tp floats. Per head: the scores of each group of rows,
// each row softmaxed (SOFTMAX_BODY, as the sgemm path, but over the row padded to a
// multiple of 16 with -1e30, whose exponentials add nothing: without remainder loops
// the softmax took 13% less of the forward) and stored with zeros above the diagonal;
// then out[t] = Σ_{j≤t} P[t][j]·v[j].
#define ATT_FWD_ROWS(g)                                                                    \
	{                                                                                      \
		ptrdiff_t n16 = (t0 + g + ATT_W - 1) / ATT_W * ATT_W;                              \
		const float *a0 = q + t0 * C3, *a1 = a0 + C3, *a2 = a1 + C3, *a3 = a2 + C3;        \
		float *row0 = rows, *row1 = row0 + Tp, *row2 = row1 + Tp, *row3 = row2 + Tp;       \
		ATT_SCORES(g)                                                                      \
		for (ptrdiff_t r = 0; r < g; r++) {                                                \
			float *row = rows + r * Tp;                                                    \
			ptrdiff_t n = t0 + r + 1;                                                      \
			for (ptrdiff_t j = n; j < n16; j++) row[j] = -1e30f;                           \
			ATT_SOFTMAX(row, n16, 1.0f);                                                   \
			float *Pt = P + (t0 + r) * T;                                                  \
			memcpy(Pt, row, (size_t)n * sizeof(float));                                   \
			memset(Pt + n, 0, (size_t)(T - n) * sizeof(float));                           \
		}                                                                                  \
	}
#define ATT_FWD_OUT(g) ATT_COMBINE_AT(g, P + t0 * T, T, 1, v, C3, C, 0, t0 + g, o + b * T * C + t0 * C + h * hs)
#define ATT_FWD_BODY                                                                       \
	ptrdiff_t hs = C / NH, C3 = 3 * C, Tp = (T + ATT_W - 1) / ATT_W * ATT_W;              \
	float *bt = ws, *rows = ws + hs * Tp;                                                  \
	for (ptrdiff_t bh = h0; bh < h1; bh++) {                                               \
		ptrdiff_t b = bh / NH, h = bh % NH;                                                \
		const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;            \
		float *P = att + bh * T * T;                                                       \
		att_transpose(bt, k, C3, T, Tp, hs);                                               \
		ATT_GROUPS(ATT_FWD_ROWS)                                                           \
		ATT_GROUPS(ATT_FWD_OUT)                                                            \
	}

// Backward for heads [h0,h1): dqkv (B,T,3C) written (not accumulated) for each head.
// ws: hs·Tp + T·Tp + 4·Tp floats (vᵀ, dS, four rows). Per head: dS[t] =
// P∘(dP − Σ P·dP)·scale with dP = dy vᵀ; dq[t] = Σ_{j≤t} dS[t][j]·k[j]; dk[j] =
// Σ_{t≥j} dS[t][j]·q[t]; dv[j] = Σ_{t≥j} P[t][j]·dy[t]. The dot and dS run over the
// row padded to 16 where that stays inside P's row (P is 0 past the diagonal, so the
// padding adds 0 and writes 0), and the rest of dS's row is zeroed: the combines of
// a group read past each row's diagonal.
#define ATT_BWD_ROWS(g)                                                                    \
	{                                                                                      \
		ptrdiff_t n16 = (t0 + g + ATT_W - 1) / ATT_W * ATT_W;                              \
		const float *a0 = dy + t0 * C, *a1 = a0 + C, *a2 = a1 + C, *a3 = a2 + C;           \
		float *row0 = rows, *row1 = row0 + Tp, *row2 = row1 + Tp, *row3 = row2 + Tp;       \
		{                                                                                  \
			float scale = 1;                                                               \
			ATT_SCORES(g)                                                                  \
		}                                                                                  \
		for (ptrdiff_t r = 0; r < g; r++) {                                                \
			ptrdiff_t t = t0 + r;                                                          \
			const float *Pt = P + t * T, *row = rows + r * Tp;                             \
			ptrdiff_t w = n16 <= T ? n16 : t + 1;                                          \
			float dot;                                                                     \
			ATT_DOT(dot, Pt, row, w)                                                       \
			float *st = dS + t * Tp;                                                       \
			for (ptrdiff_t j = 0; j < w; j++) st[j] = Pt[j] * (row[j] - dot) * scale;      \
			for (ptrdiff_t j = w; j < Tp; j++) st[j] = 0;                                  \
		}                                                                                  \
	}
#define ATT_BWD_DQ(g) ATT_COMBINE_AT(g, dS + t0 * Tp, Tp, 1, k, C3, C3, 0, t0 + g, dq + t0 * C3)
#define ATT_BWD_DK(g) ATT_COMBINE_AT(g, dS + t0, 1, Tp, q, C3, C3, t0, T, dk + t0 * C3)
#define ATT_BWD_DV(g) ATT_COMBINE_AT(g, P + t0, 1, T, dy, C, C3, t0, T, dv + t0 * C3)
#define ATT_BWD_BODY                                                                       \
	ptrdiff_t hs = C / NH, C3 = 3 * C, Tp = (T + ATT_W - 1) / ATT_W * ATT_W;              \
	float *bt = ws, *dS = ws + hs * Tp, *rows = dS + T * Tp;                               \
	for (ptrdiff_t bh = h0; bh < h1; bh++) {                                               \
		ptrdiff_t b = bh / NH, h = bh % NH;                                                \
		const float *q = qkv + b * T * C3 + h * hs, *k = q + C, *v = q + 2 * C;            \
		float *dq = dqkv + b * T * C3 + h * hs, *dk = dq + C, *dv = dq + 2 * C;            \
		const float *dy = dout + b * T * C + h * hs;                                       \
		const float *P = att + bh * T * T;                                                 \
		att_transpose(bt, v, C3, T, Tp, hs);                                               \
		ATT_GROUPS(ATT_BWD_ROWS)                                                           \
		ATT_GROUPS(ATT_BWD_DQ)                                                             \
		ATT_GROUPS(ATT_BWD_DK)                                                             \
		ATT_GROUPS(ATT_BWD_DV)                                                             \
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

// ATT_FWD_BODY calls ATT_SOFTMAX, defined before each variant as its softmax.
#define ATT_SOFTMAX att_softmax_generic
static void att_fwd_generic(ATT_FWD_ARGS) { ATT_FWD_BODY }
#undef ATT_SOFTMAX
static void att_bwd_generic(ATT_BWD_ARGS) { ATT_BWD_BODY }
#define ATT_SOFTMAX att_softmax_avx2
ATT_AVX2 static void att_fwd_avx2(ATT_FWD_ARGS) { ATT_FWD_BODY }
#undef ATT_SOFTMAX
ATT_AVX2 static void att_bwd_avx2(ATT_BWD_ARGS) { ATT_BWD_BODY }
#define ATT_SOFTMAX att_softmax_avx512
ATT_AVX512 static void att_fwd_avx512(ATT_FWD_ARGS) { ATT_FWD_BODY }
#undef ATT_SOFTMAX
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
// to pay for the calls. Measured on one worker, forward + backward of one layer,
// loops against sgemm blocks (with four rows per product; one row at a time the
// loops had lost already at T=256): T=64, 32-wide heads, B=12: 1.0–1.1 against
// 1.4 ms; T=128, B=8: 2.0–2.1 against 3.1–3.3 ms; T=256, 64-wide heads, B=16: 44–45
// against 60–61 ms; T=512, 64-wide, B=1: 21–22 against 25–27 ms; T=1024: 103–112
// against 105–110 ms, even.
var attLoopsMaxT = 512

// attPad is T rounded up to the loops' vector block.
func attPad(T int) int { return (T + 15) / 16 * 16 }

// attFwdScratch and attBwdScratch are the per-worker floats the loops need.
func attFwdScratch(T, hs int) int { return hs*attPad(T) + 4*attPad(T) }
func attBwdScratch(T, hs int) int { return hs*attPad(T) + T*attPad(T) + 4*attPad(T) }

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
