// A stand-in for libnccl.so.2 on a machine without GPUs, for testing lmlib/dist's
// NCCL binding (the build tag cuda) under mpirun: the same entry points and
// ABI, with "device" buffers that are host memory and the reduction done by
// MPI_Allreduce. It checks what real NCCL would reject: a unique id that rank 0
// did not make and broadcast, a rank or size that disagrees with the job, a data
// type other than float32, an all-reduce that is not in place, unbalanced groups.
//
// Build: gcc -shared -fPIC -o libfakenccl.so fakenccl.c $(pkg-config --cflags --libs ompi-c)
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct { char internal[128]; } ncclUniqueId;
typedef struct fake_comm { int rank, nranks; } *ncclComm_t;

enum { ok = 0, unhandled = 1, system_error = 2, internal = 3, invalid_argument = 4, invalid_usage = 5 };

static int group_depth;

int ncclGetVersion(int *v) { *v = 21805; return ok; }

const char *ncclGetErrorString(int rc) {
	switch (rc) {
	case ok: return "no error";
	case invalid_argument: return "invalid argument (fake NCCL)";
	case invalid_usage: return "invalid usage (fake NCCL)";
	default: return "internal error (fake NCCL)";
	}
}

int ncclGetUniqueId(ncclUniqueId *id) {
	memset(id, 0, sizeof *id);
	snprintf(id->internal, sizeof id->internal, "fake-nccl %d %ld", (int)getpid(), (long)time(NULL));
	return ok;
}

int ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId id, int rank) {
	int size, me;
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	if (nranks != size || rank != me || strncmp(id.internal, "fake-nccl ", 10) != 0) return invalid_argument;
	// Every rank must hold rank 0's id.
	ncclUniqueId first = id;
	MPI_Bcast(&first, sizeof first, MPI_BYTE, 0, MPI_COMM_WORLD);
	int same = memcmp(&first, &id, sizeof id) == 0, all = 0;
	MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (!all) return invalid_usage;
	*comm = malloc(sizeof **comm);
	(*comm)->rank = rank;
	(*comm)->nranks = nranks;
	return ok;
}

int ncclCommDestroy(ncclComm_t comm) { free(comm); return ok; }
int ncclGroupStart(void) { group_depth++; return ok; }
int ncclGroupEnd(void) { return group_depth-- > 0 ? ok : invalid_usage; }

int ncclAllReduce(const void *send, void *recv, size_t count, int type, int op, ncclComm_t comm, void *stream) {
	(void)stream;
	if (!comm || type != 7 || send != recv || (op != 0 && op != 4)) return invalid_argument;
	if (count > (size_t)1 << 30) return invalid_argument;
	if (MPI_Allreduce(MPI_IN_PLACE, recv, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) return system_error;
	if (op == 4) {
		float *f = recv;
		for (size_t i = 0; i < count; i++) f[i] /= (float)comm->nranks;
	}
	return ok;
}
