// Package gpt is golem's GPT-2: the model definition, its parameters and gradients
// as views into one contiguous buffer each, and explicit forward/backward kernels
// per op in the llm.c style, behind a Backend interface. The op sequence (Net's
// Forward and Backward, over buffer handles through Ops) is written once and shared
// with the GPU engine in lmlib/gpt/cuda. The CPU backend runs the matrix products
// on OpenBLAS (cgo) and everything else as Go loops split across GOMAXPROCS
// workers, fusing the classifier with softmax and cross-entropy and the residual
// add with LayerNorm. It matches PyTorch to 1e-4 (see testdata).
//
// A training step is
//
//	m.ZeroGrad() // unless accumulating
//	loss, err := m.ForwardBackward(tokens, targets, B, T) // or Forward, then Backward
//	m.AdamWStep(lr, 0.9, 0.95, 1e-8, 0.1, step, mom, vel)
//
// On the CPU backend a training batch runs as one shard of rows per worker, each
// shard's forward and backward on one worker (data parallelism inside the step,
// SetShards); the batch run whole splits every op over the workers instead.
package gpt
