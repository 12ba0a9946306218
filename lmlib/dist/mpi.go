//go:build mpi

package dist

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdlib.h>

static int golem_mpi_init(int *rank, int *size, int *provided) {
	int inited = 0;
	MPI_Initialized(&inited);
	if (!inited) {
		int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
		if (rc != MPI_SUCCESS) return rc;
	}
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}
static int golem_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int golem_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int golem_bcast(void *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD);
}
static int golem_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int golem_finalize(void) { return MPI_Finalize(); }
static void golem_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static void golem_error_string(int code, char *out, int *len) { MPI_Error_string(code, out, len); }
static void golem_version(char *out, int *len) { MPI_Get_library_version(out, len); }
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// maxCount is the most elements one MPI call takes (its count is an int).
const maxCount = 1 << 30

// MPI is the Comm of MPI_COMM_WORLD. Every MPI call runs on one goroutine locked
// to the OS thread that called MPI_Init_thread (MPI_THREAD_FUNNELED), whatever
// goroutine asks for it.
type MPI struct {
	rank, size int
	version    string
	calls      chan func()
	mu         sync.Mutex
	closed     bool
}

var (
	mpiOnce sync.Once
	mpiComm *MPI
	mpiErr  error
)

// Init returns the MPI Comm of this process: MPI is initialised (once) when the
// process runs under mpirun; outside it Init returns ErrNoMPI and the program
// runs as one rank.
func Init() (Comm, error) {
	if _, _, ok := UnderMPI(); !ok {
		return nil, ErrNoMPI
	}
	mpiOnce.Do(func() { mpiComm, mpiErr = initMPI() })
	if mpiErr != nil {
		return nil, mpiErr
	}
	return mpiComm, nil
}

// Built reports whether this binary has MPI (the build tag mpi).
func Built() bool { return true }

func initMPI() (*MPI, error) {
	m := &MPI{calls: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: this thread is MPI's
		var rank, size, provided C.int
		if rc := C.golem_mpi_init(&rank, &size, &provided); rc != C.MPI_SUCCESS {
			ready <- fmt.Errorf("MPI_Init_thread: %s", errorString(rc))
			return
		}
		m.rank, m.size = int(rank), int(size)
		buf := make([]byte, C.MPI_MAX_LIBRARY_VERSION_STRING)
		var n C.int
		C.golem_version((*C.char)(unsafe.Pointer(&buf[0])), &n)
		m.version = strings.TrimSpace(strings.SplitN(string(buf[:n]), ",", 2)[0])
		ready <- nil
		for f := range m.calls {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return m, nil
}

func errorString(rc C.int) string {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.golem_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	return fmt.Sprintf("%s (MPI error %d)", string(buf[:n]), int(rc))
}

// do runs f on the MPI thread.
func (m *MPI) do(what string, f func() C.int) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return fmt.Errorf("%s: MPI already finalized", what)
	}
	var rc C.int
	done := make(chan struct{})
	m.calls <- func() { rc = f(); close(done) }
	<-done
	if rc != C.MPI_SUCCESS {
		return fmt.Errorf("%s: %s", what, errorString(rc))
	}
	return nil
}

func (m *MPI) Rank() int { return m.rank }
func (m *MPI) Size() int { return m.size }
func (m *MPI) Name() string {
	return fmt.Sprintf("%s, %d ranks", m.version, m.size)
}

func (m *MPI) AllreduceSum(buf []float32) error {
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		p := (*C.float)(unsafe.Pointer(&buf[0]))
		if err := m.do("MPI_Allreduce", func() C.int { return C.golem_allreduce_f32(p, C.int(n)) }); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (m *MPI) AllreduceSum64(buf []float64) error {
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		p := (*C.double)(unsafe.Pointer(&buf[0]))
		if err := m.do("MPI_Allreduce", func() C.int { return C.golem_allreduce_f64(p, C.int(n)) }); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (m *MPI) Broadcast(buf []byte, root int) error {
	if root < 0 || root >= m.size {
		return fmt.Errorf("broadcast from rank %d of %d", root, m.size)
	}
	for len(buf) > 0 {
		n := min(len(buf), maxCount)
		p := unsafe.Pointer(&buf[0])
		if err := m.do("MPI_Bcast", func() C.int { return C.golem_bcast(p, C.int(n), C.int(root)) }); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

func (m *MPI) Barrier() error {
	return m.do("MPI_Barrier", func() C.int { return C.golem_barrier() })
}

// Close calls MPI_Finalize (once).
func (m *MPI) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	err := m.do("MPI_Finalize", func() C.int { return C.golem_finalize() })
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return err
}

// Abort ends every rank of the job (MPI_Abort) with the exit code.
func (m *MPI) Abort(code int) {
	_ = m.do("MPI_Abort", func() C.int { C.golem_abort(C.int(code)); return C.MPI_SUCCESS })
}
