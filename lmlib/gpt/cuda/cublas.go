//go:build cuda

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

// The cuBLAS v2 entry points golem uses, declared here (enums as int) so that no
// CUDA toolkit header is needed: the values are those of cublas_api.h and
// library_types.h, unchanged from CUDA 11 to 13.
typedef void* cublasHandle_t;
enum { GOLEM_OP_N = 0, GOLEM_OP_T = 1, GOLEM_R_32F = 0, GOLEM_R_16BF = 14, GOLEM_COMPUTE_32F = 68,
       GOLEM_COMPUTE_32F_FAST_TF32 = 77, GOLEM_GEMM_DEFAULT = -1,
       GOLEM_DEFAULT_MATH = 0, GOLEM_TF32_TENSOR_OP_MATH = 3 };
typedef int (*create_fn)(cublasHandle_t*);
typedef int (*set_math_mode_fn)(cublasHandle_t, int);
typedef int (*get_version_fn)(cublasHandle_t, int*);
typedef int (*gemm_ex_fn)(cublasHandle_t, int, int, int, int, int, const void*, const void*, int, int,
	const void*, int, int, const void*, void*, int, int, int, int);
typedef int (*gemm_strided_fn)(cublasHandle_t, int, int, int, int, int, const void*, const void*, int, int,
	long long, const void*, int, int, long long, const void*, void*, int, int, long long, int, int, int);

static void* golem_cublas_lib;
static create_fn golem_create;
static set_math_mode_fn golem_set_math_mode;
static gemm_ex_fn golem_gemm_ex;
static gemm_strided_fn golem_gemm_strided;
static get_version_fn golem_get_version;

// golem_cublas_open loads path and resolves the symbols; it returns a static
// message on failure (NULL on success).
static const char* golem_cublas_open(const char* path) {
	void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) return dlerror();
	golem_create = (__typeof__(golem_create))dlsym(h, "cublasCreate_v2");
	golem_set_math_mode = (__typeof__(golem_set_math_mode))dlsym(h, "cublasSetMathMode");
	golem_gemm_ex = (__typeof__(golem_gemm_ex))dlsym(h, "cublasGemmEx");
	golem_gemm_strided = (__typeof__(golem_gemm_strided))dlsym(h, "cublasGemmStridedBatchedEx");
	golem_get_version = (__typeof__(golem_get_version))dlsym(h, "cublasGetVersion_v2");
	if (!golem_create || !golem_set_math_mode || !golem_gemm_ex || !golem_gemm_strided || !golem_get_version) {
		dlclose(h);
		return "a cuBLAS symbol (cublasCreate_v2, cublasSetMathMode, cublasGemmEx, cublasGemmStridedBatchedEx, cublasGetVersion_v2) is missing";
	}
	golem_cublas_lib = h;
	return NULL;
}

static int golem_cublas_create(uintptr_t* handle, int tf32) {
	cublasHandle_t h;
	int st = golem_create(&h);
	if (st != 0) return st;
	*handle = (uintptr_t)h;
	return golem_set_math_mode(h, tf32 ? GOLEM_TF32_TENSOR_OP_MATH : GOLEM_DEFAULT_MATH);
}

static int golem_cublas_version(uintptr_t handle) {
	int v = 0;
	golem_get_version((cublasHandle_t)handle, &v);
	return v;
}

// Column-major GEMM, C fp32: C = alpha·op(A)·op(B) + beta·C. A and B are fp32, or
// bf16 when bf16 is set (fp32 accumulation); tf32 lets fp32 inputs round to TF32.
static int golem_sgemm(uintptr_t handle, int ta, int tb, int m, int n, int k, float alpha,
		uintptr_t A, int lda, uintptr_t B, int ldb, float beta, uintptr_t C, int ldc, int tf32, int bf16) {
	int ab = bf16 ? GOLEM_R_16BF : GOLEM_R_32F;
	int compute = tf32 && !bf16 ? GOLEM_COMPUTE_32F_FAST_TF32 : GOLEM_COMPUTE_32F;
	return golem_gemm_ex((cublasHandle_t)handle, ta ? GOLEM_OP_T : GOLEM_OP_N, tb ? GOLEM_OP_T : GOLEM_OP_N,
		m, n, k, &alpha, (const void*)A, ab, lda, (const void*)B, ab, ldb, &beta,
		(void*)C, GOLEM_R_32F, ldc, compute, GOLEM_GEMM_DEFAULT);
}

