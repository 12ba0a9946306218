package cell

// Imports.
//
// yaegi v0.16.1 keys imports by the file name of the code that imports them, and
// rejects a second import of a package under a name the file has ("… redeclared
// in this block"); re-running a cell is the notebook habit. So every cell is
// compiled under one file name ("cell"), and the imports pass drops the imports
// the session already has under the same name, runs the others before anything
// else of the cell, and imports the standard packages a cell uses without
// importing them, as goimports would (strconv.Atoi(…) works without import
// "strconv"). A whole-program cell (runProgram) drops the imports the prelude
// made under the same name and file name ("strings/cell redeclared in this
// block"). Packages the rewriting needs under a name the cell does not give them
// are imported under a hidden one (_golemP_fs "io/fs": pkgRef, addImports).

import (
	"go/ast"
	"go/token"
	pathpkg "path"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/golem-lm/golem/cell/symbols"
)

// runImports runs the cell's imports (session).
func runImports(u *unit, x *cellExec) error {
	s := x.s
	if err := s.checkThirdPartyImports(u.fset, u.imports); err != nil {
		return err
	}
	if u.imports != nil && s.dropKnownImports(u.imports) {
		if _, err := s.compileRun(x.ctx, x.run, u.imports); err != nil {
			return err
		}
		s.recordImports(u.imports)
	}
	if auto := s.missingImports(u.imports, u.decls, u.body); len(auto) > 0 {
		src := "package main\nimport (\n"
		for _, p := range auto {
			src += strconv.Quote(p) + "\n"
		}
		f, err := s.parseFile(src + ")\n")
		if err != nil {
			return err
		}
		if _, err := s.compileRun(x.ctx, x.run, f); err != nil {
			return err
		}
		s.recordImports(f)
	}
	return nil
}

// importName is the name an import spec binds.
func (s *Session) importName(im *ast.ImportSpec) (name, path string, ok bool) {
	path, err := strconv.Unquote(im.Path.Value)
	if err != nil {
		return "", "", false
	}
	if im.Name != nil {
		return im.Name.Name, path, true
	}
	if name = exportedPackageName(path); name == "" {
		name = pathpkg.Base(path) // a package interpreted from source
	}
	return name, path, true
}

// missingImports lists the standard packages a cell uses (pkg.Name) without
// importing them: the qualifier is not declared anywhere in the cell, is not a
// name of an earlier cell, and is the name of a standard-library package.
func (s *Session) missingImports(imports, decls *ast.File, body *ast.BlockStmt) []string {
	declared := map[string]bool{}
	var quals []*ast.Ident
	visit := func(root ast.Node) {
		if root == nil || reflect.ValueOf(root).IsNil() {
			return
		}
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok {
					quals = append(quals, id)
				}
			case *ast.Ident:
				// every identifier that is declared somewhere in the cell
			case *ast.AssignStmt:
				if n.Tok == token.DEFINE {
					for _, l := range n.Lhs {
						if id, ok := l.(*ast.Ident); ok {
							declared[id.Name] = true
						}
					}
				}
			case *ast.ValueSpec:
				for _, id := range n.Names {
					declared[id.Name] = true
				}
			case *ast.TypeSpec:
				declared[n.Name.Name] = true
			case *ast.FuncDecl:
				declared[n.Name.Name] = true
			case *ast.Field:
				for _, id := range n.Names {
					declared[id.Name] = true
				}
			case *ast.RangeStmt:
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						declared[id.Name] = true
					}
				}
			case *ast.ImportSpec:
				if name, _, ok := s.importName(n); ok {
					declared[name] = true
				}
			case *ast.LabeledStmt:
				declared[n.Label.Name] = true
			}
			return true
		})
	}
	visit(imports)
	visit(decls)
	visit(body)
	var out []string
	seen := map[string]bool{}
	var globals map[string]reflect.Value
	for _, q := range quals {
		name := q.Name
		if seen[name] || declared[name] || s.st.names[name] {
			continue
		}
		seen[name] = true
		if _, ok := s.st.imports[name]; ok {
			continue
		}
		path, ok := stdPackageByName()[name]
		if !ok {
			continue
		}
		if globals == nil {
			globals = s.globals()
		}
		if _, ok := globals[name]; ok {
			continue
		}
		out = append(out, path)
	}
	sort.Strings(out)
	return out
}

// dropKnownImports removes imports the session already has under the same name
// (yaegi rejects a second import of a compiled package, but re-running a cell is
// the notebook habit). It reports whether any import is left.
func (s *Session) dropKnownImports(f *ast.File) bool {
	n := len(f.Imports)
	n -= len(removeSpecs(f, token.IMPORT, func(sp ast.Spec) bool {
		name, path, ok := s.importName(sp.(*ast.ImportSpec))
		return ok && s.st.imports[name] == path
	}))
	return n > 0
}

