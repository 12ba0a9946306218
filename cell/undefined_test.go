package cell

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNewcomerSlips runs the slips a new user makes — a missing import, a name
// no cell defined, help syntax inside a longer cell, a name that only a failed
// cell defined — and checks the error names the cell position and what to do.
// Before, yaegi answered "constant definition loop", "invalid memory address or
// nil pointer dereference", "CFG post-order panic: incomplete type ctx" and
// "illegal character U+003F '?'".
func TestNewcomerSlips(t *testing.T) {
	s := newTestSession(t)
	for _, c := range []struct {
		name, cell, want string
	}{
		{"missing import of a golem package", "x := api.Limits{}",
			`cell:1:6: undefined: api (missing import "github.com/golem-lm/golem/functions/api"?)`},
		{"missing import, second line", "n := 3\nm, err := gpt.New(gpt.Config{}, 1)",
			`cell:2:11: undefined: gpt (missing import "github.com/golem-lm/golem/lmlib/gpt"?)`},
		{"internal package", "path, _ := assets.Opticks()",
			`cell:1:12: undefined: assets (the texts that ship with golem are data.Shipped("opticks")`},
		{"ctx", "x := ctx", "cell:1:6: undefined: ctx (a cell has no ctx: use display.Context(), the cell's context"},
		{"ctx in a call's arguments", `import "github.com/golem-lm/golem/lmlib/data"
p := &data.Pipeline{}
p.Run(ctx)`, "cell:3:7: undefined: ctx (a cell has no ctx"},
		{"undefined variable", "y := 2 * undefinedCount", "cell:1:10: undefined: undefinedCount"},
		{"undefined in a function", "func f(n int) int {\n\treturn n + undefinedY\n}", "cell:2:13: undefined: undefinedY"},
		{"help syntax on a second line", "x := 1\ntrain.Train?",
			"cell:2:1: train.Train? asks for documentation, which works only as a cell of its own: run train.Train? in a new cell, or put the cursor after train.Train and press Shift+Tab"},
		{"another error and an undefined name", "a := 1 + \"s\"\nb := nope",
			"cell:2:6: undefined: nope"},
	} {
		e := s.fail(t, c.cell)
		if tb := strings.Join(e.Traceback, "\n"); !strings.Contains(tb, c.want) {
			t.Errorf("%s: %q\n got %s: %s\nwant %s", c.name, c.cell, e.Name, tb, c.want)
		}
	}
}

// TestFailedCellDefinesNothing: the names a failing cell defined for the first
// time are undefined afterwards, whatever failed (a panic, a compile error, a
// returned error); names defined earlier keep working, and defining the name
// again brings it back.
func TestFailedCellDefinesNothing(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "kept := 1")
	for _, c := range []struct{ cell, name string }{
		{"var zz int\npanic(1)", "zz"},
		{"type Hidden struct{}\nfunc hiddenF() {}\nh := 1\nh2 := h + \"s\"", "hiddenF"},
		{"type Hidden2 struct{}\nw := 2\nstrconv.Atoi(\"x\")", "w"},
		{"kept := 3\nq := 4\npanic(2)", "q"},
	} {
		if _, err := s.Execute(context.Background(), c.cell); err == nil {
			t.Fatalf("cell %q did not fail", c.cell)
		}
		e := s.fail(t, c.name)
		if want := "cell:1:1: undefined: " + c.name + " (its cell failed, so it defined nothing: run it again)"; e.Value != want {
			t.Errorf("after %q: %s = %q, want %q", c.cell, c.name, e.Value, want)
		}
	}
	for _, name := range []string{"Hidden{}", "h", "Hidden2{}"} {
		if e := s.fail(t, name); !strings.Contains(e.Value, "its cell failed") {
			t.Errorf("%s: %v", name, e)
		}
	}
	if got := s.exec(t, "kept"); got != "3" {
		t.Errorf("kept = %s: a name an earlier cell defined keeps the value the failing cell gave it", got)
	}
	if got := s.exec(t, "func g(zz int) int { return zz * 2 }\ng(4)"); got != "8" {
		t.Errorf("a parameter named like a hidden name: %q", got)
	}
	if got := s.exec(t, "zz := 5\nzz + 1"); got != "6" {
		t.Errorf("zz defined again: %q", got)
	}
	if got := s.exec(t, "zz"); got != "5" {
		t.Errorf("zz in the next cell: %q", got)
	}
	if m, _, _ := s.Complete("hidde", 5); len(m) != 0 {
		t.Errorf("completion offers hidden names: %v", m)
	}
}

// TestFreeIdentsOnRealCode resolves every file of golem's own packages as if it
// were a cell and checks that each free identifier is a package-level name of
// its package, an import or a name of the universe: the resolver finds no
// undefined name in code that compiles.
func TestFreeIdentsOnRealCode(t *testing.T) {
	root := ".." // the module root (cell/ is one level down)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root is not %s: %v", root, err)
	}
	pkgs := map[string][]*ast.File{} // directory + package name -> files
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "build" || d.Name() == "node_modules") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		key := filepath.Dir(p) + ":" + f.Name.Name
		pkgs[key] = append(pkgs[key], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for key, fs := range pkgs {
		pkgNames := map[string]bool{}
		for _, f := range fs {
			for _, d := range f.Decls {
				for _, id := range declNames(d) {
					pkgNames[id.Name] = true
				}
			}
		}
		for _, f := range fs {
			files++
			imports := map[string]bool{}
			for _, im := range f.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				name := path.Base(p)
				if len(name) <= 3 && strings.HasPrefix(name, "v") { // a major version: …/xxhash/v2
					name = path.Base(path.Dir(p))
				}
				name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "go-"), "-go"), ".go")
				if im.Name != nil {
					name = im.Name.Name
				}
				imports[name] = true
			}
			for _, u := range freeIdents(nil, f, nil) {
				if imports[u.name] || pkgNames[u.name] || types.Universe.Lookup(u.name) != nil || u.name == "C" {
					continue
				}
				if _, ok := knownPackageNames[u.name]; ok && u.qualifier {
					continue
				}
				t.Errorf("%s (%s): free identifier %s", fset.Position(u.pos), key, u.name)
			}
		}
	}
	if files < 100 {
		t.Fatalf("only %d files checked", files)
	}
}

// knownPackageNames are imports whose package name is not the last element of
// their path.
var knownPackageNames = map[string]bool{"yaml": true}
