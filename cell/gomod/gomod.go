// Package gomod gives notebook cells third-party Go modules: it pins them in a
// go.mod next to the notebook (the `%get` magic of package cell) and builds a
// golem binary whose interpreter can import them.
//
// yaegi v0.16.1 cannot interpret most real modules from source (gonum uses the
// min/max builtins, assembly with build tags, generic code yaegi rejects), so a
// module's packages run compiled, as golem's own lmlib does: `yaegi extract`
// writes their symbol tables into a generated package, and `go build` links it
// into a new golem binary in <notebook dir>/.golem/kernel. The kernel then
// restarts into that binary (kernel.ReexecStatus): the variables of earlier cells
// are lost, the go.mod keeps the versions so a rerun gets the same ones.
package gomod

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/golem-lm/golem/cell/symbols"
)

// Set with -ldflags -X by Build, in the binaries it builds.
var (
	// Source is the directory of golem's source the binary was built from
	// (GOLEM_SRC overrides it).
	Source string
	// BuiltPackages is the space-separated list of the third-party packages
	// compiled into this binary.
	BuiltPackages string
	// BuiltFor is the key (see Key) of the notebook setup this binary was built for.
	BuiltFor string
	// Base identifies the golem binary that built this one (empty in a binary
	// not built by Build: its own contents identify it).
	Base string
)

const golemModule = "github.com/golem-lm/golem"

// Package is one package a %get resolved.
type Package struct {
	ImportPath, Name string
	Module, Version  string
}

