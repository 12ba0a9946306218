package gpt

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// The CBLAS and OpenBLAS entry points golem uses, declared here so that no header is
// needed at build time: row-major 101, no-transpose 111, transpose 112 (cblas.h), and
// int indices (Debian's libopenblas0 is the LP64 build).
typedef void (*golem_sgemm_fn)(int, int, int, int, int, int, float, const float*, int,
	const float*, int, float, float*, int);
typedef void (*golem_sgemv_fn)(int, int, int, int, float, const float*, int, const float*, int,
	float, float*, int);
typedef void (*golem_ssyrk_fn)(int, int, int, int, int, float, const float*, int, float, float*, int);
typedef void (*golem_set_threads_fn)(int);
typedef char* (*golem_str_fn)(void);

static golem_sgemm_fn golem_sgemm_p;
static golem_sgemv_fn golem_sgemv_p;
static golem_ssyrk_fn golem_ssyrk_p;
static golem_set_threads_fn golem_set_threads_p;
static golem_str_fn golem_corename_p, golem_config_p;

// golem_blas_open loads OpenBLAS from path. When override is set, OPENBLAS_CORETYPE is
// set to core (unset when core is empty: OpenBLAS's own CPU detection) while OpenBLAS's
// constructor picks its kernels, and the environment is put back as it was afterwards.
// It returns a static message on failure (NULL on success).
static const char* golem_blas_open(const char* path, int override, const char* core) {
	char* old = NULL;
	if (override) {
		const char* o = getenv("OPENBLAS_CORETYPE");
		if (o) old = strdup(o);
		if (core[0] != 0) setenv("OPENBLAS_CORETYPE", core, 1); else unsetenv("OPENBLAS_CORETYPE");
	}
	void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (override) {
		if (old) { setenv("OPENBLAS_CORETYPE", old, 1); free(old); } else unsetenv("OPENBLAS_CORETYPE");
	}
	if (!h) return dlerror();
	golem_sgemm_p = (golem_sgemm_fn)dlsym(h, "cblas_sgemm");
	golem_sgemv_p = (golem_sgemv_fn)dlsym(h, "cblas_sgemv");
	golem_ssyrk_p = (golem_ssyrk_fn)dlsym(h, "cblas_ssyrk");
	golem_set_threads_p = (golem_set_threads_fn)dlsym(h, "openblas_set_num_threads");
	golem_corename_p = (golem_str_fn)dlsym(h, "openblas_get_corename");
	golem_config_p = (golem_str_fn)dlsym(h, "openblas_get_config");
	if (!golem_sgemm_p || !golem_sgemv_p || !golem_ssyrk_p || !golem_set_threads_p || !golem_corename_p || !golem_config_p) {
		return "it lacks an OpenBLAS symbol (cblas_sgemm, cblas_sgemv, cblas_ssyrk, openblas_set_num_threads, openblas_get_corename, openblas_get_config)";
	}
	return NULL;
}

#include "ftz.h" // the products run with flush-to-zero, as the other kernels do

static void golem_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float* a, int lda,
		const float* b, int ldb, float beta, float* c, int ldc) {
	GOLEM_FTZ_BEGIN
	golem_sgemm_p(101, ta ? 112 : 111, tb ? 112 : 111, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
	GOLEM_FTZ_END
}

// c (N×N, upper triangle) = alpha·op(a)·op(a)ᵀ + beta·c; op(a) = a (N×K) or aᵀ (a K×N).
static void golem_ssyrk_u(int trans, int N, int K, float alpha, const float* a, int lda, float beta, float* c, int ldc) {
	GOLEM_FTZ_BEGIN
	golem_ssyrk_p(101, 121, trans ? 112 : 111, N, K, alpha, a, lda, beta, c, ldc);
	GOLEM_FTZ_END
}

static void golem_sgemv_t(int M, int N, const float* a, int lda, const float* x, float* y) {
	GOLEM_FTZ_BEGIN
	golem_sgemv_p(101, 112, M, N, 1.0f, a, lda, x, 1, 1.0f, y, 1);
	GOLEM_FTZ_END
}

static void golem_blas_threads(int n) { golem_set_threads_p(n); }
static const char* golem_blas_corename(void) { return golem_corename_p(); }
static const char* golem_blas_config(void) { return golem_config_p(); }
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"
)

// BLASCoreEnv names the environment variable that chooses OpenBLAS's kernel set for
// golem. Unset or "auto": OpenBLAS's own detection of this CPU, whatever
// OPENBLAS_CORETYPE says (environments often pin a conservative one: on this
// project's AVX-512 machine a pinned Haswell halves sgemm throughput, BENCHMARKS.md).
// "env": OpenBLAS as the environment configures it. Any other value is an OpenBLAS core
// name (e.g. "Haswell", "SkylakeX"); OpenBLAS must then report that core or BLAS fails.
const BLASCoreEnv = "GOLEM_BLAS_CORE"

// blasLibraries are tried in order; the first that loads is used.
var blasLibraries = []string{"libopenblas.so.0", "libopenblas.so"}

var (
	blasOnce sync.Once
	blasErr  error
	blasDesc string
)

