//go:build cuda

// Command ptxgen compiles golem's CUDA kernels (lmlib/gpt/cuda/kernels.cu) to PTX
// with NVRTC (gorgonia.org/cu/nvrtc) and writes lmlib/gpt/cuda/kernels.ptx, which
// the cuda package embeds and the driver JIT-compiles at start-up. It needs only
// libnvrtc (no GPU, no driver), so it runs on the build machine:
//
//	make cuda-ptx   # = go run -tags cuda ./tools/gpucheck/ptxgen -arch compute_90
//
// With -check it compiles and compares with the existing file instead of writing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"gorgonia.org/cu/nvrtc"
)

func main() {
	src := flag.String("src", "lmlib/gpt/cuda/kernels.cu", "CUDA C source")
	out := flag.String("out", "lmlib/gpt/cuda/kernels.ptx", "PTX output")
	arch := flag.String("arch", "compute_90", "virtual architecture (H100: compute_90)")
	check := flag.Bool("check", false, "compare with -out instead of writing it")
	flag.Parse()
	if err := run(*src, *out, *arch, *check); err != nil {
		fmt.Fprintln(os.Stderr, "ptxgen:", err)
		os.Exit(1)
	}
}

func run(src, out, arch string, check bool) error {
	code, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read kernels: %w", err)
	}
	ptx, err := Compile(string(code), filepath.Base(src), arch)
	if err != nil {
		return err
	}
	major, minor, _ := nvrtc.Version()
	if check {
		old, err := os.ReadFile(out)
		if err != nil {
			return fmt.Errorf("read %s: %w", out, err)
		}
		if !bytes.Equal(old, []byte(ptx)) {
			return fmt.Errorf("%s is stale: regenerate it with make cuda-ptx (NVRTC %d.%d)", out, major, minor)
		}
		fmt.Printf("ptxgen: %s is up to date (NVRTC %d.%d, %s)\n", out, major, minor, arch)
		return nil
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, []byte(ptx), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	fmt.Printf("ptxgen: wrote %s (%d bytes, NVRTC %d.%d, %s)\n", out, len(ptx), major, minor, arch)
	return nil
}

// Compile compiles CUDA C source to PTX for arch, returning the compiler log in the error.
func Compile(source, name, arch string) (string, error) {
	prog, err := nvrtc.CreateProgram(source, name)
	if err != nil {
		return "", fmt.Errorf("nvrtc create %s: %w", name, err)
	}
	defer prog.Destroy()
	opts := []string{"--gpu-architecture=" + arch, "--std=c++17", "-default-device", "-lineinfo"}
	if err := prog.Compile(opts...); err != nil {
		log, _ := prog.GetLog()
		return "", fmt.Errorf("nvrtc compile %s (%v): %w\n%s", name, opts, err, log)
	}
	return prog.GetPTX()
}
