// A host-memory stand-in for the CUDA driver (libcuda.so.1) and cuBLAS (libcublas.so.13),
// so bin/golem-gpucheck can run its parity check on a machine without a GPU
// (make cuda-emu-parity). "Device" memory is malloc'ed host memory, kernels run through
// emu.h (the launcher golem passes by name), GEMMs are naive column-major loops with
// double accumulation. It checks golem's host-side code — argument slots, the cuBLAS
// row-major mapping, the op sequence — not performance or hardware behaviour.
// Every other driver function comes from the generated stub (returns 34, STUB_LIBRARY).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int emu_dispatch(const char* name, int gx, int gy, int bx, int shared, void** params);

typedef unsigned long long dptr;
extern "C" {
int cuInit(unsigned) { return 0; }
int cuDriverGetVersion(int* v) { *v = 0; return 0; }
int cuDeviceGetCount(int* n) { *n = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { *d = ordinal; return ordinal == 0 ? 0 : 101; }
int cuDeviceGetName(char* name, int len, int) { snprintf(name, len, "golem CPU emulation (not a GPU)"); return 0; }
int cuDeviceGetAttribute(int* v, int attr, int) {
    switch (attr) {
    case 75: *v = 9; break;   // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
    case 76: *v = 0; break;   // ..._MINOR
    case 16: *v = 2; break;   // MULTIPROCESSOR_COUNT
    default: *v = 0;
    }
    return 0;
}
static int the_ctx;
int cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = &the_ctx; return 0; }
int cuCtxSetCurrent(void*) { return 0; }
int cuCtxSynchronize() { return 0; }
int cuModuleLoadData(void** mod, const void*) { *mod = &the_ctx; return 0; }
int cuModuleGetFunction(void** fn, void*, const char* name) { *fn = strdup(name); return 0; }
int cuMemAlloc_v2(dptr* p, size_t n) { *p = (dptr)calloc(1, n + 64); return *p ? 0 : 2; }
int cuMemFree_v2(dptr p) { free((void*)p); return 0; }
int cuMemsetD32_v2(dptr p, unsigned v, size_t n) { for (size_t i = 0; i < n; i++) ((unsigned*)p)[i] = v; return 0; }
int cuMemcpyHtoD_v2(dptr dst, const void* src, size_t n) { memcpy((void*)dst, src, n); return 0; }
int cuMemcpyDtoH_v2(void* dst, dptr src, size_t n) { memcpy(dst, (const void*)src, n); return 0; }
int cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void*, void** params, void**) {
    if (gz != 1 || by != 1 || bz != 1) { fprintf(stderr, "fakedriver: 3-D launch of %s\n", (char*)fn); return 1; }
    return emu_dispatch((const char*)fn, gx, gy, bx, shared, params);
}

// cuBLAS: column-major C = alpha·op(A)·op(B) + beta·C; A and B fp32 (type 0) or bf16
// (type 14), C fp32.
static float ld(const void* p, int type, long i) {
    if (type == 14) {
        unsigned u = (unsigned)((const unsigned short*)p)[i] << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    return ((const float*)p)[i];
}
static int gemm1(int ta, int tb, int m, int n, int k, float alpha, const void* A, int at, int lda, const void* B, int bt,
                 int ldb, float beta, float* C, int ldc) {
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                float a = ta ? ld(A, at, p + (long)i * lda) : ld(A, at, i + (long)p * lda);
                float b = tb ? ld(B, bt, j + (long)p * ldb) : ld(B, bt, p + (long)j * ldb);
                s += (double)a * b;
            }
            float c = beta == 0 ? 0 : beta * C[i + (long)j * ldc];
            C[i + (long)j * ldc] = c + alpha * (float)s;
        }
    return 0;
}
int cublasCreate_v2(void** h) { *h = &the_ctx; return 0; }
int cublasSetMathMode(void*, int) { return 0; }
int cublasGetVersion_v2(void*, int* v) { *v = 0; return 0; }
int cublasGemmEx(void*, int ta, int tb, int m, int n, int k, const void* alpha, const void* A, int at, int lda,
                 const void* B, int bt, int ldb, const void* beta, void* C, int ct, int ldc, int, int) {
    if ((at != 0 && at != 14) || bt != at || ct) return 7;
    return gemm1(ta, tb, m, n, k, *(const float*)alpha, A, at, lda, B, bt, ldb, *(const float*)beta, (float*)C, ldc);
}
int cublasGemmStridedBatchedEx(void*, int ta, int tb, int m, int n, int k, const void* alpha, const void* A, int at,
                               int lda, long long sA, const void* B, int bt, int ldb, long long sB, const void* beta,
                               void* C, int ct, int ldc, long long sC, int count, int, int) {
    if ((at != 0 && at != 14) || bt != at || ct) return 7;
    int es = at == 14 ? 2 : 4;
    for (int i = 0; i < count; i++)
        gemm1(ta, tb, m, n, k, *(const float*)alpha, (const char*)A + i * sA * es, at, lda, (const char*)B + i * sB * es,
              bt, ldb, *(const float*)beta, (float*)C + i * sC, ldc);
    return 0;
}
}
