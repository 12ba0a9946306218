package gpt

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"sync"
	"unsafe"
)

var blasOnce sync.Once

// blasInit makes OpenBLAS single-threaded: golem splits every product across its own
// workers (one sgemm per worker), so OpenBLAS threads would only compete with them.
func blasInit() {
	blasOnce.Do(func() { C.openblas_set_num_threads(1) })
}

// SetBLASThreads sets OpenBLAS's own thread count. The CPU backend runs with 1 and
// parallelises above OpenBLAS; benchmarks raise it to measure a multi-threaded sgemm.
func SetBLASThreads(n int) {
	blasInit()
	C.openblas_set_num_threads(C.int(n))
}

func transFlag(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
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
	C.cblas_sgemm(C.CblasRowMajor, transFlag(transA), transFlag(transB),
		C.blasint(M), C.blasint(N), C.blasint(K), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// sgemvT computes y(N) += aᵀ x for a (M,N) row-major with row stride lda, x (M): the
// column sums of a when x is all ones.
func sgemvT(M, N int, a []float32, lda int, x, y []float32) {
	if M == 0 || N == 0 {
		return
	}
	C.cblas_sgemv(C.CblasRowMajor, C.CblasTrans, C.blasint(M), C.blasint(N), 1,
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&x[0])), 1, 1,
		(*C.float)(unsafe.Pointer(&y[0])), 1)
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
