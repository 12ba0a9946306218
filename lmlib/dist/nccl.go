//go:build cuda

package dist

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

// NCCL's ABI, declared here so no header is needed to build (NCCL ≥ 2.10: ncclAvg).
typedef struct { char internal[128]; } golem_nccl_id;   // ncclUniqueId
typedef void *golem_nccl_comm;                          // ncclComm_t
enum { golem_nccl_float32 = 7, golem_nccl_op_avg = 4 };

typedef int (*golem_nccl_get_unique_id_fn)(golem_nccl_id *);
typedef int (*golem_nccl_comm_init_rank_fn)(golem_nccl_comm *, int, golem_nccl_id, int);
typedef int (*golem_nccl_all_reduce_fn)(const void *, void *, size_t, int, int, golem_nccl_comm, void *);
typedef int (*golem_nccl_comm_destroy_fn)(golem_nccl_comm);
typedef const char *(*golem_nccl_error_string_fn)(int);
typedef int (*golem_nccl_group_fn)(void);
typedef int (*golem_nccl_version_fn)(int *);

static golem_nccl_get_unique_id_fn golem_nccl_get_unique_id_p;
static golem_nccl_comm_init_rank_fn golem_nccl_comm_init_rank_p;
static golem_nccl_all_reduce_fn golem_nccl_all_reduce_p;
static golem_nccl_comm_destroy_fn golem_nccl_comm_destroy_p;
static golem_nccl_error_string_fn golem_nccl_error_string_p;
static golem_nccl_group_fn golem_nccl_group_start_p, golem_nccl_group_end_p;
static golem_nccl_version_fn golem_nccl_version_p;

static const char *golem_nccl_open(const char *path) {
	void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (!h) return dlerror();
	golem_nccl_get_unique_id_p = (golem_nccl_get_unique_id_fn)dlsym(h, "ncclGetUniqueId");
	golem_nccl_comm_init_rank_p = (golem_nccl_comm_init_rank_fn)dlsym(h, "ncclCommInitRank");
	golem_nccl_all_reduce_p = (golem_nccl_all_reduce_fn)dlsym(h, "ncclAllReduce");
	golem_nccl_comm_destroy_p = (golem_nccl_comm_destroy_fn)dlsym(h, "ncclCommDestroy");
	golem_nccl_error_string_p = (golem_nccl_error_string_fn)dlsym(h, "ncclGetErrorString");
	golem_nccl_group_start_p = (golem_nccl_group_fn)dlsym(h, "ncclGroupStart");
	golem_nccl_group_end_p = (golem_nccl_group_fn)dlsym(h, "ncclGroupEnd");
	golem_nccl_version_p = (golem_nccl_version_fn)dlsym(h, "ncclGetVersion");
	if (!golem_nccl_get_unique_id_p || !golem_nccl_comm_init_rank_p || !golem_nccl_all_reduce_p ||
	    !golem_nccl_comm_destroy_p || !golem_nccl_error_string_p || !golem_nccl_group_start_p ||
	    !golem_nccl_group_end_p || !golem_nccl_version_p)
		return "it lacks an NCCL symbol (ncclGetUniqueId, ncclCommInitRank, ncclAllReduce, ncclCommDestroy, ncclGetErrorString, ncclGroupStart, ncclGroupEnd, ncclGetVersion)";
	return 0;
}
static int golem_nccl_get_unique_id(golem_nccl_id *id) { return golem_nccl_get_unique_id_p(id); }
static int golem_nccl_comm_init_rank(golem_nccl_comm *c, int n, golem_nccl_id *id, int r) {
	return golem_nccl_comm_init_rank_p(c, n, *id, r);
}
static int golem_nccl_avg(uintptr_t buf, size_t n, golem_nccl_comm c, uintptr_t stream) {
	return golem_nccl_all_reduce_p((const void *)buf, (void *)buf, n, golem_nccl_float32, golem_nccl_op_avg, c, (void *)stream);
}
static int golem_nccl_comm_destroy(golem_nccl_comm c) { return golem_nccl_comm_destroy_p(c); }
static const char *golem_nccl_error_string(int rc) { return golem_nccl_error_string_p(rc); }
static int golem_nccl_group_start(void) { return golem_nccl_group_start_p(); }
static int golem_nccl_group_end(void) { return golem_nccl_group_end_p(); }
static int golem_nccl_version(int *v) { return golem_nccl_version_p(v); }
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// NCCLEnv names a libnccl to load instead of libnccl.so.2 (a path).
const NCCLEnv = "GOLEM_NCCL"

var (
	ncclOnce sync.Once
	ncclErr  error
)

func loadNCCL() error {
	ncclOnce.Do(func() {
		lib := os.Getenv(NCCLEnv)
		if lib == "" {
			lib = "libnccl.so.2"
		}
		cs := C.CString(lib)
		defer C.free(unsafe.Pointer(cs))
		if msg := C.golem_nccl_open(cs); msg != nil {
			ncclErr = fmt.Errorf("dist: cannot load NCCL %s: %s (it comes with PyTorch's CUDA wheels, nvidia-nccl-cu12/13, or the CUDA toolkit; set %s to its path)", lib, C.GoString(msg), NCCLEnv)
		}
	})
	return ncclErr
}

