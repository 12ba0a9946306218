//go:build cuda && mpi

package dist

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestNCCLUnderMPI runs in every rank of `mpirun -np N` with GOLEM_NCCL set to
// the fake NCCL of testdata/fakenccl.c (TestNCCLEmulated starts it): the binding
// loads NCCL, bootstraps the communicator over MPI (rank 0's unique id), and
// averages a "device" buffer in buckets within one group.
func TestNCCLUnderMPI(t *testing.T) {
	if _, _, ok := UnderMPI(); !ok || os.Getenv(NCCLEnv) == "" {
		t.Skip("TestNCCLEmulated runs this under mpirun with the fake NCCL")
	}
	boot, err := Init()
	if err != nil {
		t.Fatal(err)
	}
	defer boot.Close()
	n, err := NewNCCL(boot)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(n.Name(), "NCCL 2.18.5 over Open MPI") {
		t.Fatalf("name %q", n.Name())
	}
	n.bucket = 7 // many buckets in one group
	g := make([]float32, 100)
	for i := range g {
		g[i] = float32(i * (n.Rank() + 1))
	}
	if err := n.AllreduceMeanDevice(uintptr(unsafe.Pointer(&g[0])), len(g), 0); err != nil {
		t.Fatal(err)
	}
	k := float32(n.Size()+1) / 2
	for i, v := range g {
		if v != float32(i)*k {
			t.Fatalf("rank %d: mean[%d] = %v, want %v", n.Rank(), i, v, float32(i)*k)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.AllreduceMeanDevice(uintptr(unsafe.Pointer(&g[0])), len(g), 0); err == nil {
		t.Fatal("all-reduce on a closed communicator")
	}
}
