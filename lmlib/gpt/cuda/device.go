//go:build cuda

package cuda

import (
	_ "embed"
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"

	"gorgonia.org/cu"
)

// kernelsPTX is kernels.cu compiled by NVRTC (make cuda-ptx); the driver JIT-compiles it.
//
//go:embed kernels.ptx
var kernelsPTX string

// kernelNames are the entry points of kernels.cu.
var kernelNames = []string{
	"encoder_forward", "encoder_backward_wte", "encoder_backward_wpe",
	"layernorm_forward", "layernorm_backward", "add_bias", "bias_backward",
	"attn_permute", "attn_permute_backward", "attn_unpermute", "attn_softmax", "attn_softmax_backward",
	"gelu_forward", "gelu_backward", "crossentropy_softmax", "adamw", "sum_squares", "scale", "f32_to_bf16",
	"softcap_forward", "rmsnorm_forward", "rmsnorm_backward", "qk_rotary_forward", "qk_rotary_backward",
	"relu2_forward", "relu2_backward",
}

// Options configure a Device.
type Options struct {
	Ordinal int  // GPU index (0: the first)
	TF32    bool // let cuBLAS round matrix-product inputs to TF32 on tensor cores (faster, ~1e-3 relative)
	// BF16 rounds both operands of every matrix product to bf16 (fp32 accumulation and
	// output, fp32 master weights, gradients and optimizer state: mixed precision as
	// torch.autocast does for matmuls). Everything else stays fp32. Overrides TF32.
	BF16 bool
}

// Device is one GPU: its primary context, golem's kernels loaded from PTX, and a
// cuBLAS handle. All work goes to the legacy default stream, so the ops of a
// training step run in order and a host copy after them sees their results.
// Methods lock the calling goroutine to its OS thread and make the context
// current first, so a Device may be used from any goroutine (one at a time).
type Device struct {
	dev   cu.Device
	ctx   cu.CUContext
	mod   cu.Module
	fn    map[string]cu.Function
	blas  *blas
	name  string
	cc    [2]int
	SMs   int
	tf32  bool
	bf16  bool
	bytes int64 // device memory allocated by golem

	bfA, bfB buffer // bf16 operand scratch (Options.BF16)

	prof map[string]*OpTime // per-op timing when profiling (SetProfile)
}

// OpTime is the accumulated wall time and call count of one kernel or GEMM kind.
type OpTime struct {
	Calls   int
	Seconds float64
}

// SetProfile switches per-op timing on (a synchronisation before and after every
// kernel and GEMM, so it slows the step down) and clears what was gathered.
func (d *Device) SetProfile(on bool) {
	d.prof = nil
	if on {
		d.prof = map[string]*OpTime{}
	}
}

// Profile returns the per-op times gathered since SetProfile(true).
func (d *Device) Profile() map[string]OpTime {
	out := make(map[string]OpTime, len(d.prof))
	for k, v := range d.prof {
		out[k] = *v
	}
	return out
}

// timed runs f, accumulating its synchronised wall time under name when profiling.
func (d *Device) timed(name string, f func() error) error {
	if d.prof == nil {
		return f()
	}
	if err := cu.Synchronize(); err != nil {
		return err
	}
	start := time.Now()
	err := f()
	if serr := cu.Synchronize(); err == nil {
		err = serr
	}
	t := d.prof[name]
	if t == nil {
		t = &OpTime{}
		d.prof[name] = t
	}
	t.Calls++
	t.Seconds += time.Since(start).Seconds()
	return err
}

// Open initialises GPU opts.Ordinal: retains its primary context, loads the kernels
// and creates the cuBLAS handle.
func Open(opts Options) (*Device, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: count devices: %w", err)
	}
	if opts.Ordinal < 0 || opts.Ordinal >= n {
		return nil, fmt.Errorf("cuda: GPU %d requested, %d present", opts.Ordinal, n)
	}
	d := &Device{fn: map[string]cu.Function{}, tf32: opts.TF32 && !opts.BF16, bf16: opts.BF16}
	if d.dev, err = cu.GetDevice(opts.Ordinal); err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", opts.Ordinal, err)
	}
	if d.name, err = d.dev.Name(); err != nil {
		return nil, fmt.Errorf("cuda: device %d name: %w", opts.Ordinal, err)
	}
	maj, err := d.dev.Attribute(cu.ComputeCapabilityMajor)
	if err != nil {
		return nil, fmt.Errorf("cuda: %s compute capability: %w", d.name, err)
	}
	min, _ := d.dev.Attribute(cu.ComputeCapabilityMinor)
	d.cc = [2]int{maj, min}
	d.SMs, _ = d.dev.Attribute(cu.MultiprocessorCount)
	if maj < 9 {
		return nil, fmt.Errorf("cuda: %s has compute capability %d.%d; the kernels are built for compute_90 (H100 or newer); rebuild kernels.ptx with a lower -arch", d.name, maj, min)
	}
	if d.ctx, err = d.dev.RetainPrimaryCtx(); err != nil {
		return nil, fmt.Errorf("cuda: %s primary context: %w", d.name, err)
	}
	if err := cu.SetCurrentContext(d.ctx); err != nil {
		return nil, fmt.Errorf("cuda: %s set context: %w", d.name, err)
	}
	if d.mod, err = cu.LoadData(kernelsPTX); err != nil {
		return nil, fmt.Errorf("cuda: load kernels.ptx on %s (driver %d): %w", d.name, cu.Version(), err)
	}
	for _, k := range kernelNames {
		f, err := d.mod.Function(k)
		if err != nil {
			return nil, fmt.Errorf("cuda: kernel %s: %w", k, err)
		}
		d.fn[k] = f
	}
	if d.blas, err = newBlas(opts.TF32); err != nil {
		return nil, err
	}
	return d, nil
}

