package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Kernelspec is the content of a kernel.json file.
type Kernelspec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env,omitempty"`
	Metadata      map[string]any    `json:"metadata"`
}

// NewKernelspec is golem's kernelspec for the binary at bin (an absolute path).
func NewKernelspec(bin string) Kernelspec {
	return Kernelspec{
		Argv:          []string{bin, "kernel", "--connection-file", "{connection_file}"},
		DisplayName:   "Go (golem)",
		Language:      "go",
		InterruptMode: "message",
		Metadata:      map[string]any{"debugger": true}, // JupyterLab enables its debugger panel on this (debug.go)
	}
}

// KernelsDir is where a kernelspec goes, as `jupyter kernelspec install` chooses:
// scope "user" (<Jupyter data dir>/kernels), "sys-prefix" ($VIRTUAL_ENV, else the
// sys.prefix of python3, then share/jupyter/kernels), "prefix" (prefix/share/jupyter/kernels)
// or "system" (/usr/local/share/jupyter/kernels; %PROGRAMDATA%\jupyter\kernels on Windows).
func KernelsDir(scope, prefix string) (string, error) {
	switch scope {
	case "user":
		d, err := JupyterDataDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "kernels"), nil
	case "sys-prefix":
		p := os.Getenv("VIRTUAL_ENV")
		if p == "" {
			out, err := exec.Command("python3", "-c", "import sys; print(sys.prefix)").Output()
			if err != nil {
				return "", fmt.Errorf("--sys-prefix: no $VIRTUAL_ENV and python3 gave no sys.prefix: %w", err)
			}
			p = strings.TrimSpace(string(out))
		}
		return filepath.Join(p, "share", "jupyter", "kernels"), nil
	case "prefix":
		if prefix == "" {
			return "", errors.New("--prefix needs a directory")
		}
		return filepath.Join(prefix, "share", "jupyter", "kernels"), nil
	case "system":
		if runtime.GOOS == "windows" {
			if pd := os.Getenv("PROGRAMDATA"); pd != "" {
				return filepath.Join(pd, "jupyter", "kernels"), nil
			}
		}
		return "/usr/local/share/jupyter/kernels", nil
	}
	return "", fmt.Errorf("unknown install scope %q", scope)
}

// InstallKernelspec writes kernel.json and the logos into kernelsDir/name,
// replacing an earlier install. Files are written to a temporary directory that
// is renamed into place, so a failed install leaves the old kernelspec intact.
func InstallKernelspec(kernelsDir, name string, spec Kernelspec) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("bad kernel name %q", name)
	}
	if err := os.MkdirAll(kernelsDir, 0o755); err != nil {
		return "", fmt.Errorf("create kernels dir %s: %w", kernelsDir, err)
	}
	tmp, err := os.MkdirTemp(kernelsDir, "."+name+"-install-")
	if err != nil {
		return "", fmt.Errorf("install kernelspec into %s: %w", kernelsDir, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	js, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	files := map[string][]byte{"kernel.json": append(js, '\n')}
	for _, size := range []int{32, 64} {
		files[fmt.Sprintf("logo-%dx%d.png", size, size)] = Logo(size)
	}
	for f, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", f, err)
		}
	}
	dst := filepath.Join(kernelsDir, name)
	if err := os.RemoveAll(dst); err != nil {
		return "", fmt.Errorf("replace %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", fmt.Errorf("install %s: %w", dst, err)
	}
	return dst, nil
}

// Logo draws golem's logo, a clay golem with Go-blue eyes, as a size×size PNG.
func Logo(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	clay := color.NRGBA{0xb0, 0x6a, 0x3b, 0xff}
	dark := color.NRGBA{0x6d, 0x3b, 0x1c, 0xff}
	gopher := color.NRGBA{0x00, 0xad, 0xd8, 0xff}
	// Shapes in a unit square; each pixel is 4×4 supersampled for smooth edges.
	type shape struct {
		in func(x, y float64) bool
		c  color.NRGBA
	}
	rrect := func(x0, y0, x1, y1, r float64) func(x, y float64) bool {
		return func(x, y float64) bool {
			cx := math.Max(x0+r, math.Min(x, x1-r))
			cy := math.Max(y0+r, math.Min(y, y1-r))
			return x >= x0 && x <= x1 && y >= y0 && y <= y1 && math.Hypot(x-cx, y-cy) <= r
		}
	}
	circle := func(cx, cy, r float64) func(x, y float64) bool {
		return func(x, y float64) bool { return math.Hypot(x-cx, y-cy) <= r }
	}
	shapes := []shape{ // drawn in order, later on top
		{rrect(0.10, 0.42, 0.24, 0.80, 0.06), dark}, // arms
		{rrect(0.76, 0.42, 0.90, 0.80, 0.06), dark},
		{rrect(0.28, 0.78, 0.45, 0.98, 0.05), dark}, // legs
		{rrect(0.55, 0.78, 0.72, 0.98, 0.05), dark},
		{rrect(0.20, 0.38, 0.80, 0.86, 0.10), clay}, // body
		{rrect(0.27, 0.04, 0.73, 0.42, 0.12), clay}, // head
		{circle(0.40, 0.22, 0.065), gopher},         // eyes
		{circle(0.60, 0.22, 0.065), gopher},
		{rrect(0.38, 0.31, 0.62, 0.35, 0.02), dark}, // mouth
		{rrect(0.34, 0.52, 0.66, 0.57, 0.02), dark}, // the word on its chest
		{rrect(0.34, 0.63, 0.58, 0.68, 0.02), dark},
	}
	const ss = 4
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					for i := len(shapes) - 1; i >= 0; i-- {
						if shapes[i].in(x, y) {
							c := shapes[i].c
							r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
							break
						}
					}
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(255 * a / (ss * ss))})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return buf.Bytes()
}
