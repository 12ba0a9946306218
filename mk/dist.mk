# area "dist": data-parallel training across processes (lmlib/dist, train.TrainParallel), see
# docs/train.md "Data-parallel training".
#
# OpenMPI comes from Debian (scripts/system-deps.sh: libopenmpi-dev, openmpi-bin). The cgo
# binding is behind the build tag mpi so a plain `go build` needs no MPI; `make build` adds
# the tag whenever OpenMPI's pkg-config file is there (evaluated when the recipe runs, so
# after `make deps` installed it).
BUILD_TAGS = $(shell pkg-config --exists ompi-c 2>/dev/null && echo -tags mpi)


.PHONY: bench-train-dp
bench: bench-train-dp

# Tokens/s of golem train on 1 and 2 ranks (same global batch), and the all-reduce time of
# one step's gradients for GPT-2 124M (124,439,808 floats, 25 MB buckets) on 2 ranks:
# golem (MPI_Allreduce through lmlib/dist) against PyTorch DDP's gloo backend, same cores.
# Ends with `bench: allreduce-gpt2 golem=… pytorch=… ratio=…` (ratio above 1: golem faster).
bench-train-dp: deps venv peers build
	$(GO) build -tags mpi -o bin/golem-benchdp ./tools/benchdp
	flock /tmp/golem-bench.lock $(PY) tools/benchdp/bench.py --golem $(CURDIR)/$(BIN) --benchdp $(CURDIR)/bin/golem-benchdp
