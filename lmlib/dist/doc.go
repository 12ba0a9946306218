// Package dist runs data-parallel training across processes on existing
// engines, as llm.c does: the ranks are started by mpirun (Debian's OpenMPI),
// and gradients are averaged with MPI_Allreduce on CPU memory — or with NCCL on
// GPU memory under the build tag cuda. golem has no network code of its own here:
// no cluster manager, no hand-rolled all-reduce.
//
// A Comm is the group of ranks. MPI (build tag mpi, which `make build` sets when
// OpenMPI's headers are installed) initialises MPI when a program runs under
// mpirun; without the tag, or outside mpirun, Init reports why there is no MPI
// and a program runs as one rank. Local is the one-rank Comm.
//
//	comm, err := dist.Init()             // MPI_Init under mpirun
//	defer comm.Close()                   // MPI_Finalize
//	g := dist.NewGradSync(comm, 0)       // 25 MB buckets, as PyTorch DDP's default
//	err = g.Mean(model.Grads)            // every rank: the mean of all ranks' gradients
//
// lmlib/train's TrainParallel and ResumeParallel use a Comm at the step boundary
// (the gradient all-reduce), and Launch starts `mpirun -np N golem train …` from a
// notebook and follows it.
package dist
