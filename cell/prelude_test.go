package cell

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"reflect"
	"strings"
	"testing"
)

// TestRuntimeDeclared checks that cell/prelude/golemrt, which declares the
// runtime for vet and the reader, declares exactly the functions an interpreter
// exports under its path, with the same signatures.
func TestRuntimeDeclared(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "prelude/golemrt/golemrt.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	exports := runtimeExports(&runtimeHooks{})
	declared := map[string]bool{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		declared[fd.Name.Name] = true
		v, ok := exports[fd.Name.Name]
		if !ok {
			t.Errorf("golemrt.%s is declared but not exported (runtimeExports)", fd.Name.Name)
			continue
		}
		if got, want := signature(fd.Type), reflectSignature(v.Type()); got != want {
			t.Errorf("golemrt.%s: declared %s, exported %s", fd.Name.Name, got, want)
		}
	}
	for name := range exports {
		if !declared[name] {
			t.Errorf("golemrt.%s is exported but not declared in cell/prelude/golemrt", name)
		}
	}
}

// signature writes a function type without parameter names.
func signature(ft *ast.FuncType) string {
	list := func(fl *ast.FieldList) []string {
		var out []string
		if fl == nil {
			return out
		}
		for _, f := range fl.List {
			for range max(len(f.Names), 1) {
				out = append(out, types.ExprString(f.Type))
			}
		}
		return out
	}
	return "func(" + strings.Join(list(ft.Params), ", ") + ") (" + strings.Join(list(ft.Results), ", ") + ")"
}

// reflectSignature writes a reflect function type as signature does.
func reflectSignature(t reflect.Type) string {
	name := func(t reflect.Type) string { return strings.ReplaceAll(t.String(), "interface {}", "any") }
	var in, out []string
	for i := range t.NumIn() {
		if t.IsVariadic() && i == t.NumIn()-1 {
			in = append(in, "..."+name(t.In(i).Elem()))
			continue
		}
		in = append(in, name(t.In(i)))
	}
	for i := range t.NumOut() {
		out = append(out, name(t.Out(i)))
	}
	return "func(" + strings.Join(in, ", ") + ") (" + strings.Join(out, ", ") + ")"
}

// TestPreludeNames checks that the prelude functions rewritten code calls exist,
// and that shim names go both ways.
func TestPreludeNames(t *testing.T) {
	for _, name := range []string{minFunc, maxFunc, pullFunc, pull2Func, linesFunc} {
		if preludeFuncs()[name] == nil {
			t.Errorf("the prelude has no func %s", name)
		}
	}
	if imp := preludeImports()[rtName]; imp != rtPath {
		t.Errorf("the prelude imports %q as %s, want %q", imp, rtName, rtPath)
	}
	n := 0
	for fn := range preludeFuncs() {
		path, name, ok := shimOf(fn)
		if !ok {
			continue
		}
		n++
		if shimName(path, name) != fn || shimFor(path, name) == nil {
			t.Errorf("shim %s: shimOf gives %s.%s, which does not name it back", fn, path, name)
		}
	}
	if n < 50 {
		t.Errorf("%d shims in the prelude, want the 50 or so of slices, maps, cmp, iter, strings", n)
	}
	if got := shimMembers("maps"); !reflect.DeepEqual(got[:3], []string{"All", "Clone", "Collect"}) {
		t.Errorf("shimMembers(maps) = %v", got)
	}
}
