package cell

import (
	"context"
	"fmt"
	"go/ast"
	"go/build"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/golem-lm/golem/cell/gomod"
)

// getModules runs `%get pkg[@version] …`: the packages are pinned in the go.mod
// next to the notebook (the cell's directory) and, when this binary does not have
// them compiled in, a kernel binary with them is built (package gomod) and the
// session asks to be replaced by it after this cell (ReexecBinary).
func (s *Session) getModules(ctx context.Context, m *magic) error {
	dir := s.opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return magicErr(m, "%%get: the notebook's directory: %v", err)
		}
		dir = wd
	}
	args := strings.Fields(m.args)
	pkgs, err := gomod.Get(ctx, dir, args, s.opts.Stderr)
	if err != nil {
		return magicErr(m, "%v", err)
	}
	var missing, names []string
	for _, p := range pkgs {
		fmt.Fprintf(s.opts.Stdout, "%s: %s %s (pinned in %s)\n", p.ImportPath, p.Module, p.Version, filepath.Join(dir, "go.mod"))
		names = append(names, p.ImportPath)
		if !gomod.Compiled(p.ImportPath) {
			missing = append(missing, p.ImportPath)
		}
	}
	want := append(gomod.Built(), names...)
	if len(missing) == 0 {
		src, err := gomod.SourceDir()
		if err == nil {
			key, kerr := gomod.Key(dir, src, sortedUnique(want))
			if kerr == nil && key == gomod.BuiltFor {
				fmt.Fprintln(s.opts.Stdout, "golem: this kernel has them compiled in: import them in the next cells")
				return nil
			}
		}
		if gomod.BuiltFor == "" { // compiled into golem itself
			return nil
		}
	}
	bin, err := gomod.Build(ctx, dir, want, s.opts.Stderr)
	if err != nil {
		return magicErr(m, "%v", err)
	}
	if src, err := gomod.SourceDir(); err == nil {
		if key, err := gomod.Key(dir, src, sortedUnique(want)); err == nil {
			if err := gomod.WriteCurrent(dir, key, bin, sortedUnique(want)); err != nil {
				fmt.Fprintf(s.opts.Stderr, "golem: record %s as the folder's kernel: %v\n", bin, err)
			}
		}
	}
	s.reexec.Store(bin)
	fmt.Fprintf(s.opts.Stdout, "golem: the kernel restarts after this cell into %s, which has %s compiled in.\n"+
		"The restart loses every variable, function, type and import of earlier cells (history and the execution count are kept); "+
		"cells queued behind this one run in the new kernel. Keep %%get in the first cell of a notebook.\n", bin, strings.Join(sortedUnique(want), ", "))
	return nil
}

// ReexecBinary returns, once, the kernel binary a %get asked to restart into
// ("" when none): the kernel replaces itself with it after the cell's reply.
func (s *Session) ReexecBinary() string {
	b, _ := s.reexec.Swap("").(string)
	return b
}

func sortedUnique(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// checkThirdPartyImports fails an import of a non-standard package this kernel
// does not have (not compiled in, no source under GOPATH) with how to get it,
// instead of yaegi's "unable to find source related to: …".
func (s *Session) checkThirdPartyImports(fset *token.FileSet, f *ast.File) error {
	if f == nil {
		return nil
	}
	for _, im := range f.Imports {
		path, err := strconv.Unquote(im.Path.Value)
		if err != nil || !strings.Contains(strings.SplitN(path, "/", 2)[0], ".") {
			continue
		}
		if len(s.symbols(path)) > 0 || gomod.Compiled(path) {
			continue
		}
		if st, err := os.Stat(filepath.Join(build.Default.GOPATH, "src", filepath.FromSlash(path))); err == nil && st.IsDir() {
			continue // yaegi interprets it from source
		}
		pos := fset.Position(im.Pos())
		msg := fmt.Sprintf("import %q: this kernel does not have %s: run %%get %s (or %%get %s@VERSION) in a cell of its own first; "+
			"it pins the module in the go.mod next to the notebook and restarts the kernel with the package compiled in", path, path, path, path)
		return &Error{Name: "ImportError", Value: msg, Traceback: []string{fmt.Sprintf("cell:%d:%d: %s", pos.Line, pos.Column, msg)}, explained: true}
	}
	return nil
}
