package cell

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	pathpkg "path"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/golem-lm/golem/cell/symbols"
)

// newModernizer prepares the rewriter for one cell of this session.
func (s *Session) newModernizer() *modernizer {
	m := &modernizer{
		loadGlobals: s.globals,
		fset:        s.in.FileSet(),
		globals:     nil, // read lazily: most cells never need them
		names:       map[string]class{},
		results:     map[string]class{},
		shadow:      map[string]bool{},
		pkgs: func(name string) (string, bool) {
			if s.st.names[name] {
				return "", false
			}
			return s.packagePath(name)
		},
		pkgFunc: func(path, name string) (reflect.Value, bool) {
			for _, syms := range s.symbols(path) {
				if v, ok := syms[name]; ok {
					return v, true
				}
			}
			return reflect.Value{}, false
		},
		made:       map[ast.Node]bool{},
		asFunc:     map[*ast.BlockStmt]bool{},
		renameMain: true,
		userFunc:   func(name string) string { return s.st.funcs[name] },
		userName:   func(name string) bool { return s.st.names[name] },
		userTypeDecl: func(name string) string {
			if ti := s.st.types[name]; ti != nil {
				return ti.decl
			}
			return ""
		},
		compiledVar: func(name string) reflect.Type {
			return s.st.compiled[name]
		},
	}
	m.refPkg = s.pkgRef
	for k, v := range s.st.resultClass {
		if name, ok := strings.CutPrefix(k, "="); ok {
			m.names[name] = v
		} else {
			m.results[k] = v
		}
	}
	for _, b := range []string{"min", "max", "clear"} {
		if s.st.names[b] {
			m.shadow[b] = true
		}
	}
	return m
}

// modernErr turns the rewriter's complaints into an *Error.
func modernErr(m *modernizer) error {
	if len(m.errs) == 0 {
		return nil
	}
	return &Error{Name: "CompileError", Value: m.errs[0], Traceback: m.errs}
}

// rewriteDecls adapts a cell's package-level declarations before yaegi sees them:
// modern Go, goroutine recovery, and a fresh type for every redeclared type (yaegi
// would keep the old one): the new declaration is compiled under the name T_vN
// and T becomes an alias of it.
func (s *Session) rewriteDecls(m *modernizer, f *ast.File) error {
	s.recordDecls(f, s.in.FileSet())
	for k, v := range m.results {
		if !strings.HasPrefix(k, "_golem") {
			s.st.resultClass[k] = v
		}
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Type.TypeParams != nil {
			s.st.generics[fd.Name.Name] = true
		}
	}
	m.file(f)
	if err := modernErr(m); err != nil {
		return err
	}
	rename := map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			if ts.TypeParams != nil || ts.Assign.IsValid() {
				continue
			}
			name := ts.Name.Name
			v := s.st.typeVer[name]
			s.st.typeVer[name] = v + 1
			if v > 0 {
				rename[name] = fmt.Sprintf("%s_v%d", name, v+1)
			}
		}
	}
	if len(rename) == 0 {
		return nil
	}
	s.st.rtypes = nil // struct types changed: probe again when needed
	renameTypes(f, rename)
	for old, nw := range rename {
		f.Decls = append(f.Decls, &ast.GenDecl{Tok: token.TYPE, Specs: []ast.Spec{&ast.TypeSpec{
			Name: ident(f.Package, old), Assign: f.Package, Type: ident(f.Package, nw)}}})
	}
	return nil
}

// renameTypes renames references to types in f (not field names, selectors or keys).
func renameTypes(f *ast.File, rename map[string]string) {
	skip := map[*ast.Ident]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			skip[n.Sel] = true
		case *ast.StructType:
			for _, fl := range n.Fields.List {
				for _, id := range fl.Names {
					skip[id] = true
				}
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok {
				skip[id] = true
			}
		case *ast.Ident:
			if nw, ok := rename[n.Name]; ok && !skip[n] {
				n.Name = nw
			}
		}
		return true
	})
}

