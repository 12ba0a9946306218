// Subnormal floats cost a microcode assist per operation on x86, and training makes
// them: Adam's second moments of parameters that get no gradient (embedding rows of
// tokens absent from the batches) decay geometrically into the subnormal range, and
// AdamW over subnormal values measured 3.4x slower (6.2 against 1.8 ns/parameter).
// Every C entry point of package gpt (kernels_c.go) and every OpenBLAS call (blas.go)
// runs between GOLEM_FTZ_BEGIN and GOLEM_FTZ_END: MXCSR's flush-to-zero and
// denormals-are-zero bits set (values below 1.2e-38 count as 0, what PyTorch's
// set_flush_denormal(True) does), then the caller's MXCSR restored, so Go code on the
// same thread keeps IEEE semantics.
#ifndef GOLEM_FTZ_H
#define GOLEM_FTZ_H
#if defined(__x86_64__)
#include <xmmintrin.h>
#define GOLEM_FTZ_BEGIN unsigned int golem_csr_ = _mm_getcsr(); _mm_setcsr(golem_csr_ | 0x8040);
#define GOLEM_FTZ_END _mm_setcsr(golem_csr_);
#else
#define GOLEM_FTZ_BEGIN
#define GOLEM_FTZ_END
#endif
#endif