// String names the device and precision: "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs,
// driver 13000, cuBLAS 130000 from libcublas.so.13, matmuls TF32)".
func (d *Device) String() string {
	mm := "fp32"
	switch {
	case d.bf16:
		mm = "bf16 operands, fp32 accumulation"
	case d.tf32:
		mm = "TF32"
	}
	return fmt.Sprintf("%s (sm_%d%d, %d SMs, driver %d, cuBLAS %d from %s, matmuls %s)", d.name, d.cc[0], d.cc[1], d.SMs, cu.Version(), d.blas.version(), cublasPath, mm)
}

// Name returns the GPU's name.
func (d *Device) Name() string { return d.name }

// enter pins the goroutine to its thread and makes the context current; the
// returned function undoes the pin.
func (d *Device) enter() func() {
	runtime.LockOSThread()
	if err := cu.SetCurrentContext(d.ctx); err != nil {
		panic(fmt.Sprintf("cuda: set context of %s: %v", d.name, err))
	}
	return runtime.UnlockOSThread
}

// Synchronize waits for all queued work.
func (d *Device) Synchronize() error {
	defer d.enter()()
	return cu.Synchronize()
}

// buffer is a device allocation of n float32 (or bytes/4) elements.
type buffer struct {
	ptr cu.DevicePtr
	n   int // elements of 4 bytes
}

func (b buffer) at(i int) cu.DevicePtr { return b.ptr + cu.DevicePtr(4*i) }

func (d *Device) alloc(n int, what string) (buffer, error) {
	if n == 0 {
		return buffer{}, nil
	}
	p, err := cu.MemAlloc(int64(n) * 4)
	if err != nil {
		return buffer{}, fmt.Errorf("cuda: allocate %s (%d floats, %.1f MiB; %.1f MiB already held): %w", what, n, float64(n)*4/(1<<20), float64(d.bytes)/(1<<20), err)
	}
	d.bytes += int64(n) * 4
	if err := cu.MemsetD32(p, 0, int64(n)); err != nil {
		return buffer{}, fmt.Errorf("cuda: clear %s: %w", what, err)
	}
	return buffer{ptr: p, n: n}, nil
}

func (d *Device) free(b *buffer) {
	if b.ptr != 0 {
		cu.MemFree(b.ptr)
		d.bytes -= int64(b.n) * 4
	}
	*b = buffer{}
}

func (d *Device) zero(b buffer) error {
	if b.n == 0 {
		return nil
	}
	return cu.MemsetD32(b.ptr, 0, int64(b.n))
}

func toDevice[T float32 | int32 | uint8 | float64](dst cu.DevicePtr, src []T) error {
	if len(src) == 0 {
		return nil
	}
	return cu.MemcpyHtoD(dst, unsafe.Pointer(&src[0]), int64(len(src))*int64(unsafe.Sizeof(src[0])))
}

func toHost[T float32 | int32 | float64](dst []T, src cu.DevicePtr) error {
	if len(dst) == 0 {
		return nil
	}
	return cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), src, int64(len(dst))*int64(unsafe.Sizeof(dst[0])))
}

// Kernel arguments travel in 8-byte slots (cu's Launch copies 8 bytes per
// parameter); int and float parameters read the low bytes (little-endian).
func pArg(p cu.DevicePtr) uint64 { return uint64(p) }
func iArg(v int) uint64          { return uint64(int64(v)) }
func fArg(v float32) uint64      { return uint64(math.Float32bits(v)) }

// launch runs kernel name on a 1-D grid.
func (d *Device) launch(name string, grid, block, shared int, args ...uint64) error {
	fn, ok := d.fn[name]
	if !ok {
		return fmt.Errorf("cuda: no kernel %s", name)
	}
	if grid <= 0 {
		return nil
	}
	ptrs := make([]unsafe.Pointer, len(args))
	for i := range args {
		ptrs[i] = unsafe.Pointer(&args[i])
	}
	if err := d.timed(name, func() error { return fn.Launch(grid, 1, 1, block, 1, 1, shared, cu.Stream{}, ptrs) }); err != nil {
		return fmt.Errorf("cuda: launch %s (grid %d, block %d): %w", name, grid, block, err)
	}
	return nil
}

// launch2 runs kernel name on a (gx, gy) grid.
func (d *Device) launch2(name string, gx, gy, block int, args ...uint64) error {
	fn, ok := d.fn[name]
	if !ok {
		return fmt.Errorf("cuda: no kernel %s", name)
	}
	ptrs := make([]unsafe.Pointer, len(args))
	for i := range args {
		ptrs[i] = unsafe.Pointer(&args[i])
	}
	if err := d.timed(name, func() error { return fn.Launch(gx, gy, 1, block, 1, 1, 0, cu.Stream{}, ptrs) }); err != nil {
		return fmt.Errorf("cuda: launch %s (grid %dx%d, block %d): %w", name, gx, gy, block, err)
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