// loadBLAS loads OpenBLAS once, single-threaded: golem splits every product across
// its own workers (one sgemm per worker), so OpenBLAS threads would only compete.
func loadBLAS() error {
	blasOnce.Do(func() {
		choice := os.Getenv(BLASCoreEnv)
		override, core, how := 1, "", ""
		switch choice {
		case "", "auto":
			how = "OpenBLAS's detection of this CPU"
		case "env":
			override, how = 0, "OpenBLAS's configuration in the environment ("+BLASCoreEnv+"=env)"
		default:
			core, how = choice, BLASCoreEnv+"="+choice
		}
		ccore := C.CString(core)
		defer C.free(unsafe.Pointer(ccore))
		var msgs []string
		for _, lib := range blasLibraries {
			cpath := C.CString(lib)
			msg := C.golem_blas_open(cpath, C.int(override), ccore)
			C.free(unsafe.Pointer(cpath))
			if msg != nil {
				msgs = append(msgs, lib+": "+C.GoString(msg))
				continue
			}
			got := C.GoString(C.golem_blas_corename())
			if core != "" && !strings.EqualFold(got, core) {
				blasErr = fmt.Errorf("gpt: %s=%q: OpenBLAS (%s) does not provide that kernel set on this CPU and chose %q instead; use an OpenBLAS core name such as Haswell or SkylakeX, or auto", BLASCoreEnv, core, lib, got)
				return
			}
			C.golem_blas_threads(1)
			blasDesc = fmt.Sprintf("%s, %s kernels (%s)", strings.TrimSpace(C.GoString(C.golem_blas_config())), got, how)
			return
		}
		blasErr = fmt.Errorf("gpt: cannot load OpenBLAS, which the CPU backend needs for matrix products (%s); install it with scripts/system-deps.sh (Debian package libopenblas0)", strings.Join(msgs, "; "))
	})
	return blasErr
}

// BLAS loads OpenBLAS if it is not loaded yet and describes it: version, build
// options, the kernel set in use and who chose it, e.g. "OpenBLAS 0.3.21
// DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64, Cooperlake kernels (OpenBLAS's
// detection of this CPU)". The choice is made once per process, before OpenBLAS
// starts; see BLASCoreEnv.
func BLAS() (string, error) {
	if err := loadBLAS(); err != nil {
		return "", err
	}
	return blasDesc, nil
}

// blasInit loads OpenBLAS for a CPU backend; a missing library is a panic with the
// reason, since NewCPU has no error to return (New and NewWithBackend check first).
func blasInit() {
	if err := loadBLAS(); err != nil {
		panic(err)
	}
}

// SetBLASThreads sets OpenBLAS's own thread count. The CPU backend runs with 1 and
// parallelises above OpenBLAS; benchmarks raise it to measure a multi-threaded sgemm.
func SetBLASThreads(n int) {
	blasInit()
	C.golem_blas_threads(C.int(n))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// sgemm computes, row-major, c(M,N) = alpha*op(a)*op(b) + beta*c, op(x) = x or xᵀ.
// lda, ldb, ldc are the row strides of a, b, c as stored.
func sgemm(transA, transB bool, M, N, K int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if M == 0 || N == 0 {
		return
	}
	if K == 0 {
		// cblas with K=0 scales c by beta; do it here so empty inputs need no pointers.
		for i := 0; i < M; i++ {
			row := c[i*ldc : i*ldc+N]
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	C.golem_sgemm(cbool(transA), cbool(transB), C.int(M), C.int(N), C.int(K), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.int(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

// ssyrkUpper computes, row-major, the upper triangle of c(N,N) = alpha·op(a)·op(a)ᵀ +
// beta·c, op(a) = a (N×K) or, with trans, aᵀ (a stored K×N): half the work of the
// sgemm of a symmetric product (Muon's Gram matrices). The lower triangle is not written.
func ssyrkUpper(trans bool, N, K int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) {
	if N == 0 {
		return
	}
	C.golem_ssyrk_u(cbool(trans), C.int(N), C.int(K), C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int(ldc))
}

// sgemvT computes y(N) += aᵀ x for a (M,N) row-major with row stride lda, x (M): the
// column sums of a when x is all ones.
func sgemvT(M, N int, a []float32, lda int, x, y []float32) {
	if M == 0 || N == 0 {
		return
	}
	C.golem_sgemv_t(C.int(M), C.int(N), (*C.float)(unsafe.Pointer(&a[0])), C.int(lda),
		(*C.float)(unsafe.Pointer(&x[0])), (*C.float)(unsafe.Pointer(&y[0])))
}

// SgemmFLOPS multiplies two n×n matrices reps times with OpenBLAS on the given
// number of threads and returns the achieved FLOP/s (2n³ per product): the best of
// OpenBLAS's own threading and of `threads` goroutines each running a
// single-threaded sgemm on a block of rows (how the CPU backend uses it). It is the
// denominator of the model FLOPs utilisation that benchmarks report.
func SgemmFLOPS(n, reps, threads int) float64 {
	a := make([]float32, n*n)
	b := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) * 0.01
		b[i] = float32(i%5) * 0.01
	}
	flops := 2 * float64(n) * float64(n) * float64(n) * float64(reps)

	SetBLASThreads(threads)
	sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n) // warm-up
	t := nowSeconds()
	for r := 0; r < reps; r++ {
		sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	}
	blasThreaded := flops / (nowSeconds() - t)
	SetBLASThreads(1)

	p := newPool(threads)
	k := &squareSgemm{a: a, b: b, c: c, n: n}
	p.run(k, n)
	t = nowSeconds()
	for r := 0; r < reps; r++ {
		p.run(k, n)
	}
	split := flops / (nowSeconds() - t)
	p.close()
	if split > blasThreaded {
		return split
	}
	return blasThreaded
}

type squareSgemm struct {
	a, b, c []float32
	n       int
}

func (k *squareSgemm) run(_, _, lo, hi int) {
	sgemm(false, false, hi-lo, k.n, k.n, 1, k.a[lo*k.n:], k.n, k.b, k.n, 0, k.c[lo*k.n:], k.n)
}