// rewriteProgram adapts a whole-program cell.
func (s *Session) rewriteProgram(f *ast.File) (*modernizer, error) {
	m := s.newModernizer()
	m.loadGlobals = nil // a program does not see the notebook's variables
	m.renameMain = false
	m.userFunc, m.userName, m.userTypeDecl, m.compiledVar = nil, nil, nil, nil
	m.refPkg = fileRefPkg(f, m)
	m.collect(f)
	m.compiledArgs(f, nil)
	addImports(f, m.imports)
	dropPreludeImports(f)
	m.file(f)
	m.packageTuples(f, genericCallIn(f))
	return m, modernErr(m)
}

// dropPreludeImports removes from a program the imports the interpreter's prelude
// made already under the same name and file name (yaegi: "strings/cell
// redeclared in this block").
func dropPreludeImports(f *ast.File) {
	kept := f.Imports[:0]
	for _, im := range f.Imports {
		path, err := strconv.Unquote(im.Path.Value)
		name := pathpkg.Base(path)
		if im.Name != nil {
			name = im.Name.Name
		}
		if err != nil || preludeImports()[name] != path {
			kept = append(kept, im)
		}
	}
	if len(kept) == len(f.Imports) {
		return
	}
	f.Imports = kept
	keep := map[*ast.ImportSpec]bool{}
	for _, im := range kept {
		keep[im] = true
	}
	decls := f.Decls[:0]
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.IMPORT {
			specs := gd.Specs[:0]
			for _, sp := range gd.Specs {
				if keep[sp.(*ast.ImportSpec)] {
					specs = append(specs, sp)
				}
			}
			if gd.Specs = specs; len(specs) == 0 {
				continue
			}
		}
		decls = append(decls, d)
	}
	f.Decls = decls
}

// rewriteBlock adapts a cell's top-level statements before yaegi sees them.
func (s *Session) rewriteBlock(m *modernizer, body *ast.BlockStmt) error {
	m.walk(body, false)
	m.topLevelFuncs(body)
	return modernErr(m)
}

// genericCall reports whether e calls a generic function (a shim, min/max, or one
// the user declared): yaegi v0.16.1 cannot bind such a result to a new variable at
// the top level of a cell, so those definitions go through runtime types.
func (s *Session) genericCall(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if found {
			return false
		}
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		c, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fun := c.Fun
		switch f := fun.(type) {
		case *ast.IndexExpr:
			fun = f.X
		case *ast.IndexListExpr:
			fun = f.X
		}
		if id, ok := fun.(*ast.Ident); ok {
			if genericPrelude(id.Name) || s.st.generics[id.Name] {
				found = true
			}
		}
		return true
	})
	return found
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
	name = pathpkg.Base(path)
	for k := range s.symbols(path) {
		if n := pathpkg.Base(k); k != path && n != "" {
			name = n
		}
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
	left := 0
	decls := f.Decls[:0]
	defer func() { f.Decls = decls }()
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			decls = append(decls, d)
			continue
		}
		specs := gd.Specs[:0]
		for _, sp := range gd.Specs {
			im := sp.(*ast.ImportSpec)
			if name, path, ok := s.importName(im); ok && s.st.imports[name] == path {
				continue
			}
			specs = append(specs, sp)
		}
		gd.Specs = specs
		left += len(specs)
		if len(specs) > 0 {
			decls = append(decls, gd)
		}
	}
	return left > 0
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

// recordDecls remembers what a cell declared (completion and inspection).
func (s *Session) recordDecls(f *ast.File, fset *token.FileSet) {
	src := func(n ast.Node) string {
		var b strings.Builder
		printer.Fprint(&b, fset, n)
		return b.String()
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				if n, ok := s.st.results["."+d.Name.Name]; !ok || n == 1 {
					s.st.results["."+d.Name.Name] = countResults(d.Type)
				}
				if tn := recvTypeName(d.Recv); tn != "" {
					ti := s.typeInfo(tn)
					ti.methods = append(ti.methods, d.Name.Name)
				}
				continue
			}
			s.st.names[d.Name.Name] = true
			s.st.results[d.Name.Name] = countResults(d.Type)
			body := d.Body
			d.Body = nil
			s.st.funcs[d.Name.Name] = src(d)
			if body != nil {
				d.Body = body
				s.st.funcSrc[d.Name.Name] = src(d)
			}
			d.Body = body
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					if strings.HasPrefix(sp.Name.Name, "_golem") {
						continue
					}
					s.st.names[sp.Name.Name] = true
					ti := &typeInfo{decl: "type " + src(sp)}
					if st, ok := sp.Type.(*ast.StructType); ok {
						var names []string
						for _, fl := range st.Fields.List {
							for _, n := range fl.Names {
								names = append(names, n.Name)
							}
							if len(fl.Names) == 0 {
								names = append(names, embeddedName(fl.Type))
							}
						}
						ti.fields = strings.Join(names, ",")
					}
					s.st.types[sp.Name.Name] = ti
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						s.st.names[n.Name] = true
					}
				}
			}
		}
	}
}