// argPattern is one %get argument: an import path, optionally @version.
var argPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~/-]*(@[A-Za-z0-9._+-]+)?$`)

// Go is the go command used (its directory is on PATH in the kernel's environment
// or found next to GOROOT).
func Go() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if r := os.Getenv("GOROOT"); r != "" {
		return filepath.Join(r, "bin", "go")
	}
	return "go"
}

// EnsureGoMod writes dir/go.mod (module notebook) when there is none.
func EnsureGoMod(ctx context.Context, dir string) error {
	p := filepath.Join(dir, "go.mod")
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	v, err := goVersion(ctx)
	if err != nil {
		return err
	}
	content := fmt.Sprintf("// The Go modules this notebook's cells import (golem's %%get pins them here).\nmodule notebook\n\ngo %s\n", v)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

func goVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, Go(), "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("the go command is needed for %%get (go env GOVERSION: %v)", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "go")
	// the language version only ("1.26", not "1.26.8" or a prerelease): a go line
	// naming a patch release makes an older 1.26 toolchain try to download that one
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("go env GOVERSION: unexpected %q", v)
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	return parts[0] + "." + minor, nil
}

// Get pins the packages named by args (import paths, each optionally @version;
// no version: the one go.mod has, else the latest) in dir/go.mod with `go get`,
// and returns them with their modules and versions.
func Get(ctx context.Context, dir string, args []string, log io.Writer) ([]Package, error) {
	if len(args) == 0 {
		return nil, errors.New("%get needs a package: %get gonum.org/v1/gonum/mat@v0.17.0")
	}
	var paths []string
	for _, a := range args {
		if !argPattern.MatchString(a) || strings.Contains(a, "..") {
			return nil, fmt.Errorf("%%get %q: not an import path with an optional @version", a)
		}
		p, _, _ := strings.Cut(a, "@")
		if !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
			return nil, fmt.Errorf("%%get %q: %s is not a module path (the standard library needs no %%get; a module path starts with a domain, e.g. github.com/google/uuid)", a, p)
		}
		paths = append(paths, p)
	}
	if err := EnsureGoMod(ctx, dir); err != nil {
		return nil, err
	}
	getArgs := slices.Clone(args)
	for i, a := range getArgs {
		if !strings.Contains(a, "@") && !required(dir, a) {
			getArgs[i] = a + "@latest"
		}
	}
	if _, err := goCmd(ctx, dir, log, append([]string{"get"}, getArgs...)...); err != nil {
		return nil, fmt.Errorf("%%get %s: %w", strings.Join(args, " "), err)
	}
	out, err := goCmd(ctx, dir, nil, append([]string{"list", "-e", "-json=ImportPath,Name,Module,Error,Incomplete"}, paths...)...)
	if err != nil {
		return nil, fmt.Errorf("%%get: list %s: %w", strings.Join(paths, " "), err)
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath, Name string
			Module           *struct{ Path, Version string }
			Error            *struct{ Err string }
		}
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%%get: read go list output: %w", err)
		}
		if p.Error != nil {
			hint := ""
			if strings.Contains(p.Error.Err, "no Go files") || strings.Contains(p.Error.Err, "no non-test Go files") {
				hint = fmt.Sprintf(" (the module is pinned in go.mod; %%get the packages a cell imports, such as %s/PKG)", p.ImportPath)
			}
			return nil, fmt.Errorf("%%get %s: %s%s", p.ImportPath, p.Error.Err, hint)
		}
		if p.Name == "main" {
			return nil, fmt.Errorf("%%get %s: a command (package main), not a package a cell can import", p.ImportPath)
		}
		pk := Package{ImportPath: p.ImportPath, Name: p.Name}
		if p.Module != nil {
			pk.Module, pk.Version = p.Module.Path, p.Module.Version
		}
		pkgs = append(pkgs, pk)
	}
	return pkgs, nil
}

// required reports whether dir/go.mod already requires a module that path is in
// (then a %get without a version keeps that version).
func required(dir, path string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "require "))
		if len(f) >= 2 && (path == f[0] || strings.HasPrefix(path, f[0]+"/")) {
			return true
		}
	}
	return false
}

// goCmd runs the go command in dir with the module cache the user has; its
// standard error goes to log (progress) and into the error.
func goCmd(ctx context.Context, dir string, log io.Writer, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, Go(), args...)
	cmd.Dir = dir
	// -mod=mod: go.mod and go.sum are updated as needed; -buildvcs=false: the
	// notebook may sit in a repository whose state is none of the binary's business
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off")
	var stderr bytes.Buffer
	if log != nil {
		cmd.Stderr = io.MultiWriter(&stderr, log)
	} else {
		cmd.Stderr = &stderr
	}
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return out, fmt.Errorf("go %s: %s", args[0], msg)
	}
	return out, nil
}

// Compiled reports whether this binary's interpreter has package path compiled in.
func Compiled(path string) bool {
	_, ok := symbols.Symbols[path+"/"+pathBase(path)]
	if ok {
		return true
	}
	for k := range symbols.Symbols {
		if strings.HasPrefix(k, path+"/") && !strings.Contains(k[len(path)+1:], "/") {
			return true
		}
	}
	return false
}

func pathBase(p string) string { return p[strings.LastIndex(p, "/")+1:] }

// Built lists the third-party packages compiled into this binary.
func Built() []string { return strings.Fields(BuiltPackages) }

// SourceDir finds golem's source, which a new kernel binary is built from:
// GOLEM_SRC, else the directory this binary was built from (Source), else the
// module root above the binary (bin/golem of a checkout).
func SourceDir() (string, error) {
	var tried []string
	cands := []string{os.Getenv("GOLEM_SRC"), Source}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			cands = append(cands, filepath.Dir(exe), filepath.Dir(filepath.Dir(exe)))
		}
	}
	for _, d := range cands {
		if d == "" {
			continue
		}
		tried = append(tried, d)
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module "+golemModule+"\n") {
			return d, nil
		}
	}
	return "", fmt.Errorf("golem's source is needed to build a kernel with third-party packages and was not found (tried %s): set GOLEM_SRC to a checkout of %s", strings.Join(tried, ", "), golemModule)
}

// Key identifies a kernel binary: the packages compiled in, the notebook's
// go.mod and go.sum, golem's own go.mod and this binary's build.
func Key(dir, src string, pkgs []string) (string, error) {
	h := sha256.New()
	for _, p := range pkgs {
		fmt.Fprintf(h, "pkg %s\n", p)
	}
	for _, f := range []string{filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"), filepath.Join(src, "go.mod")} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		fmt.Fprintf(h, "file %s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	base, err := BaseID()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "base %s\n", base)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// BaseID identifies the golem binary that third-party packages are added to:
// Base in a binary Build made, else the SHA-256 of this binary's file (so a
// rebuilt golem gets new kernel binaries).
func BaseID() (string, error) {
	if Base != "" {
		return Base, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this golem binary: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("read this golem binary: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read this golem binary: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// KernelDir is where the kernel binaries of the notebooks in dir are built.
func KernelDir(dir string) string { return filepath.Join(dir, ".golem", "kernel") }

// Build returns a golem binary whose interpreter has pkgs (import paths the
// notebook's go.mod provides) compiled in, building it unless a binary for the
// same packages and go.mod is already in KernelDir(dir). Progress goes to log.
func Build(ctx context.Context, dir string, pkgs []string, log io.Writer) (string, error) {
	src, err := SourceDir()
	if err != nil {
		return "", err
	}
	pkgs = slices.Clone(pkgs)
	sort.Strings(pkgs)
	pkgs = slices.Compact(pkgs)
	key, err := Key(dir, src, pkgs)
	if err != nil {
		return "", err
	}
	kdir := KernelDir(dir)
	bin := filepath.Join(kdir, "golem-"+key)
	if _, err := os.Stat(bin); err == nil {
		fmt.Fprintf(log, "golem: a kernel with %s is already built: %s\n", strings.Join(pkgs, ", "), bin)
		return bin, nil
	}
	mod := filepath.Join(kdir, "build-"+key) // one per key: two kernels may build at once
	if err := os.RemoveAll(mod); err != nil {
		return "", err
	}
	extra := filepath.Join(mod, "golemextra")
	if err := os.MkdirAll(extra, 0o755); err != nil {
		return "", err
	}
	if err := writeBuildModule(dir, src, mod); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "golem: extracting the symbols of %s (yaegi extract)\n", strings.Join(pkgs, ", "))
	if _, err := goCmd(ctx, extra, nil, append([]string{"run", "github.com/traefik/yaegi/cmd/yaegi", "extract"}, pkgs...)...); err != nil {
		return "", fmt.Errorf("extract the symbols of %s: %w", strings.Join(pkgs, " "), err)
	}
	if err := os.WriteFile(filepath.Join(extra, "zz_register.go"), []byte(registerGo), 0o644); err != nil {
		return "", err
	}
	mainFile := filepath.Join(mod, "extra_main.go.txt")
	if err := os.WriteFile(mainFile, []byte(extraMainGo), 0o644); err != nil {
		return "", err
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{
		filepath.Join(src, "cmd", "golem", "zz_golemextra.go"): mainFile,
	}})
	if err := os.WriteFile(filepath.Join(mod, "overlay.json"), overlay, 0o644); err != nil {
		return "", err
	}
	self := "github.com/golem-lm/golem/cell/gomod"
	base, err := BaseID()
	if err != nil {
		return "", err
	}
	ldflags := fmt.Sprintf("-X %s.Source=%s -X '%s.BuiltPackages=%s' -X %s.BuiltFor=%s -X %s.Base=%s", self, src, self, strings.Join(pkgs, " "), self, key, self, base)
	if v := versionFlag(); v != "" {
		ldflags += " " + v
	}
	fmt.Fprintf(log, "golem: building a kernel binary with them (go build, a minute or more the first time)\n")
	tmp := bin + ".tmp"
	buildArgs := []string{"build", "-overlay", "overlay.json", "-ldflags", ldflags}
	if tags := buildSetting("-tags"); tags != "" {
		buildArgs = append(buildArgs, "-tags", tags) // as this binary was built (mpi)
	}
	if _, err := goCmd(ctx, mod, nil, append(buildArgs, "-o", tmp, golemModule+"/cmd/golem")...); err != nil {
		return "", fmt.Errorf("build a kernel with %s: %w", strings.Join(pkgs, " "), err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// buildSetting is a setting of this binary's build (-tags, -ldflags).
func buildSetting(key string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
	}
	return ""
}

// versionFlag keeps golem's version string in the binaries Build makes.
func versionFlag() string {
	for _, f := range strings.Fields(buildSetting("-ldflags")) {
		if strings.HasPrefix(f, golemModule+"/internal/version.Version=") {
			return "-X " + f
		}
	}
	return ""
}

// writeBuildModule writes the go.mod and go.sum of the module that builds the
// kernel: the notebook's requirements, golem from src.
func writeBuildModule(dir, src, mod string) error {
	nb, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("read the notebook's go.mod: %w", err)
	}
	var b strings.Builder
	b.WriteString("// Generated by golem's %get: the module that builds this notebook's kernel.\nmodule golemkernel\n\n")
	for _, l := range strings.Split(string(nb), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "module ") || strings.HasPrefix(t, "//") {
			continue
		}
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "\nrequire %s v0.0.0\n\nreplace %s => %s\n", golemModule, golemModule, src)
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	var sum []byte
	for _, f := range []string{filepath.Join(src, "go.sum"), filepath.Join(dir, "go.sum")} {
		if s, err := os.ReadFile(f); err == nil {
			sum = append(sum, s...)
		}
	}
	return os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644)
}

// registerGo adds the generated tables to cell/symbols (named to sort after
// yaegi's files, whose init functions fill Symbols first).
const registerGo = `// Code generated by golem's %get. DO NOT EDIT.