func ncclError(what string, rc C.int) error {
	return fmt.Errorf("%s: %s (NCCL error %d)", what, C.GoString(C.golem_nccl_error_string(rc)), int(rc))
}

// NCCL is a Comm whose gradient all-reduce runs on GPU memory with NVIDIA's
// NCCL, as llm.c does: the ranks are started and bootstrapped by another Comm
// (MPI under mpirun, which also carries the host-memory collectives), rank 0
// makes NCCL's unique id and the bootstrap Comm broadcasts it, then every rank
// joins with ncclCommInitRank on the GPU current in its thread. NCCL is loaded
// with dlopen (libnccl.so.2, or $GOLEM_NCCL), like cuBLAS in lmlib/gpt/cuda, so
// building needs no NCCL headers or library.
type NCCL struct {
	boot    Comm
	comm    C.golem_nccl_comm
	version int
	bucket  int // floats per all-reduce inside one group
}

// NewNCCL joins the ranks of boot in an NCCL communicator. The GPU this rank uses
// must be current (lmlib/gpt/cuda's Open makes it so).
func NewNCCL(boot Comm) (*NCCL, error) {
	if err := loadNCCL(); err != nil {
		return nil, err
	}
	var v C.int
	if rc := C.golem_nccl_version(&v); rc != 0 {
		return nil, ncclError("ncclGetVersion", rc)
	}
	var id C.golem_nccl_id
	idBytes := unsafe.Slice((*byte)(unsafe.Pointer(&id)), unsafe.Sizeof(id))
	if boot.Rank() == 0 {
		if rc := C.golem_nccl_get_unique_id(&id); rc != 0 {
			return nil, ncclError("ncclGetUniqueId", rc)
		}
	}
	if err := boot.Broadcast(idBytes, 0); err != nil {
		return nil, fmt.Errorf("dist: broadcast the NCCL unique id: %w", err)
	}
	n := &NCCL{boot: boot, version: int(v), bucket: DefaultBucketBytes / 4}
	if rc := C.golem_nccl_comm_init_rank(&n.comm, C.int(boot.Size()), &id, C.int(boot.Rank())); rc != 0 {
		return nil, ncclError(fmt.Sprintf("ncclCommInitRank (rank %d of %d)", boot.Rank(), boot.Size()), rc)
	}
	return n, nil
}

func (n *NCCL) Rank() int                            { return n.boot.Rank() }
func (n *NCCL) Size() int                            { return n.boot.Size() }
func (n *NCCL) AllreduceSum(buf []float32) error     { return n.boot.AllreduceSum(buf) }
func (n *NCCL) AllreduceSum64(buf []float64) error   { return n.boot.AllreduceSum64(buf) }
func (n *NCCL) Broadcast(buf []byte, root int) error { return n.boot.Broadcast(buf, root) }
func (n *NCCL) Barrier() error                       { return n.boot.Barrier() }
func (n *NCCL) Name() string {
	return fmt.Sprintf("NCCL %d.%d.%d over %s", n.version/10000, n.version/100%100, n.version%100, n.boot.Name())
}

// Close destroys the NCCL communicator (the bootstrap Comm stays open).
func (n *NCCL) Close() error {
	if n.comm == nil {
		return nil
	}
	rc := C.golem_nccl_comm_destroy(n.comm)
	n.comm = nil
	if rc != 0 {
		return ncclError("ncclCommDestroy", rc)
	}
	return nil
}

// Buckets returns the [start, end) float ranges AllreduceMeanDevice reduces for
// count floats.
func (n *NCCL) Buckets(count int) [][2]int {
	return (&GradSync{bucket: n.bucket}).Buckets(count)
}

// AllreduceMeanDevice replaces count float32 values at the device address ptr,
// on every rank, by their mean over the ranks (ncclAllReduce with ncclAvg, in
// place), as consecutive buckets of DefaultBucketBytes in one NCCL group, in the
// same order every call. It is enqueued on stream (0: the default stream, where
// lmlib/gpt/cuda launches its kernels, so it runs after the backward pass and
// before the optimizer step that follow on that stream).
func (n *NCCL) AllreduceMeanDevice(ptr uintptr, count int, stream uintptr) error {
	if n.comm == nil {
		return fmt.Errorf("dist: NCCL communicator closed")
	}
	if count == 0 {
		return nil
	}
	if rc := C.golem_nccl_group_start(); rc != 0 {
		return ncclError("ncclGroupStart", rc)
	}
	for i, b := range n.Buckets(count) {
		p := ptr + uintptr(b[0])*4
		if rc := C.golem_nccl_avg(C.uintptr_t(p), C.size_t(b[1]-b[0]), n.comm, C.uintptr_t(stream)); rc != 0 {
			C.golem_nccl_group_end()
			return ncclError(fmt.Sprintf("ncclAllReduce of bucket %d (floats %d to %d)", i, b[0], b[1]), rc)
		}
	}
	if rc := C.golem_nccl_group_end(); rc != 0 {
		return ncclError("ncclGroupEnd", rc)
	}
	return nil
}
