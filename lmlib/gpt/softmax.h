// Shared by the cgo preambles of package gpt (kernels_c.go, attention_c.go): the
// float32 exponential and the softmax row body, so both attention paths compute their
// probabilities the same way. Include after <stdint.h> and <string.h>.
#ifndef GOLEM_SOFTMAX_H
#define GOLEM_SOFTMAX_H

typedef struct { float sum, max; } golem_sm;

// e^v for v in [-87, 88] (clamped), same method as golem_sigmoid2u (kernels_c.go).
static inline float golem_expf(float v) {
	v = v > 88.0f ? 88.0f : v;
	v = v < -87.0f ? -87.0f : v;
	float n = (float)((int32_t)(v * 1.44269504088896341f + 128.5f) - 128); // round(v·log2 e), v clamped
	float r = v - n * 0.693359375f - n * -2.12194440e-4f;
	float p = ((((((1.0f/720)*r + 1.0f/120)*r + 1.0f/24)*r + 1.0f/6)*r + 0.5f)*r + 1.0f)*r + 1.0f;
	int32_t bits = ((int32_t)n + 127) << 23;
	float scale;
	memcpy(&scale, &bits, 4);
	return p * scale;
}

// Softmax of x[0..n) in place, scaled by mul after normalisation; returns Σ e^(x-max)
// and max (the log-sum-exp is max + log Σ).
#define SOFTMAX_BODY                                                         \
	float mx[8], sm[8];                                                      \
	for (int j = 0; j < 8; j++) { mx[j] = x[0]; sm[j] = 0.0f; }              \
	ptrdiff_t i = 0;                                                         \
	for (; i + 8 <= n; i += 8)                                               \
		for (int j = 0; j < 8; j++) mx[j] = x[i + j] > mx[j] ? x[i + j] : mx[j]; \
	float m = mx[0];                                                         \
	for (int j = 1; j < 8; j++) m = mx[j] > m ? mx[j] : m;                   \
	for (; i < n; i++) m = x[i] > m ? x[i] : m;                              \
	for (i = 0; i < n; i++) x[i] = golem_expf(x[i] - m);                     \
	for (i = 0; i + 8 <= n; i += 8)                                          \
		for (int j = 0; j < 8; j++) sm[j] += x[i + j];                       \
	float s = ((sm[0] + sm[1]) + (sm[2] + sm[3])) + ((sm[4] + sm[5]) + (sm[6] + sm[7])); \
	for (; i < n; i++) s += x[i];                                            \
	float f = mul / s;                                                       \
	for (i = 0; i < n; i++) x[i] *= f;                                       \
	golem_sm r = {s, m};                                                     \
	return r;

#endif
