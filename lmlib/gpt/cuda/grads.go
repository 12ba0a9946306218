//go:build cuda

package cuda

// GradBuffer returns the device address of the gradient buffer and its length in
// float32 values (the layout of gpt.Model.Grads), for a data-parallel step: a
// gradient all-reduce between Backward and GradNorm/AdamWStep, such as lmlib/dist's
// NCCL.AllreduceMeanDevice(ptr, n, 0) on the legacy default stream, where this
// model's kernels run, so it is ordered after the backward pass and before the
// update without a synchronisation of its own.
func (m *Model) GradBuffer() (ptr uintptr, n int) { return uintptr(m.grads.ptr), m.grads.n }