// recordImports remembers the package names a cell imported (for completion).
func (s *Session) recordImports(f *ast.File) {
	for _, im := range f.Imports {
		name, path, ok := s.importName(im)
		if !ok {
			continue
		}
		if name != "_" && name != "." {
			s.st.imports[name] = path
		}
	}
}

// dropPreludeImports removes from a program the imports the interpreter's prelude
// made already under the same name and file name (yaegi: "strings/cell
// redeclared in this block").
func dropPreludeImports(f *ast.File) {
	dropped := map[*ast.ImportSpec]bool{}
	for _, sp := range removeSpecs(f, token.IMPORT, func(sp ast.Spec) bool {
		im := sp.(*ast.ImportSpec)
		path, err := strconv.Unquote(im.Path.Value)
		name := pathpkg.Base(path)
		if im.Name != nil {
			name = im.Name.Name
		}
		return err == nil && preludeImports()[name] == path
	}) {
		dropped[sp.(*ast.ImportSpec)] = true
	}
	kept := f.Imports[:0]
	for _, im := range f.Imports {
		if !dropped[im] {
			kept = append(kept, im)
		}
	}
	f.Imports = kept
}

// removeSpecs removes from f's declarations of kind tok (import, var, …) the
// specs that drop accepts, and the declarations it leaves empty; it returns the
// specs removed, in order.
func removeSpecs(f *ast.File, tok token.Token, drop func(ast.Spec) bool) []ast.Spec {
	var out []ast.Spec
	decls := f.Decls[:0]
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != tok {
			decls = append(decls, d)
			continue
		}
		specs := gd.Specs[:0]
		for _, sp := range gd.Specs {
			if drop(sp) {
				out = append(out, sp)
				continue
			}
			specs = append(specs, sp)
		}
		gd.Specs = specs
		if len(specs) > 0 {
			decls = append(decls, gd)
		}
	}
	f.Decls = decls
	return out
}

// pkgRef returns a name under which cells refer to the compiled package at
// path: one the notebook imported it under, when free says it is not hidden
// here, else a hidden name, under which it is imported now if need be.
func (s *Session) pkgRef(path string, free func(string) bool) (string, bool) {
	var names []string
	for name, p := range s.st.imports {
		if p == path && name != "_" && name != "." && !strings.HasPrefix(name, "_golem") && !s.st.names[name] && free(name) {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return names[0], true
	}
	name := hiddenPkgName(path)
	if name == "" {
		return "", false
	}
	if s.st.imports[name] == path {
		return name, true
	}
	f, err := s.parseFile("package main\nimport " + name + " " + strconv.Quote(path) + "\n")
	if err != nil {
		return "", false
	}
	prog, err := s.compile(f)
	if err != nil {
		return "", false
	}
	if _, err := s.in.Execute(prog); err != nil {
		return "", false
	}
	s.recordImports(f)
	return name, true
}

// freeName reports whether no variable of the notebook hides name.
func (s *Session) freeName(name string) bool {
	_, global := s.globals()[name]
	return !global && !s.st.names[name]
}

// hiddenPkgName is the name under which the rewriter imports a compiled package
// that the code does not import under a usable name ("" when golem has no
// symbols for it).
func hiddenPkgName(path string) string {
	name := exportedPackageName(path)
	if name == "" {
		return ""
	}
	return "_golemP_" + name
}

// addImports adds `import name "path"` declarations to f.
func addImports(f *ast.File, imports map[string]string) {
	if len(imports) == 0 {
		return
	}
	var names []string
	for n := range imports {
		names = append(names, n)
	}
	sort.Strings(names)
	gd := &ast.GenDecl{Tok: token.IMPORT, Lparen: f.Package}
	for _, n := range names {
		im := &ast.ImportSpec{Name: ident(f.Package, n), Path: &ast.BasicLit{ValuePos: f.Package, Kind: token.STRING, Value: strconv.Quote(imports[n])}}
		gd.Specs = append(gd.Specs, im)
		f.Imports = append(f.Imports, im)
	}
	f.Decls = append([]ast.Decl{gd}, f.Decls...)
}

// exportedPackageName is the name of the package at path in the symbol tables
// compiled into golem (standard library and lmlib); "" when it is in none.
func exportedPackageName(path string) string {
	for _, table := range []map[string]map[string]reflect.Value{stdlibSymbols(), symbols.Symbols} {
		for k := range table {
			if name, ok := strings.CutPrefix(k, path+"/"); ok && name != "" && !strings.Contains(name, "/") {
				return name
			}
		}
	}
	return ""
}
