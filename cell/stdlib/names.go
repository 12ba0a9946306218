package stdlib

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
)

// Name is one exported package-level name of a standard package.
type Name struct {
	Name    string
	Kind    string // func, type, var or const
	Generic bool   // a generic function or type (no symbol table can hold one)
}

// ExportedNames returns the package name of the standard package path and its
// exported package-level names in the installed GOROOT, for this GOOS/GOARCH,
// sorted. Methods are not listed: they come with their types.
func ExportedNames(path string) (string, []Name, error) {
	p, err := build.Default.Import(path, "", 0)
	if err != nil {
		return "", nil, fmt.Errorf("find %s in GOROOT: %w", path, err)
	}
	fset := token.NewFileSet()
	seen := map[string]Name{}
	for _, f := range p.GoFiles {
		af, err := parser.ParseFile(fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return "", nil, err
		}
		for _, d := range af.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.IsExported() {
					seen[d.Name.Name] = Name{d.Name.Name, "func", d.Type.TypeParams != nil}
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.IsExported() {
							seen[s.Name.Name] = Name{s.Name.Name, "type", s.TypeParams != nil || isConstraint(s.Type)}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								seen[n.Name] = Name{n.Name, d.Tok.String(), false}
							}
						}
					}
				}
			}
		}
	}
	out := make([]Name, 0, len(seen))
	for _, n := range seen {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return p.Name, out, nil
}

// isConstraint reports whether a type is an interface usable only as a type
// constraint (it has a union or ~T element, as cmp.Ordered): extract skips those.
func isConstraint(t ast.Expr) bool {
	it, ok := t.(*ast.InterfaceType)
	if !ok {
		return false
	}
	for _, f := range it.Methods.List {
		if len(f.Names) == 0 {
			switch f.Type.(type) {
			case *ast.BinaryExpr, *ast.UnaryExpr:
				return true
			}
		}
	}
	return false
}