static int golem_sgemm_batched(uintptr_t handle, int ta, int tb, int m, int n, int k, float alpha,
		uintptr_t A, int lda, long long sA, uintptr_t B, int ldb, long long sB, float beta,
		uintptr_t C, int ldc, long long sC, int count, int tf32, int bf16) {
	int ab = bf16 ? GOLEM_R_16BF : GOLEM_R_32F;
	int compute = tf32 && !bf16 ? GOLEM_COMPUTE_32F_FAST_TF32 : GOLEM_COMPUTE_32F;
	return golem_gemm_strided((cublasHandle_t)handle, ta ? GOLEM_OP_T : GOLEM_OP_N, tb ? GOLEM_OP_T : GOLEM_OP_N,
		m, n, k, &alpha, (const void*)A, ab, lda, sA, (const void*)B, ab, ldb, sB, &beta,
		(void*)C, GOLEM_R_32F, ldc, sC, count, compute, GOLEM_GEMM_DEFAULT);
}
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"

	"gorgonia.org/cu"
)

// cublasLibs are tried in order; GOLEM_CUBLAS (a path) goes first when set.
var cublasLibs = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so"}

var (
	cublasOnce sync.Once
	cublasErr  error
	cublasPath string
)

func loadCublas() error {
	cublasOnce.Do(func() {
		libs := cublasLibs
		if p := os.Getenv("GOLEM_CUBLAS"); p != "" {
			libs = append([]string{p}, libs...)
		}
		var msgs []string
		for _, lib := range libs {
			cs := C.CString(lib)
			msg := C.golem_cublas_open(cs)
			C.free(unsafe.Pointer(cs))
			if msg == nil {
				cublasPath = lib
				return
			}
			msgs = append(msgs, C.GoString(msg))
		}
		cublasErr = fmt.Errorf("cuda: cannot load cuBLAS (tried %v; set GOLEM_CUBLAS or LD_LIBRARY_PATH): %v", libs, msgs)
	})
	return cublasErr
}

// blas is one cuBLAS handle; products are row-major (see gemm).
type blas struct {
	h    C.uintptr_t
	tf32 bool
}

func newBlas(tf32 bool) (*blas, error) {
	if err := loadCublas(); err != nil {
		return nil, err
	}
	b := &blas{tf32: tf32}
	if st := C.golem_cublas_create(&b.h, boolInt(tf32)); st != 0 {
		return nil, fmt.Errorf("cuda: cublasCreate/SetMathMode (%s): status %d", cublasPath, int(st))
	}
	return b, nil
}

func (b *blas) version() int { return int(C.golem_cublas_version(b.h)) }

