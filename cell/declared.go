package cell

// What the session remembers of the cells' declarations: their names, types,
// functions and methods (completion, inspection, the result counts of a trailing
// call, the resolver's view of earlier cells through env.earlier), and the
// variables of compiled origin (compiledargs.go, redefine.go).

import (
	"go/ast"
	"go/printer"
	"go/token"
	"maps"
	"reflect"
	"strings"
)

// remember records what the cell declares (session).
func remember(u *unit, x *cellExec) error {
	s := x.s
	// variables defined from a compiled package's value, before and after this
	// cell (redefine.go sameOrigin)
	x.run.compiledBefore = maps.Clone(s.st.compiled)
	for name, t := range u.res.top.vars {
		if t.typed() && t.compiled {
			s.st.compiled[name] = t.t
		} else {
			delete(s.st.compiled, name)
		}
	}
	if u.decls == nil {
		return nil
	}
	s.recordDecls(u.decls, s.in.FileSet())
	for _, d := range u.decls.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Type.TypeParams != nil {
			s.st.generics[fd.Name.Name] = true
		}
	}
	return nil
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
				body := d.Body
				d.Body = nil
				s.st.methods[d.Name.Name] = src(d)
				d.Body = body
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
