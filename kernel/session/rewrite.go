package session

import (
	"go/ast"
	"go/printer"
	"go/token"
	pathpkg "path"
	"reflect"
	"strconv"
	"strings"
)

// rewriteDecls adapts a cell's package-level declarations before yaegi sees them.
func (s *Session) rewriteDecls(f *ast.File, chunks []chunk, src []byte) error {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Type.TypeParams != nil {
			s.st.generics[fd.Name.Name] = true
		}
	}
	return nil
}

// rewriteProgram adapts a whole-program cell.
func (s *Session) rewriteProgram(f *ast.File) error {
	return nil
}

// rewriteBlock adapts a cell's top-level statements before yaegi sees them.
func (s *Session) rewriteBlock(body *ast.BlockStmt) error {
	return nil
}

// captureTrailing turns a trailing expression statement E into
// `_golemOut = E; _golemRich = _golemBundle(_golemOut)` so its value can be shown.
// It returns an undo function (nil when there is no trailing expression).
func (s *Session) captureTrailing(body *ast.BlockStmt) (undo func()) {
	n := len(body.List)
	if n == 0 {
		return nil
	}
	es, ok := body.List[n-1].(*ast.ExprStmt)
	if !ok {
		return nil
	}
	if id, ok := es.X.(*ast.Ident); ok && id.Name == "nil" {
		return nil
	}
	if call, ok := ast.Unparen(es.X).(*ast.CallExpr); ok && s.resultCount(call) > 1 {
		return nil // yaegi would quietly keep the first of several results
	}
	pos := es.Pos()
	out := &ast.Ident{NamePos: pos, Name: "_golemOut"}
	assign := &ast.AssignStmt{Lhs: []ast.Expr{out}, TokPos: pos, Tok: token.ASSIGN, Rhs: []ast.Expr{es.X}}
	rich := &ast.AssignStmt{
		Lhs:    []ast.Expr{&ast.Ident{NamePos: pos, Name: "_golemRich"}},
		TokPos: pos, Tok: token.ASSIGN,
		Rhs: []ast.Expr{&ast.CallExpr{Fun: &ast.Ident{NamePos: pos, Name: "_golemBundle"}, Lparen: pos,
			Args: []ast.Expr{&ast.Ident{NamePos: pos, Name: "_golemOut"}}, Rparen: pos}},
	}
	orig := body.List
	body.List = append(append([]ast.Stmt{}, orig[:n-1]...), assign, rich)
	return func() { body.List = orig }
}

// recordImports remembers the package names a cell imported (for completion).
func (s *Session) recordImports(f *ast.File) {
	for _, im := range f.Imports {
		path, err := strconv.Unquote(im.Path.Value)
		if err != nil {
			continue
		}
		name := pathpkg.Base(path)
		if im.Name != nil {
			name = im.Name.Name
		} else if syms := s.in.Symbols(path); len(syms) > 0 {
			for k := range syms {
				if n := pathpkg.Base(k); k != path && n != "" {
					name = n
				}
			}
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
			d.Body = body
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					if strings.HasPrefix(sp.Name.Name, "_golem") || strings.Contains(sp.Name.Name, "_v") && s.st.typeVer[strings.Split(sp.Name.Name, "_v")[0]] > 1 {
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
	case *ast.SelectorExpr:
		if pk, ok := fn.X.(*ast.Ident); ok {
			if path, ok := s.packagePath(pk.Name); ok {
				for _, syms := range s.in.Symbols(path) {
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