func (s *Session) typeInfo(name string) *typeInfo {
	ti, ok := s.st.types[name]
	if !ok {
		ti = &typeInfo{}
		s.st.types[name] = ti
	}
	return ti
}

func recvTypeName(fl *ast.FieldList) string {
	if fl == nil || len(fl.List) == 0 {
		return ""
	}
	t := fl.List[0].Type
	if st, ok := t.(*ast.StarExpr); ok {
		t = st.X
	}
	switch t := t.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return id.Name
		}
	case *ast.IndexListExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

func embeddedName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return embeddedName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// resultCount returns how many results a call returns when the callee is known
// (a package function, a function or method the user declared), else -1.
func (s *Session) resultCount(call *ast.CallExpr) int {
	switch fn := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		if n, ok := s.st.results[fn.Name]; ok {
			return n
		}
		if v, ok := s.globals()[fn.Name]; ok && v.IsValid() && v.Kind() == reflect.Func {
			return v.Type().NumOut()
		}
	case *ast.SelectorExpr:
		if pk, ok := fn.X.(*ast.Ident); ok {
			if path, ok := s.packagePath(pk.Name); ok {
				for _, syms := range s.symbols(path) {
					if v, ok := syms[fn.Sel.Name]; ok && v.IsValid() && v.Kind() == reflect.Func {
						return v.Type().NumOut()
					}
				}
			}
		}
		if n, ok := s.st.results["."+fn.Sel.Name]; ok {
			return n
		}
	}
	return -1
}

// countResults counts the results of a function type.
func countResults(ft *ast.FuncType) int {
	if ft.Results == nil {
		return 0
	}
	n := 0
	for _, f := range ft.Results.List {
		if len(f.Names) == 0 {
			n++
		} else {
			n += len(f.Names)
		}
	}
	return n
}

// Rewrite returns a whole Go file (package main) rewritten into the Go that an
// interpreter from NewInterpreter runs: min/max/clear, range over int and over
// functions, the generic slices/maps/cmp/iter functions and new strings iterators
// become calls of golem's shims, and every `go` statement recovers its panics. The
// function host passes deployed source through it before Eval. Positions are not
// preserved (the result is printed anew); errors name the construct and the line.
func Rewrite(src string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "source.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	imports := map[string]string{}
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			continue
		}
		name := pathpkg.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = p
	}
	m := &modernizer{
		fset: fset, names: map[string]class{}, results: map[string]class{}, shadow: map[string]bool{},
		made: map[ast.Node]bool{}, asFunc: map[*ast.BlockStmt]bool{},
		pkgs: func(name string) (string, bool) {
			if p, ok := imports[name]; ok {
				return p, true
			}
			p, ok := stdPackageByName()[name]
			return p, ok
		},
		pkgFunc: func(path, name string) (reflect.Value, bool) {
			for _, table := range []map[string]map[string]reflect.Value{stdlibSymbols(), symbols.Symbols} {
				if v, ok := table[path+"/"+exportedPackageName(path)][name]; ok {
					return v, true
				}
			}
			return reflect.Value{}, false
		},
	}
	m.refPkg = fileRefPkg(f, m)
	m.collect(f)
	m.compiledArgs(f, nil)
	addImports(f, m.imports)
	m.file(f)
	m.packageTuples(f, genericCallIn(f))
	if len(m.errs) > 0 {
		return "", fmt.Errorf("%s", strings.Join(m.errs, "\n"))
	}
	var b strings.Builder
	if err := printer.Fprint(&b, fset, f); err != nil {
		return "", fmt.Errorf("print rewritten source: %w", err)
	}
	return b.String(), nil
}
