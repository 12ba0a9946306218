//go:build cuda

// Package cuda is golem's GPU backend for the GPT engine (lmlib/gpt), built only
// with the `cuda` build tag (`make cuda-build`): the default build never imports
// gorgonia.org/cu, whose package init exits the process on a machine without a GPU.
//
// The backend is a device-resident Model that mirrors gpt.Model's training API
// (Forward, Backward, ZeroGrad, GradNorm, ScaleGrads, AdamWStep, Logits) and runs
// gpt.Model's own op sequence: Forward and Backward are gpt.Net's, issued through
// gpt.Ops implemented over device pointers (ops.go), with the activations laid out
// by gpt.Net's activation size table and batches checked by gpt.Config.CheckBatch.
// The parameters, gradients, AdamW moments and activations all live in device memory
// (plain cuMemAlloc allocations, never managed memory). Host copies happen only
// where the API hands numbers back: the loss (N floats), GradNorm (one double),
// Logits, and the explicit SyncToHost/LoadFrom that move whole parameter buffers
// to and from a gpt.Model — which is how checkpoints stay interchangeable with
// CPU runs (the layout is gpt.Model's, tensor for tensor).
//
// Matrix products go to cuBLAS (GemmEx and GemmStridedBatchedEx, fp32 storage,
// fp32 or TF32 tensor-core compute), reached through a small cgo shim that loads
// libcublas with dlopen at start-up (libcublas.so.13, then .12) so the binary is
// not tied to one CUDA toolkit's cuBLAS. Every other op is one of golem's own
// kernels in kernels.cu, compiled to PTX by NVRTC at build time (`make cuda-ptx`,
// compute_90) and JIT-compiled by the driver when a Device opens.
package cuda
