//go:build !mpi

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "benchdp: built without MPI; build with go build -tags mpi ./tools/benchdp (make bench-train-dp does)")
	os.Exit(2)
}