func boolInt(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

// gemm computes the row-major product C (M,N) = alpha·op(A)·op(B) + beta·C, where
// op(A) is (M,K) and op(B) is (K,N), lda/ldb/ldc the row strides. cuBLAS is
// column-major, so it is asked for Cᵀ = op(B)ᵀ·op(A)ᵀ with the operands swapped.
// With bf16, A and B hold bf16 values (C stays fp32).
func (b *blas) gemm(transA, transB bool, M, N, K int, alpha float32, A cu.DevicePtr, lda int, B cu.DevicePtr, ldb int, beta float32, Cm cu.DevicePtr, ldc int, bf16 bool) error {
	st := C.golem_sgemm(b.h, boolInt(transB), boolInt(transA), C.int(N), C.int(M), C.int(K), C.float(alpha),
		C.uintptr_t(B), C.int(ldb), C.uintptr_t(A), C.int(lda), C.float(beta), C.uintptr_t(Cm), C.int(ldc), boolInt(b.tf32), boolInt(bf16))
	if st != 0 {
		return fmt.Errorf("cuda: cublasGemmEx %dx%dx%d (transA %v, transB %v): status %d", M, N, K, transA, transB, int(st))
	}
	return nil
}

// gemmBatched is gemm over count matrices at strides sA, sB, sC (elements).
func (b *blas) gemmBatched(transA, transB bool, M, N, K int, alpha float32, A cu.DevicePtr, lda, sA int, B cu.DevicePtr, ldb, sB int, beta float32, Cm cu.DevicePtr, ldc, sC, count int, bf16 bool) error {
	st := C.golem_sgemm_batched(b.h, boolInt(transB), boolInt(transA), C.int(N), C.int(M), C.int(K), C.float(alpha),
		C.uintptr_t(B), C.int(ldb), C.longlong(sB), C.uintptr_t(A), C.int(lda), C.longlong(sA), C.float(beta),
		C.uintptr_t(Cm), C.int(ldc), C.longlong(sC), C.int(count), boolInt(b.tf32), boolInt(bf16))
	if st != 0 {
		return fmt.Errorf("cuda: cublasGemmStridedBatchedEx %dx%dx%d ×%d: status %d", M, N, K, count, int(st))
	}
	return nil
}

// gemm is blas.gemm on fp32 operands, timed under "gemm" when profiling. With
// Options.BF16 the operands are first rounded to bf16 copies (autocast-style: the
// fp32 buffers stay the masters) and the product accumulates in fp32.
func (d *Device) gemm(transA, transB bool, M, N, K int, alpha float32, A cu.DevicePtr, lda int, B cu.DevicePtr, ldb int, beta float32, Cm cu.DevicePtr, ldc int) error {
	if !d.bf16 {
		return d.timed("gemm", func() error { return d.blas.gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, Cm, ldc, false) })
	}
	rowsA, rowsB := M, K
	if transA {
		rowsA = K
	}
	if transB {
		rowsB = N
	}
	a, b, err := d.toBF16(A, rowsA*lda, B, rowsB*ldb)
	if err != nil {
		return err
	}
	return d.timed("gemm (bf16)", func() error { return d.blas.gemm(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, Cm, ldc, true) })
}

// gemmBatched is blas.gemmBatched, timed under "gemm batched (attention)" when profiling.
func (d *Device) gemmBatched(transA, transB bool, M, N, K int, alpha float32, A cu.DevicePtr, lda, sA int, B cu.DevicePtr, ldb, sB int, beta float32, Cm cu.DevicePtr, ldc, sC, count int) error {
	if !d.bf16 {
		return d.timed("gemm batched (attention)", func() error {
			return d.blas.gemmBatched(transA, transB, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, Cm, ldc, sC, count, false)
		})
	}
	a, b, err := d.toBF16(A, count*sA, B, count*sB)
	if err != nil {
		return err
	}
	return d.timed("gemm batched (attention, bf16)", func() error {
		return d.blas.gemmBatched(transA, transB, M, N, K, alpha, a, lda, sA, b, ldb, sB, beta, Cm, ldc, sC, count, true)
	})
}

// toBF16 rounds nA floats at A and nB at B into the device's bf16 scratch buffers
// (grown on demand) and returns their addresses.
func (d *Device) toBF16(A cu.DevicePtr, nA int, B cu.DevicePtr, nB int) (cu.DevicePtr, cu.DevicePtr, error) {
	for _, s := range []struct {
		buf *buffer
		n   int
	}{{&d.bfA, nA}, {&d.bfB, nB}} {
		if s.buf.n*2 < s.n {
			d.free(s.buf)
			var err error
			if *s.buf, err = d.alloc(ceilDiv(s.n, 2), "bf16 matrix-product operands"); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := d.launch("f32_to_bf16", ceilDiv(nA, 256), 256, 0, pArg(d.bfA.ptr), pArg(A), iArg(nA)); err != nil {
		return 0, 0, err
	}
	if err := d.launch("f32_to_bf16", ceilDiv(nB, 256), 256, 0, pArg(d.bfB.ptr), pArg(B), iArg(nB)); err != nil {
		return 0, 0, err
	}
	return d.bfA.ptr, d.bfB.ptr, nil
}