// Package golemextra holds the symbol tables of a notebook's third-party packages.
package golemextra

import (
	"reflect"

	"github.com/golem-lm/golem/cell/symbols"
)

// Symbols are the tables yaegi extract generated in this package.
var Symbols = map[string]map[string]reflect.Value{}

func init() {
	for k, v := range Symbols {
		symbols.Symbols[k] = v
	}
}
`

// extraMainGo is laid over cmd/golem (go build -overlay): it links the tables in.
const extraMainGo = `// Code generated by golem's %get. DO NOT EDIT.

package main

import _ "golemkernel/golemextra"
`

// current is what KernelDir(dir)/current records: the binary the last %get of a
// notebook in dir restarted into, for the kernels started there later.
type current struct {
	Key      string   `json:"key"`
	Binary   string   `json:"binary"`
	Packages []string `json:"packages"`
}

// WriteCurrent records bin, built for pkgs under key, as the kernel binary of
// the notebooks in dir.
func WriteCurrent(dir, key, bin string, pkgs []string) error {
	b, err := json.MarshalIndent(current{Key: key, Binary: bin, Packages: pkgs}, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(KernelDir(dir), "current")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// CurrentBinary returns the kernel binary that a %get built for the notebooks in
// dir when it still fits: it exists, and the packages, the notebook's go.mod and
// go.sum, golem's go.mod and this golem binary give the key it was built for.
// `golem kernel` starts it instead of itself, so a restarted kernel (Jupyter's
// Restart, a papermill rerun) has the packages without a %get restart.
func CurrentBinary(dir string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(KernelDir(dir), "current"))
	if err != nil {
		return "", false
	}
	var c current
	if json.Unmarshal(b, &c) != nil || c.Binary == "" || c.Key == "" {
		return "", false
	}
	if st, err := os.Stat(c.Binary); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", false
	}
	src, err := SourceDir()
	if err != nil {
		return "", false
	}
	key, err := Key(dir, src, c.Packages)
	if err != nil || key != c.Key {
		return "", false
	}
	return c.Binary, true
}
