//go:build !mpi

package dist

import "fmt"

// Init returns the MPI Comm of this process. This binary was built without the
// build tag mpi, so it never has one: under mpirun the error says how to get a
// binary with MPI, elsewhere it is ErrNoMPI (run as one rank).
func Init() (Comm, error) {
	if _, size, ok := UnderMPI(); ok {
		return nil, fmt.Errorf("%w: this golem was built without MPI but runs under mpirun (%d ranks); build it with `make build` after `make deps` installed OpenMPI, or go build -tags mpi", ErrNoMPI, size)
	}
	return nil, ErrNoMPI
}

// Built reports whether this binary has MPI (the build tag mpi).
func Built() bool { return false }
