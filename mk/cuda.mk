# area "cuda": the GPU backend lmlib/gpt/cuda (build tag cuda), see docs/cuda.md.
#
#   make cuda-build   headers + link stub here (no GPU needed), PTX check, go vet/build -tags cuda ./...,
#                     bin/golem-cuda (the golem binary with the tag), bin/golem-gpucheck, bin/cuda.test
#   make cuda-emu-check  run every kernel of kernels.cu on the CPU (emulated threads) against numpy
#   make cuda-emu-parity  bin/golem-gpucheck parity on a host-memory fake driver + fake cuBLAS (no GPU)
#   make cuda-ptx     recompile lmlib/gpt/cuda/kernels.cu to kernels.ptx with NVRTC (CPU only)
#   make gpu-check    on the GPU machine (no Go there): tools/gpucheck/gpucheck.sh with the carried binary
#
# CUDA 12 headers and NVRTC come from PyPI wheels installed into build/cuda12 (not into
# .venv, whose torch wheels are CUDA 13). libcuda.so (the driver) is not in any wheel:
# cgo links against a stub generated from cuda.h (tools/gpucheck/mkstub.py, soname
# libcuda.so.1, every function returns CUDA_ERROR_STUB_LIBRARY); at run time the GPU
# machine's driver library is loaded. cuBLAS is not linked at all: lmlib/gpt/cuda dlopens
# libcublas.so.13 (or .12) at start-up. OpenBLAS (CPU engine) is linked statically so
# the binary needs only libc (GLIBC ≤ 2.34) and libcuda.so.1.
.PHONY: cuda-deps cuda-ptx cuda-ptx-check cuda-emu-check cuda-emu-parity cuda-build gpu-check

CUDA12        := $(CURDIR)/build/cuda12
CUDA_WHEELS   := nvidia-cuda-runtime-cu12==12.9.79 nvidia-cuda-nvrtc-cu12==12.9.86
CUDA_ENV      := CGO_CFLAGS="-I$(CUDA12)/include" \
                 CGO_LDFLAGS="-L$(CUDA12)/blas-static -L$(CUDA12)/stubs -L$(CUDA12)/lib -lm"
CUDA_RUN_ENV  := LD_LIBRARY_PATH=$(CUDA12)/py/nvidia/cuda_nvrtc/lib

$(CUDA12)/.stamp: mk/cuda.mk tools/gpucheck/mkstub.py
	@test -x $(PY) || $(MAKE) venv
	$(PY) -m pip install -q --no-deps --target $(CUDA12)/py $(CUDA_WHEELS)
	mkdir -p $(CUDA12)/include $(CUDA12)/lib $(CUDA12)/blas-static
	for d in $(CUDA12)/py/nvidia/*/include; do for f in $$d/*; do ln -sfn $$f $(CUDA12)/include/; done; done
	ln -sfn $(CUDA12)/py/nvidia/cuda_nvrtc/lib/libnvrtc.so.12 $(CUDA12)/lib/libnvrtc.so
	ln -sfn $$(gcc -print-file-name=libopenblas.a) $(CUDA12)/blas-static/libopenblas.a
	@test -e $(CUDA12)/blas-static/libopenblas.a || { echo "cuda-deps: libopenblas.a not found (apt-get install libopenblas-dev)"; exit 1; }
	python3 tools/gpucheck/mkstub.py $(CUDA12)/include $(CUDA12)/stubs
	touch $@

cuda-deps: $(CUDA12)/.stamp

bin/ptxgen: $(CUDA12)/.stamp tools/gpucheck/ptxgen/main.go
	$(CUDA_ENV) $(GO) build -tags cuda -o $@ ./tools/gpucheck/ptxgen

cuda-ptx: bin/ptxgen
	$(CUDA_RUN_ENV) bin/ptxgen -arch compute_90

cuda-ptx-check: bin/ptxgen
	$(CUDA_RUN_ENV) bin/ptxgen -arch compute_90 -check

# The kernels (not cuBLAS) on the CPU through tools/gpucheck/emu (g++ ≥ 12, numpy), against numpy.
cuda-emu-check: peers
	$(PY) tools/gpucheck/emu/check_kernels.py build/cuda-emu

# The whole device model without a GPU: bin/golem-gpucheck parity against a host-memory
# libcuda.so.1/libcublas.so.13 (tools/gpucheck/emu/fakedriver.cpp) that runs the emulated
# kernels and naive GEMMs. About 5 minutes on 2 cores (thread-per-CUDA-thread emulation).
cuda-emu-parity: cuda-build
	python3 tools/gpucheck/emu/build.py build/cuda-emu $(CUDA12)/stubs/libcuda_stub.c
	LD_LIBRARY_PATH=build/cuda-emu GOLEM_CUBLAS=$(CURDIR)/build/cuda-emu/libcublas.so.13 bin/cuda.test -test.v
	LD_LIBRARY_PATH=build/cuda-emu GOLEM_CUBLAS=$(CURDIR)/build/cuda-emu/libcublas.so.13 bin/golem-gpucheck parity

cuda-build: cuda-ptx-check cuda-emu-check
	$(CUDA_ENV) $(GO) vet -tags cuda ./lmlib/gpt/cuda ./tools/gpucheck/...
	$(CUDA_ENV) $(GO) build -tags cuda ./...
	$(CUDA_ENV) $(GO) build -tags cuda -ldflags "$(LDFLAGS)" -o bin/golem-cuda ./cmd/golem
	$(CUDA_ENV) $(GO) build -tags cuda -ldflags "-s -w" -o bin/golem-gpucheck ./tools/gpucheck
	$(CUDA_ENV) $(GO) test -c -tags cuda -ldflags "-s -w" -o bin/cuda.test ./lmlib/gpt/cuda
	@ldd bin/golem-gpucheck | sed 's/^/  /'
	@echo "cuda-build: ok; on the GPU machine run: bash tools/gpucheck/gpucheck.sh (carry bin/golem-gpucheck)"

# On the GPU machine: no Go there, so nothing is built; the binary must have been carried.
gpu-check:
	bash tools/gpucheck/gpucheck.sh
