package symbols

import (
	"bytes"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/traefik/yaegi/extract"

	"github.com/golem-lm/golem/display"
)

var generateLine = regexp.MustCompile(`(?m)^//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract (\S+)$`)

// listed returns the import paths named by the //go:generate lines of symbols.go.
func listed(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("symbols.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range generateLine.FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("symbols.go lists no package to extract")
	}
	return out
}

func fileFor(importPath string) string {
	return strings.NewReplacer("/", "-", ".", "_", "~", "_").Replace(importPath) + ".go"
}

// TestSymbolsMatchSource fails when a listed package's exported API changed and
// nobody ran `make symbols`: every exported (non-generic) function, type, variable
// and constant of its source must be in the table and nothing else, and every
// exported interface must have a wrapper with its methods. It reads the source
// with go/parser only (fast); TestSymbolsRegenerated compares the files byte for
// byte with a fresh `yaegi extract` (slow: it type-checks every package from source).
func TestSymbolsMatchSource(t *testing.T) {
	want := map[string]bool{"symbols.go": true}
	for _, p := range listed(t) {
		name := fileFor(p)
		want[name] = true
		if _, err := os.Stat(name); err != nil {
			t.Errorf("%s: %v (run `make symbols`)", name, err)
			continue
		}
		pkgName, names, ifaces := exportedAPI(t, p)
		table := Symbols[p+"/"+pkgName]
		if table == nil {
			t.Errorf("%s: no table for %s (run `make symbols`)", name, p)
			continue
		}
		for n := range names {
			if _, ok := table[n]; !ok {
				t.Errorf("%s is stale: %s.%s is missing; run `make symbols`", name, p, n)
			}
		}
		for n := range table {
			if !strings.HasPrefix(n, "_") && !names[n] {
				t.Errorf("%s is stale: %s.%s no longer exists; run `make symbols`", name, p, n)
			}
		}
		for iface, methods := range ifaces {
			w, ok := table["_"+iface]
			if !ok {
				t.Errorf("%s is stale: no wrapper for interface %s.%s; run `make symbols`", name, p, iface)
				continue
			}
			wt := w.Type().Elem()
			for _, m := range methods {
				if _, ok := wt.FieldByName("W" + m); !ok {
					t.Errorf("%s is stale: the wrapper of %s.%s lacks method %s; run `make symbols`", name, p, iface, m)
				}
			}
		}
	}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if !want[f] && !strings.HasSuffix(f, "_test.go") {
			t.Errorf("%s is not generated from a //go:generate line of symbols.go: remove it or list its package", f)
		}
	}
}

// exportedAPI parses the package at importPath (a golem package) and returns its
// name, its exported non-generic top-level names and its exported interfaces with
// their own method names.
func exportedAPI(t *testing.T, importPath string) (string, map[string]bool, map[string][]string) {
	t.Helper()
	dir := filepath.Join("..", "..", strings.TrimPrefix(importPath, "github.com/golem-lm/golem/"))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	pkgName := ""
	names := map[string]bool{}
	ifaces := map[string][]string{}
	for _, e := range entries {
		fn := e.Name()
		if !strings.HasSuffix(fn, ".go") || strings.HasSuffix(fn, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, fn); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, fn), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", fn, err)
		}
		pkgName = f.Name.Name
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() && d.Type.TypeParams == nil {
					names[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if !sp.Name.IsExported() || sp.TypeParams != nil {
							continue
						}
						names[sp.Name.Name] = true
						if it, ok := sp.Type.(*ast.InterfaceType); ok {
							var ms []string
							for _, m := range it.Methods.List {
								for _, n := range m.Names {
									if _, isFunc := m.Type.(*ast.FuncType); isFunc {
										ms = append(ms, n.Name)
									}
								}
							}
							ifaces[sp.Name.Name] = ms
						}
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							if n.IsExported() {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return pkgName, names, ifaces
}

// TestSymbolsRegenerated regenerates every table with yaegi's extract package and
// compares it byte for byte with the checked-in file. It type-checks every listed
// package and its dependencies from source (minutes on two cores), so it runs
// only with GOLEM_SYMBOLS_FULL=1 (`make symbols-check`).
func TestSymbolsRegenerated(t *testing.T) {
	if os.Getenv("GOLEM_SYMBOLS_FULL") == "" {
		t.Skip("set GOLEM_SYMBOLS_FULL=1 (make symbols-check)")
	}
	for _, p := range listed(t) {
		var buf bytes.Buffer
		ext := extract.Extractor{Dest: "symbols"}
		if _, err := ext.Extract(p, "", &buf); err != nil {
			t.Fatalf("extract %s: %v", p, err)
		}
		name := fileFor(p)
		have, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%s: %v (run `make symbols`)", name, err)
		}
		if !bytes.Equal(have, buf.Bytes()) {
			t.Errorf("%s is stale: the exported API of %s changed; run `make symbols`", name, p)
		}
	}
}

func TestDisplayExported(t *testing.T) {
	syms := Symbols["github.com/golem-lm/golem/display/display"]
	if syms == nil {
		t.Fatal("display is not exported")
	}
	if got := syms["HTML"].Pointer(); got != reflect.ValueOf(display.HTML).Pointer() {
		t.Fatal("display.HTML in the table is not the compiled function")
	}
	if _, ok := syms["Renderer"]; !ok {
		t.Fatal("display.Renderer type missing")
	}
}
